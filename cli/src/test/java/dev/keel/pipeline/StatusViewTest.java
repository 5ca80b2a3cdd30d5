package dev.keel.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.client.HealthStatus;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StatusViewTest {

  static final Instant NOW = Instant.parse("2026-11-22T09:00:00Z");

  @Test
  void theTableHasOneRowPerComponentWithStatusRestartsHeartbeatAndMetric() {
    List<String> lines =
        StatusView.table(
            "contract-events",
            "unhealthy",
            List.of(
                new ComponentStatus(
                    "ledger-source", "healthy", 0, NOW.minusSeconds(3), "records=1200"),
                new ComponentStatus("parquet-sink", "restarting", 2, null, null)),
            NOW);

    assertThat(lines)
        .containsExactly(
            "pipeline contract-events: unhealthy",
            "COMPONENT      STATUS      RESTARTS  LAST HEARTBEAT  METRIC",
            "ledger-source  healthy     0         3s ago          records=1200",
            "parquet-sink   restarting  2         -               -");
  }

  @Test
  void theKeyMetricIsTheFirstByName() {
    assertThat(StatusView.keyMetric(Map.of("rows", 2.0, "lag_seconds", 1.5)))
        .isEqualTo("lag_seconds=1.5");
    assertThat(StatusView.keyMetric(Map.of())).isNull();
  }

  @Test
  void withoutATerminalAComponentGetsALineOnlyWhenItsStatusOrRestartsChange() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    RunConsole console =
        new RunConsole(
            new PrintStream(bytes, true, StandardCharsets.UTF_8),
            false,
            Clock.fixed(NOW, ZoneOffset.UTC));

    console.status("p", "unhealthy", List.of(new ComponentStatus("a", "starting", 0, null, null)));
    console.status(
        "p", "healthy", List.of(new ComponentStatus("a", "healthy", 0, NOW, "records=1")));
    console.status(
        "p",
        "healthy",
        List.of(new ComponentStatus("a", "healthy", 0, NOW.plusSeconds(1), "records=2")));
    console.output("a", "hello");
    console.status(
        "p", "unhealthy", List.of(new ComponentStatus("a", "restarting", 1, null, null)));

    assertThat(bytes.toString(StandardCharsets.UTF_8).lines())
        .containsExactly(
            "status a starting restarts=0",
            "status a healthy restarts=0 records=1",
            "a | hello",
            "status a restarting restarts=1");
  }

  @Test
  void onATerminalTheTableIsRedrawnInPlaceBelowTheOutput() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    RunConsole console =
        new RunConsole(
            new PrintStream(bytes, true, StandardCharsets.UTF_8),
            true,
            Clock.fixed(NOW, ZoneOffset.UTC));

    console.status("p", "healthy", List.of(new ComponentStatus("a", "healthy", 0, NOW, null)));
    console.output("a", "hello");

    String up3 = "\u001b[3F\u001b[J";
    String table =
        "pipeline p: healthy\n"
            + "COMPONENT  STATUS   RESTARTS  LAST HEARTBEAT  METRIC\n"
            + "a          healthy  0         0s ago          -\n";
    assertThat(bytes.toString(StandardCharsets.UTF_8))
        .isEqualTo(table + up3 + "a | hello\n" + table);
  }

  @Test
  void thePipelineIsAsHealthyAsItsWorstComponent() {
    assertThat(PipelineRunner.worst(List.of(row("healthy"), row("healthy"))))
        .isEqualTo(HealthStatus.HEALTHY);
    assertThat(PipelineRunner.worst(List.of(row("healthy"), row("degraded"))))
        .isEqualTo(HealthStatus.DEGRADED);
    assertThat(PipelineRunner.worst(List.of(row("degraded"), row("stale"))))
        .isEqualTo(HealthStatus.UNHEALTHY);
    assertThat(PipelineRunner.worst(List.of(row("healthy"), row("restarting"))))
        .isEqualTo(HealthStatus.UNHEALTHY);
  }

  @Test
  void restartsBackOffExponentiallyUpToThirtySeconds() {
    assertThat(
            List.of(1, 2, 3, 4, 5, 6, 7, 50).stream()
                .map(PipelineRunner::backoff)
                .map(Duration::toSeconds))
        .containsExactly(1L, 2L, 4L, 8L, 16L, 30L, 30L, 30L);
  }

  @Test
  void theTenantSlugIsADnsLabelMadeFromThePipelineName() {
    assertThat(PipelineTenant.slug("contract-events")).isEqualTo("pipeline-contract-events");
    assertThat(PipelineTenant.slug("Ledger.Events_v2")).isEqualTo("pipeline-ledger-events-v2");
    assertThat(PipelineTenant.slug("x".repeat(100))).hasSize(63);
  }

  private static ComponentStatus row(String state) {
    return new ComponentStatus("c", state, 0, null, null);
  }
}
