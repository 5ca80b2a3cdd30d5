package dev.keel.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Bad pipeline files and options: every mistake on stderr, exit code 2, and nothing started or
 * created.
 */
class RunCommandTest {

  @TempDir Path dir;

  private final ByteArrayOutputStream err = new ByteArrayOutputStream();
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();

  @Test
  void aFileWithMistakesListsThemAllAndStartsNothing() throws Exception {
    Path file = dir.resolve("pipeline.yaml");
    Files.writeString(
        file,
        """
        apiVersion: keel/v1
        kind: Pipeline
        metadata: {name: p}
        spec:
          sources: [{id: a, command: ["touch", "started"]}]
          sinks: [{id: b, command: [x], dependsOn: [zzz], restart: always}]
        """);

    int code = run(file.toString(), "--control-plane-port", "0");

    assertThat(code).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8).lines())
        .containsExactly(
            file + ":6: spec.sinks[0].restart: must be one of never, on-failure",
            file + ":6: spec.sinks[0].dependsOn[0]: unknown component 'zzz'",
            "keel: 2 problem(s) in " + file + "; nothing was started");
    assertThat(out.toString(StandardCharsets.UTF_8)).isEmpty();
    try (var files = Files.list(dir)) {
      assertThat(files).as("no .keel, no logs, no component ran").containsExactly(file);
    }
  }

  @Test
  void aMissingFileIsOneLine() {
    int code = run(dir.resolve("nope.yaml").toString());

    assertThat(code).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8).lines())
        .containsExactly(
            "keel: no pipeline file "
                + dir.resolve("nope.yaml")
                + " (keel run [FILE], default pipeline.yaml)");
  }

  @Test
  void aBadPortIsOneLine() {
    int code = run(dir.resolve("nope.yaml").toString(), "--control-plane-port", "70000");

    assertThat(code).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8).lines())
        .containsExactly("keel: --control-plane-port: 70000 is not a port number (0-65535)");
  }

  private int run(String... args) {
    RunCommand command = new RunCommand();
    command.out = new PrintStream(out, true, StandardCharsets.UTF_8);
    command.err = new PrintStream(err, true, StandardCharsets.UTF_8);
    return new CommandLine(command).execute(args);
  }
}
