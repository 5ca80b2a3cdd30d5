package dev.keel.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.keel.bench.HeartbeatSummary.CpuUse;
import dev.keel.bench.HeartbeatSummary.JournalGrowth;
import dev.keel.bench.HeartbeatSummary.Registration;
import dev.keel.bench.HeartbeatSummary.StaleDetection;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.ConnectException;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

/** The tally of the measured window and the report built from it, with made-up figures. */
class HeartbeatSummaryTest {

  private static final long MS = 1_000_000L;
  private static final long WINDOW_START = 1_000 * MS;
  private static final long WINDOW_END = 11_000 * MS; // 10 s

  private final HeartbeatOptions options =
      HeartbeatOptions.parse(
          new String[] {
            "--token",
            "t",
            "--services",
            "4",
            "--interval",
            "PT2S",
            "--duration",
            "PT10S",
            "--ttl",
            "5",
            "--stale-probe",
            "2",
            "--node-pid",
            "99",
            "--database-url",
            "jdbc:postgresql://127.0.0.1:5432/b"
          },
          Map.of());

  /** Slots 10..29 are measured: 20 heartbeats. */
  private HeartbeatTally tally() {
    return new HeartbeatTally(10, 30, WINDOW_START, WINDOW_END);
  }

  @Test
  void theTallyCountsOnlyTheMeasuredSlotsAndBothLatencies() {
    HeartbeatTally tally = tally();
    long due = 2_000 * MS;
    // A warm-up slot answered inside the window counts towards the sustained rate only.
    tally.sent(9, 0);
    tally.answered(9, 200, due, due, due + 3 * MS);
    for (long slot = 10; slot < 30; slot++) {
      long lag = slot == 10 ? 40 * MS : 1 * MS; // slot 10 waited 40 ms for a connection
      tally.sent(slot, lag);
      if (slot == 29) {
        tally.failed(slot, "timeout");
      } else if (slot == 28) {
        tally.answered(slot, 503, due, due + lag, due + lag + 2 * MS);
      } else {
        tally.answered(slot, 200, due, due + lag, due + lag + 5 * MS);
      }
    }
    tally.sent(30, 0); // after the window: not counted
    tally.answered(30, 200, WINDOW_END + MS, WINDOW_END + MS, WINDOW_END + 2 * MS);

    assertThat(tally.offered()).isEqualTo(20);
    assertThat(tally.sent()).isEqualTo(20);
    assertThat(tally.ok()).isEqualTo(18);
    assertThat(tally.okInWindow()).isEqualTo(19);
    assertThat(tally.done()).isEqualTo(20);
    assertThat(tally.late()).isEqualTo(1);
    assertThat(tally.maxSendLagNanos()).isEqualTo(40 * MS);
    assertThat(tally.nonSuccess()).containsExactly(Map.entry(503, 1L));
    assertThat(tally.errors()).containsExactly(Map.entry("timeout", 1L));
    assertThat(tally.sentLatencyMicros().count()).isEqualTo(18);
    assertThat(tally.sentLatencyMicros().max()).isEqualTo(5_000);
    assertThat(tally.dueLatencyMicros().max()).isEqualTo(45_000);
    assertThat(tally.dueLatencyMicros().value(50)).isEqualTo(6_000);
  }

  @Test
  void aCleanRunReportsItsFiguresAndPasses() {
    HeartbeatTally tally = tally();
    for (long slot = 10; slot < 30; slot++) {
      tally.sent(slot, 0);
      tally.answered(slot, 200, 2_000 * MS, 2_000 * MS, 2_004 * MS);
    }
    HeartbeatSummary summary =
        summary(
            tally,
            new JournalGrowth("events", "rows", 40, 40, Map.of()),
            new StaleDetection(2, Percentiles.of(new long[] {120_000, 300_000}), 0, Map.of()));

    JsonNode r = summary.json();

    assertThat(summary.problems()).isEmpty();
    assertThat(summary.exitCode()).isZero();
    assertThat(r.get("bench").asText()).isEqualTo("heartbeat-load");
    assertThat(r.get("machine").get("availableProcessors").asInt()).isPositive();
    assertThat(r.get("parameters").get("services").asInt()).isEqualTo(4);
    assertThat(r.get("parameters").get("interval").asText()).isEqualTo("PT2S");
    assertThat(r.get("parameters").get("nodePid").asLong()).isEqualTo(99);
    assertThat(r.get("registration").get("perSecond").asDouble()).isEqualTo(8.0); // 4 in 0.5 s
    assertThat(r.get("registration").get("retried").get("answered 503").asLong()).isEqualTo(2);
    assertThat(r.get("measuredSeconds").asDouble()).isEqualTo(10.0);
    assertThat(r.get("offeredPerSecond").asDouble()).isEqualTo(2.0);
    assertThat(r.get("heartbeatsPerSecond").asDouble()).isEqualTo(2.0);
    assertThat(r.get("ok").asLong()).isEqualTo(20);
    assertThat(r.get("unanswered").asLong()).isZero();
    assertThat(r.get("latencyMs").get("sent").get("p99").asDouble()).isEqualTo(4.0);
    // node 500 ticks, generator 100, machine 1000 busy of 2000, at 100 ticks/s over 10 s
    JsonNode cpu = r.get("cpu");
    assertThat(cpu.get("nodePercentOfOneCore").asDouble()).isEqualTo(50.0);
    assertThat(cpu.get("generatorPercentOfOneCore").asDouble()).isEqualTo(10.0);
    assertThat(cpu.get("machineBusyPercent").asDouble()).isEqualTo(50.0);
    assertThat(cpu.get("otherProcessesPercentOfOneCore").asDouble()).isEqualTo(40.0);
    assertThat(r.get("journal").get("growth").asLong()).isZero();
    JsonNode stale = r.get("staleDetection");
    assertThat(stale.get("probed").asInt()).isEqualTo(2);
    assertThat(stale.get("delayBeyondTtlMs").get("p50").asDouble()).isEqualTo(120.0);
    assertThat(stale.get("delayBeyondTtlMs").get("max").asDouble()).isEqualTo(300.0);
    assertThat(r.get("problems").isEmpty()).isTrue();

    String text = print(r);
    assertThat(text)
        .contains(
            "(8/s, not measured), heartbeats on time 1.5 s later, retried {\"answered 503\":2}")
        .contains("2.0 heartbeats/s answered 200")
        .contains("node 50.0 %")
        .contains("+0 events");
    assertThat(text.strip()).endsWith("result       ok");
  }

