package dev.keel.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.keel.persistence.KeelTracing;
import java.util.Map;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.Test;

/** {@code --otel}: off unless asked for, and a value that is not a boolean stops the start. */
class NodeTracingTest {

  private static Config config(Map<String, String> overrides) {
    return ConfigFactory.parseMap(overrides).withFallback(ConfigFactory.load()).resolve();
  }

  private static boolean installed(Map<String, String> overrides) {
    Config config = config(overrides);
    ActorTestKit kit = ActorTestKit.create("NodeTracingTest");
    try (NodeTracing tracing = NodeTracing.fromConfig(config, NodeSettings.fromConfig(config))) {
      tracing.install(kit.system());
      return KeelTracing.get(kit.system()).enabled();
    } finally {
      kit.shutdownTestKit();
    }
  }

  @Test
  void tracesAreOffByDefaultAndOnWhenAskedFor() {
    assertThat(installed(Map.of())).isFalse();
    assertThat(
            installed(
                Map.of(
                    "keel.tracing.enabled", "true",
                    // Nothing listens there; nothing is sent before a span ends.
                    "keel.tracing.sdk-overrides.\"otel.exporter.otlp.endpoint\"",
                        "http://127.0.0.1:9")))
        .isTrue();
  }

  @Test
  void aValueThatIsNotABooleanNamesKeelOtel() {
    Config config = config(Map.of("keel.tracing.enabled", "maybe"));
    NodeSettings settings = NodeSettings.fromConfig(config);

    assertThatThrownBy(() -> NodeTracing.fromConfig(config, settings))
        .isInstanceOfSatisfying(
            ConfigProblem.class, p -> assertThat(p.setting()).isEqualTo("KEEL_OTEL"));
  }
}
