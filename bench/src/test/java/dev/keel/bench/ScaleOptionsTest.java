package dev.keel.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class ScaleOptionsTest {

  @Test
  void defaultsAreTheDocumentedOnes_andFitTwoCores() {
    ScaleOptions o = ScaleOptions.parse(new String[0], 2);

    assertThat(o.maxNodes()).isEqualTo(4);
    assertThat(o.nodeCpu()).isEqualTo(0.3);
    assertThat(o.postgresCpu()).isEqualTo(0.5);
    assertThat(o.loadCpu()).isEqualTo(0.3);
    assertThat(o.maxNodes() * o.nodeCpu() + o.postgresCpu() + o.loadCpu()).isLessThanOrEqualTo(2.0);
    assertThat(o.workflowsPerNode()).isEqualTo(3000);
    assertThat(o.joinDeadline()).isEqualTo(Duration.ofSeconds(150));
    assertThat(o.routeToOwner()).isFalse();
  }

  @Test
  void shortIsTwoNodesWithShortPhasesAndNoHeartbeats() {
    ScaleOptions o = ScaleOptions.parse(new String[] {"--short"}, 2);

    assertThat(o.brief()).isTrue();
    assertThat(o.maxNodes()).isEqualTo(2);
    assertThat(o.workflowsPerNode()).isEqualTo(200);
    assertThat(o.nodeCpu()).isEqualTo(0.5);
    assertThat(o.maxNodes() * o.nodeCpu() + o.postgresCpu() + o.loadCpu()).isLessThanOrEqualTo(2.0);
    assertThat(o.heartbeatsPerNode()).isZero();
    assertThat(o.joinDeadline()).isEqualTo(Duration.ofSeconds(25));
  }

  @Test
  void quotasThatDoNotFitTheMachineAreRefused_namingTheSum() {
    assertThatThrownBy(() -> ScaleOptions.parse(new String[] {"--node-cpu", "0.4"}, 2))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("4 x 0.40 + 0.50 + 0.30 = 2.40 cores")
        .hasMessageContaining("2 cores");
    assertThat(ScaleOptions.parse(new String[] {"--node-cpu", "0.4"}, 4).nodeCpu()).isEqualTo(0.4);
  }

  @Test
  void badValuesAreRefused() {
    assertThatThrownBy(() -> ScaleOptions.parse(new String[] {"--nodes", "1"}, 2))
        .hasMessageContaining("--nodes");
    assertThatThrownBy(() -> ScaleOptions.parse(new String[] {"--node-cpu", "0"}, 2))
        .hasMessageContaining("--node-cpu");
    assertThatThrownBy(() -> ScaleOptions.parse(new String[] {"--join-load", "1.5"}, 2))
        .hasMessageContaining("--join-load");
    assertThatThrownBy(() -> ScaleOptions.parse(new String[] {"--heartbeat-duration", "PT1S"}, 2))
        .hasMessageContaining("PT5S");
    assertThatThrownBy(() -> ScaleOptions.parse(new String[] {"--bogus", "1"}, 2))
        .hasMessageContaining("--bogus");
  }
}