  @Test
  void failedHeartbeatsJournalWritesAndServicesNeverStaleFailTheRun() {
    HeartbeatTally tally = tally();
    tally.sent(10, 0);
    tally.answered(10, 404, 0, 0, MS);
    HeartbeatSummary summary =
        summary(
            tally,
            new JournalGrowth(
                "events",
                "rows",
                40,
                43,
                Map.of("dev.keel.registry.service.RegisteredService$StatusChanged", 3L)),
            new StaleDetection(2, Percentiles.of(new long[] {100_000}), 1, Map.of("timeout", 1L)));

    JsonNode r = summary.json();

    assertThat(summary.exitCode()).isEqualTo(1);
    assertThat(r.get("unanswered").asLong()).isEqualTo(19);
    assertThat(r.get("nonSuccessResponses").get("404").asLong()).isEqualTo(1);
    assertThat(
            r.get("journal")
                .get("newEventTypes")
                .get("dev.keel.registry.service.RegisteredService$StatusChanged")
                .asLong())
        .isEqualTo(3);
    assertThat(r.get("problems"))
        .extracting(JsonNode::asText)
        .containsExactly(
            "20 of 20 measured heartbeats were not answered 200",
            "the journal grew by 3 events during the measured phase"
                + " {dev.keel.registry.service.RegisteredService$StatusChanged=3}",
            "1 of 2 silenced services were never seen stale");
    assertThat(print(r)).contains("FAILED: 20 of 20");
  }

  @Test
  void anH2FileThatGrowsIsAFigureNotAFailureAndMissingPartsAreNull() {
    HeartbeatTally tally = new HeartbeatTally(0, 0, WINDOW_START, WINDOW_END);
    HeartbeatSummary summary =
        new HeartbeatSummary(
            "bench-x",
            options,
            new Registration(4, 500 * MS, Map.of(), 0),
            WINDOW_END - WINDOW_START,
            tally,
            new CpuUse(100, OptionalLong.empty(), OptionalLong.of(100), Optional.empty()),
            Optional.of(new JournalGrowth("bytes", "file", 4096, 8192, Map.of())),
            Optional.empty(),
            4,
            0);

    JsonNode r = summary.json();

    assertThat(summary.problems()).isEmpty();
    assertThat(r.get("cpu").get("nodePercentOfOneCore").isNull()).isTrue();
    assertThat(r.get("cpu").get("otherProcessesPercentOfOneCore").isNull()).isTrue();
    assertThat(r.get("latencyMs").get("sent").get("p50").isNull()).isTrue();
    assertThat(r.get("staleDetection").isNull()).isTrue();
    assertThat(print(r))
        .contains("+4096 bytes")
        .contains("stale        not probed")
        .contains("node -");
  }

  @Test
  void probedServicesAreSpreadAndErrorsGetShortKinds() {
    assertThat(HeartbeatLoad.probeIndexes(100, 4)).containsExactly(0, 25, 50, 75);
    assertThat(HeartbeatLoad.probeIndexes(3, 3)).containsExactly(0, 1, 2);
    assertThat(HeartbeatLoad.probeIndexes(10, 0)).isEmpty();

    assertThat(HeartbeatLoad.errorKind(new CompletionException(new HttpTimeoutException("slow"))))
        .isEqualTo("timeout");
    assertThat(HeartbeatLoad.errorKind(new ConnectException("refused")))
        .isEqualTo("connection refused");
    assertThat(HeartbeatLoad.errorKind(new java.io.IOException("reset")))
        .isEqualTo("I/O error (IOException)");
  }

  private HeartbeatSummary summary(
      HeartbeatTally tally, JournalGrowth journal, StaleDetection stale) {
    return new HeartbeatSummary(
        "bench-x",
        options,
        new Registration(4, 500 * MS, Map.of("answered 503", 2L), 1_500 * MS),
        WINDOW_END - WINDOW_START,
        tally,
        new CpuUse(
            100,
            OptionalLong.of(500),
            OptionalLong.of(100),
            Optional.of(new ProcStat.MachineTicks(1000, 2000))),
        Optional.of(journal),
        Optional.of(stale),
        4,
        0);
  }

  private static String print(JsonNode report) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    HeartbeatSummary.print(new PrintStream(out, true, StandardCharsets.UTF_8), report);
    return out.toString(StandardCharsets.UTF_8);
  }
}
