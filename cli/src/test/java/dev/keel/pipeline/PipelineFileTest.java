package dev.keel.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keel.pipeline.PipelineSpec.Component;
import dev.keel.pipeline.PipelineSpec.RestartPolicy;
import dev.keel.pipeline.PipelineSpec.Role;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PipelineFileTest {

  /** The issue's example, one line per field so that line numbers are easy to read off. */
  static final String EXAMPLE =
      """
      apiVersion: keel/v1
      kind: Pipeline
      metadata: {name: contract-events}
      spec:
        sources:    [{id: ledger-source, command: ["./bin/source", "--from", "latest"], env: {NETWORK: testnet}}]
        processors: [{id: event-filter, command: ["java", "-jar", "filter.jar"], dependsOn: [ledger-source]}]
        sinks:      [{id: parquet-sink, command: ["./bin/sink"], restart: on-failure, registerTimeoutSeconds: 30}]
      """;

  @Test
  void theIssuesExampleReadsIntoComponentsInStartOrder() {
    PipelineSpec spec = PipelineFile.parse(EXAMPLE);

    assertThat(spec.name()).isEqualTo("contract-events");
    assertThat(spec.components())
        .containsExactly(
            new Component(
                "ledger-source",
                Role.SOURCE,
                List.of("./bin/source", "--from", "latest"),
                Map.of("NETWORK", "testnet"),
                List.of(),
                RestartPolicy.NEVER,
                Duration.ofSeconds(60)),
            new Component(
                "event-filter",
                Role.PROCESSOR,
                List.of("java", "-jar", "filter.jar"),
                Map.of(),
                List.of("ledger-source"),
                RestartPolicy.NEVER,
                Duration.ofSeconds(60)),
            new Component(
                "parquet-sink",
                Role.SINK,
                List.of("./bin/sink"),
                Map.of(),
                List.of(),
                RestartPolicy.ON_FAILURE,
                Duration.ofSeconds(30)));
  }

  @Test
  void dependsOnMovesAComponentAfterItsDependencyWithinItsRoleAndAcrossRoles() {
    PipelineSpec spec =
        PipelineFile.parse(
            """
            apiVersion: keel/v1
            kind: Pipeline
            metadata: {name: p}
            spec:
              sinks: [{id: s, command: [x]}]
              processors:
                - {id: enrich, command: [x], dependsOn: [filter]}
                - {id: filter, command: [x]}
              sources:
                - {id: late-source, command: [x], dependsOn: [s]}
                - {id: src, command: [x]}
            """);

    assertThat(spec.components())
        .extracting(Component::id)
        .containsExactly("s", "late-source", "src", "filter", "enrich");
  }

  @Test
  void eachMistakeIsReportedWithItsLineAndPathAllAtOnce() {
    String file =
        """
        apiVersion: keel/v1
        kind: Pipeline
        metadata: {name: contract-events}
        spec:
          sources:
            - id: ledger-source
              command: ["./bin/source"]
              colour: blue
          processors:
            - id: ledger-source
              command: ["java"]
          sinks:
            - id: parquet-sink
              restart: sometimes
              registerTimeoutSeconds: soon
            - id: empty
              command: []
        """;

    assertThat(problems(file))
        .containsExactly(
            "pipeline.yaml:8: spec.sources[0].colour: unknown key; expected one of command,"
                + " dependsOn, env, id, registerTimeoutSeconds, restart",
            "pipeline.yaml:10: spec.processors[0].id: duplicate id 'ledger-source', already used by"
                + " spec.sources[0]",
            "pipeline.yaml:13: spec.sinks[0].command: is required",
            "pipeline.yaml:14: spec.sinks[0].restart: must be one of never, on-failure",
            "pipeline.yaml:15: spec.sinks[0].registerTimeoutSeconds: must be a whole number of"
                + " seconds from 1 to 3600, got 'soon'",
            "pipeline.yaml:17: spec.sinks[1].command: must not be empty: the program and its"
                + " arguments, e.g. [\"./bin/source\", \"--from\", \"latest\"]");
  }

  @Test
  void anUnknownDependencyIsReportedAtTheDependsOnEntry() {
    assertThat(
            problems(
                """
                apiVersion: keel/v1
                kind: Pipeline
                metadata: {name: p}
                spec:
                  sources: [{id: a, command: [x]}]
                  sinks:
                    - id: b
                      command: [x]
                      dependsOn: [a, nope]
                """))
        .containsExactly("pipeline.yaml:9: spec.sinks[0].dependsOn[1]: unknown component 'nope'");
  }

  @Test
  void aDependencyCycleIsReportedWithTheWholeCycle() {
    assertThat(
            problems(
                """
                apiVersion: keel/v1
                kind: Pipeline
                metadata: {name: p}
                spec:
                  processors:
                    - {id: a, command: [x], dependsOn: [c]}
                    - {id: b, command: [x], dependsOn: [a]}
                    - {id: c, command: [x], dependsOn: [b]}
                """))
        .containsExactly(
            "pipeline.yaml:6: spec.processors[0].dependsOn[0]: dependency cycle: a -> c -> b -> a");
  }

  @Test
  void aComponentDependingOnItselfIsAMistake() {
    assertThat(
            problems(
                """
                apiVersion: keel/v1
                kind: Pipeline
                metadata: {name: p}
                spec:
                  sources: [{id: a, command: [x], dependsOn: [a]}]
                """))
        .containsExactly(
            "pipeline.yaml:5: spec.sources[0].dependsOn[0]: a component cannot depend on itself");
  }

  @Test
  void theHeaderIsChecked() {
    assertThat(
            problems(
                """
                apiVersion: keel/v2
                kind: Pipeline
                metadata: {name: "bad name!"}
                spec: {sources: [{id: a, command: [x]}], extra: 1}
                """))
        .containsExactly(
            "pipeline.yaml:1: apiVersion: must be keel/v1, got 'keel/v2'",
            "pipeline.yaml:3: metadata.name: 'bad name!' is not a valid id: letters, digits and . _"
                + " : - (at most 128), starting with a letter or digit",
            "pipeline.yaml:4: spec.extra: unknown key; expected one of processors, sinks, sources");
    assertThat(problems("kind: Pipeline\n"))
        .containsExactly(
            "pipeline.yaml:1: apiVersion: is required and must be keel/v1",
            "pipeline.yaml:1: metadata: is required",
            "pipeline.yaml:1: spec: is required");
  }

  @Test
  void wrongShapesAndVariablesAreMistakes() {
    assertThat(
            problems(
                """
                apiVersion: keel/v1
                kind: Pipeline
                metadata: {name: p}
                spec:
                  sources:
                    - id: a
                      command: ./bin/source --from latest
                      env: {KEEL_TOKEN: mine, "1X": y}
                  sinks: {id: b}
                """))
        .containsExactly(
            "pipeline.yaml:7: spec.sources[0].command: must be a list, e.g. [a, b]",
            "pipeline.yaml:8: spec.sources[0].env.KEEL_TOKEN: KEEL_* variables are set by keel run",
            "pipeline.yaml:8: spec.sources[0].env: '1X' is not an environment variable name",
            "pipeline.yaml:9: spec.sinks: must be a list of components");
  }

  @Test
  void thePipelineNameMustDifferFromEveryComponentId() {
    assertThat(
            problems(
                """
                apiVersion: keel/v1
                kind: Pipeline
                metadata: {name: a}
                spec: {sources: [{id: a, command: [x]}]}
                """))
        .containsExactly(
            "pipeline.yaml:3: metadata.name: 'a' is also a component id (spec.sources[0]); the"
                + " pipeline registers as a service of its own");
  }

  @Test
  void notYamlAndNoComponentsAreReportedToo() {
    assertThat(problems("apiVersion: keel/v1\nkind: [Pipeline\n"))
        .singleElement()
        .asString()
        .startsWith("pipeline.yaml:3: not valid YAML: ");
    assertThat(problems("- just\n- a list\n"))
        .containsExactly(
            "pipeline.yaml:1: must be a mapping with apiVersion, kind, metadata and spec");
    assertThat(
            problems(
                "apiVersion: keel/v1\nkind: Pipeline\nmetadata: {name: p}\nspec: {sources: []}\n"))
        .containsExactly(
            "pipeline.yaml:4: spec: has no components: list some under sources, processors or"
                + " sinks");
  }

  @Test
  void unknownDependenciesAndCyclesAreReportedWithTheOtherMistakesInFileOrder() {
    assertThat(
            problems(
                """
                apiVersion: keel/v1
                kind: Pipeline
                metadata: {name: p}
                spec:
                  sources:
                    - {id: a, command: ["true"], dependsOn: [c]}
                  processors:
                    - {id: b, command: ["x"], dependsOn: [zz], colour: red}
                  sinks:
                    - {id: c, command: ["y"], dependsOn: [a], restart: sometimes}
                """))
        .containsExactly(
            "pipeline.yaml:6: spec.sources[0].dependsOn[0]: dependency cycle: a -> c -> a",
            "pipeline.yaml:8: spec.processors[0].colour: unknown key; expected one of command,"
                + " dependsOn, env, id, registerTimeoutSeconds, restart",
            "pipeline.yaml:8: spec.processors[0].dependsOn[0]: unknown component 'zz'",
            "pipeline.yaml:10: spec.sinks[0].restart: must be one of never, on-failure");
  }

  private static List<String> problems(String text) {
    try {
      PipelineFile.parse(text);
    } catch (PipelineFile.Invalid invalid) {
      return invalid.problems().stream().map(p -> p.format("pipeline.yaml")).toList();
    }
    throw new AssertionError("the file was accepted");
  }

  @Test
  void aFileWithMistakesIsNeverASpec() {
    assertThatThrownBy(() -> PipelineFile.parse("apiVersion: keel/v1\n"))
        .isInstanceOf(PipelineFile.Invalid.class);
  }
}
