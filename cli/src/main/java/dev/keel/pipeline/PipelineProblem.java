package dev.keel.pipeline;

/**
 * One mistake in a pipeline file: the line (1-based) and path of the offending field, and what is
 * wrong.
 */
public record PipelineProblem(int line, String path, String message) {

  /** {@code pipeline.yaml:12: spec.sinks[0].restart: must be one of never, on-failure}. */
  public String format(String fileName) {
    return fileName + ":" + line + ": " + (path.isEmpty() ? "" : path + ": ") + message;
  }
}
