package dev.keel.pipeline;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A validated pipeline file: its name and its components in start order (sources, processors,
 * sinks, each after everything it {@code dependsOn}). Built only by {@link PipelineFile}.
 */
public record PipelineSpec(String name, List<Component> components) {

  public PipelineSpec {
    components = List.copyOf(components);
  }

  /** Where a component sits in the pipeline; the section of the file it is listed in. */
  public enum Role {
    SOURCE("sources"),
    PROCESSOR("processors"),
    SINK("sinks");

    private final String section;

    Role(String section) {
      this.section = section;
    }

    /** The key of the file's section, such as {@code sources}. */
    public String section() {
      return section;
    }

    public String word() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** What happens when a component's process ends on its own. */
  public enum RestartPolicy {
    /** The pipeline stops (the default). */
    NEVER("never"),
    /**
     * A non-zero exit starts the component again, with growing backoff; an exit 0 leaves it
     * finished.
     */
    ON_FAILURE("on-failure");

    private final String word;

    RestartPolicy(String word) {
      this.word = word;
    }

    public String word() {
      return word;
    }
  }

  /** One process of the pipeline; {@code command} runs in the pipeline file's folder. */
  public record Component(
      String id,
      Role role,
      List<String> command,
      Map<String, String> env,
      List<String> dependsOn,
      RestartPolicy restart,
      Duration registerTimeout) {
    public Component {
      command = List.copyOf(command);
      env = Map.copyOf(env);
      dependsOn = List.copyOf(dependsOn);
    }
  }
}
