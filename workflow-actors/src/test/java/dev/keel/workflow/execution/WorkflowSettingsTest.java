package dev.keel.workflow.execution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import org.junit.jupiter.api.Test;

class WorkflowSettingsTest {

  private static WorkflowSettings read(String overrides) {
    Config config =
        ConfigFactory.parseString(overrides)
            .withFallback(ConfigFactory.defaultReference())
            .resolve();
    return WorkflowSettings.fromConfig(config);
  }

  @Test
  void zeroSizesTheAttemptSlotsForTheMachineWithACeiling() {
    assertThat(WorkflowSettings.defaultMaxConcurrent(1)).isEqualTo(64);
    assertThat(WorkflowSettings.defaultMaxConcurrent(2)).isEqualTo(128);
    assertThat(WorkflowSettings.defaultMaxConcurrent(64)).isEqualTo(1024);
    assertThat(read("keel.workflows.max-concurrent = 0").maxConcurrent())
        .isEqualTo(
            WorkflowSettings.defaultMaxConcurrent(Runtime.getRuntime().availableProcessors()));
  }

  @Test
  void anExplicitLimitIsKeptAsGiven() {
    assertThat(read("keel.workflows.max-concurrent = 3").maxConcurrent()).isEqualTo(3);
    assertThat(
            read("keel.workflows.max-concurrent-per-workflow { \"http-sequence\" = 4 }")
                .maxConcurrentPerWorkflow())
        .containsEntry("http-sequence", 4);
  }

  @Test
  void aPollIntervalNotShorterThanTheLookaheadIsRefused() {
    assertThatThrownBy(
            () -> read("keel.workflows { wakeup-poll-interval = 30s, wakeup-lookahead = 30s }"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("wakeup-poll-interval");
  }
}
