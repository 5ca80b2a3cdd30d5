package dev.keel.client;

import static dev.keel.client.FakeKeel.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.client.FakeKeel.Answer;
import dev.keel.client.FakeKeel.Request;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The background heartbeats against {@link FakeKeel}: they beat, register again after a 404,
 * survive Keel being down or not ready, report a throwing provider as unhealthy, log state changes
 * only, and stop (and deregister) on close. No assertion depends on timing beyond generous awaits.
 */
class HeartbeatLoopTest {

  private static final Duration FAST = Duration.ofMillis(100);
  private static final ServiceInfo SERVICE =
      ServiceInfo.builder("pipe-1").name("Pipe").type("pipeline").ttlSeconds(5).build();

  private FakeKeel keel;
  private LogLines log;

  @BeforeEach
  void setUp() throws Exception {
    keel = new FakeKeel();
    log = new LogLines();
  }

  @AfterEach
  void tearDown() {
    log.close();
    keel.close();
  }

  private long beats() {
    return keel.count(
        r -> r.method().equals("POST") && r.path().equals("/api/v1/services/pipe-1/heartbeat"));
  }

  private long registrations() {
    return keel.count(r -> r.method().equals("PUT") && r.path().equals("/api/v1/services/pipe-1"));
  }

  @Test
  void beatsWithMetricsAndHealth_thenCloseStopsTheThreadAndDeregisters() throws Exception {
    KeelClient client = keel.client().build();
    client.register(SERVICE);
    client.startHeartbeats(
        FAST,
        () -> Map.of("lag", 0.5),
        () -> HealthCheck.of(HealthStatus.DEGRADED, Map.of("db", "slow")));
    Thread thread = client.heartbeatThread().orElseThrow();
    assertThat(thread.getName()).isEqualTo("keel-heartbeat-pipe-1");
    assertThat(thread.isDaemon()).isTrue();

    await("three heartbeats", () -> beats() >= 3);
    Request beat = keel.requests("POST", "/api/v1/services/pipe-1/heartbeat").get(0);
    assertThat(beat.header("Authorization")).isEqualTo("Bearer " + FakeKeel.TOKEN);
    assertThat(beat.json().get("status").asText()).isEqualTo("degraded");
    assertThat(beat.json().get("metrics").get("lag").asDouble()).isEqualTo(0.5);
    assertThat(beat.json().get("details").get("db").asText()).isEqualTo("slow");
    assertThat(log.containing("heartbeating service 'pipe-1'")).hasSize(1);

    client.close();
    assertThat(thread.isAlive()).isFalse();
    assertThat(keel.requests("DELETE", "/api/v1/services/pipe-1")).hasSize(1);
    assertThat(keel.services).doesNotContainKey("pipe-1");
    long after = beats();
    Thread.sleep(300);
    assertThat(beats()).as("no beat after close").isEqualTo(after);
    assertThat(log.all()).doesNotContain(FakeKeel.TOKEN);
  }

  @Test
  void closeWithoutDeregistration_whenAskedSo() throws Exception {
    try (KeelClient client = keel.client().deregisterOnClose(false).build()) {
      client.register(SERVICE);
      client.startHeartbeats(FAST, null, null);
      await("a heartbeat", () -> beats() >= 1);
    }
    assertThat(keel.requests("DELETE", "/api/v1/services/pipe-1")).isEmpty();
    assertThat(keel.services).containsKey("pipe-1");
  }

  @Test
  void registersAgainAfterA404_andGoesOn() throws Exception {
    try (KeelClient client = keel.client().build()) {
      client.register(SERVICE);
      client.startHeartbeats(FAST, null, null);
      await("a heartbeat", () -> beats() >= 1);

      keel.services.remove("pipe-1"); // Keel forgot it: deregistered automatically, say
      await("a second registration", () -> registrations() >= 2);
      long beatsAfter = beats();
      await("heartbeats after the registration", () -> beats() >= beatsAfter + 2);
      assertThat(keel.services).containsKey("pipe-1");
      // The body of the new registration is the one given to register().
      List<Request> puts = keel.requests("PUT", "/api/v1/services/pipe-1");
      assertThat(puts.get(1).json()).isEqualTo(puts.get(0).json());
      assertThat(log.containing("registering it again")).hasSize(1);
    }
  }

  @Test
  void keelDown_backsOffThenRecovers_loggingOnlyTheChanges() throws Exception {
    try (KeelClient client = keel.client().timeout(Duration.ofSeconds(2)).build()) {
      client.register(SERVICE);
      client.startHeartbeats(FAST, null, null);
      await("a heartbeat", () -> beats() >= 1);

      // Not ready: 503 with Retry-After.
      keel.answerAll(
          new Answer(
              503,
              "application/problem+json",
              "{\"title\":\"Service Unavailable\",\"status\":503,\"detail\":\"the cluster is not"
                  + " up\"}",
              Map.of("Retry-After", "1")));
      long before = keel.requests.size();
      await("several attempts while not ready", () -> keel.requests.size() >= before + 3);
      // Down: refused connections (the first failure may be a connection cut mid-answer instead).
      keel.stop();
      await("the outage noticed", () -> !log.containing("cannot reach Keel").isEmpty());
      Thread.sleep(500);
      keel.answerAll(null);
      keel.restart();
      long beatsBack = beats();
      await("heartbeats once Keel is back", () -> beats() >= beatsBack + 2);

      assertThat(log.containing("is unavailable: the cluster is not up")).as(log.all()).hasSize(1);
      assertThat(log.containing("cannot reach Keel")).as(log.all()).hasSize(1);
      assertThat(log.containing("accepts heartbeats of service 'pipe-1' again"))
          .as(log.all())
          .hasSize(1);
      assertThat(log.all()).doesNotContain(FakeKeel.TOKEN);
    }
  }

  @Test
  void keelDownAtRegistration_theLoopRegistersOnceItAnswers() throws Exception {
    keel.stop();
    try (KeelClient client = keel.client().timeout(Duration.ofSeconds(2)).build()) {
      try {
        client.register(SERVICE);
      } catch (KeelUnavailableException expected) {
        // the service starts anyway; the loop registers it later
      }
      client.startHeartbeats(FAST, null, null);
      Thread.sleep(300);
      keel.restart();
      await("the registration", () -> registrations() >= 1);
      await("a heartbeat", () -> beats() >= 1);
    }
    assertThat(keel.requests("DELETE", "/api/v1/services/pipe-1")).hasSize(1);
  }

  @Test
  void aThrowingProviderOrChecker_reportsUnhealthyWithTheMessage() throws Exception {
    AtomicBoolean broken = new AtomicBoolean(true);
    try (KeelClient client = keel.client().build()) {
      client.register(SERVICE);
      client.startHeartbeats(
          FAST,
          () -> {
            if (broken.get()) throw new IllegalStateException("metrics store down");
            return Map.of("x", 1.0);
          },
          () -> {
            throw new RuntimeException("probe failed");
          });
      await("a heartbeat", () -> beats() >= 2);
      Request beat = keel.requests("POST", "/api/v1/services/pipe-1/heartbeat").get(0);
      assertThat(beat.json().get("status").asText()).isEqualTo("unhealthy");
      assertThat(beat.json().get("details").get("metricsError").asText())
          .isEqualTo("metrics store down");
      assertThat(beat.json().get("details").get("healthCheckError").asText())
          .isEqualTo("probe failed");
      assertThat(log.containing("reports unhealthy")).hasSize(1);
    }
  }

  @Test
  void aRefusal_isLoggedOnceAndRetried() throws Exception {
    try (KeelClient client = keel.client().build()) {
      client.register(SERVICE);
      keel.answerAll(
          FakeKeel.Answer.problem(
              403, "{\"title\":\"Forbidden\",\"status\":403,\"detail\":\"suspended tenant\"}"));
      client.startHeartbeats(FAST, null, null);
      long before = keel.requests.size();
      await("several refused attempts", () -> keel.requests.size() >= before + 3);
      keel.answerAll(null);
      long beatsBack = beats();
      await("heartbeats once accepted", () -> beats() >= beatsBack + 1);
      assertThat(
              log.containing(
                  "refuses heartbeats of service 'pipe-1': 403 Forbidden: suspended tenant"))
          .hasSize(1);
    }
  }

  @Test
  void backoff_growsWithJitterAndNeverPassesTheInterval() {
    Duration interval = Duration.ofSeconds(10);
    for (int failures = 1; failures < 40; failures++) {
      for (int i = 0; i < 20; i++) {
        Duration d = HeartbeatLoop.backoff(failures, interval, null);
        assertThat(d).isPositive().isLessThanOrEqualTo(interval);
      }
    }
    assertThat(HeartbeatLoop.backoff(1, interval, null))
        .isBetween(Duration.ofMillis(500), Duration.ofMillis(1000));
    assertThat(HeartbeatLoop.backoff(3, interval, null))
        .isBetween(Duration.ofMillis(2000), Duration.ofMillis(4000));
    assertThat(HeartbeatLoop.backoff(30, interval, null))
        .isBetween(Duration.ofSeconds(5), interval);
    assertThat(HeartbeatLoop.backoff(1, interval, Duration.ofSeconds(7)))
        .isEqualTo(Duration.ofSeconds(7));
    assertThat(HeartbeatLoop.backoff(1, interval, Duration.ofSeconds(70))).isEqualTo(interval);
  }

  @Test
  void startingTwice_isRefused_andStopKeepsTheRegistration() throws Exception {
    try (KeelClient client = keel.client().build()) {
      client.register(SERVICE);
      client.startHeartbeats(FAST, null, null);
      org.assertj.core.api.Assertions.assertThatThrownBy(
              () -> client.startHeartbeats(FAST, null, null))
          .isInstanceOf(IllegalStateException.class);
      Thread thread = client.heartbeatThread().orElseThrow();
      client.stopHeartbeats();
      assertThat(thread.isAlive()).isFalse();
      assertThat(client.heartbeatThread()).isEmpty();
      assertThat(keel.services).containsKey("pipe-1");
      client.startHeartbeats(FAST, null, null);
      long b = beats();
      await("beats after a restart of the loop", () -> beats() > b);
    }
  }
}
