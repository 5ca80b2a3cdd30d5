package dev.keel.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keel.client.HealthCheck;
import dev.keel.client.HealthStatus;
import dev.keel.client.KeelApiException;
import dev.keel.client.KeelClient;
import dev.keel.client.KeelException;
import dev.keel.client.ServiceInfo;
import dev.keel.client.ServiceStatus;
import dev.keel.client.ServiceSummary;
import dev.keel.client.ServiceView;
import dev.keel.client.WorkflowExecution;
import dev.keel.persistence.TestDatabases;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * The Java client ({@code keel-client}) against a real node in this JVM, on the embedded H2 and on
 * PostgreSQL: registration, the heartbeat loop, status in the detail and the list, going stale when
 * the heartbeats stop, registering again after a deregistration, a workflow started and awaited,
 * and a 400 read into {@link KeelApiException} with its fields.
 */
class ClientIT {

  private static final Duration BEAT = Duration.ofMillis(300);

  @Test
  void onEmbeddedH2() throws Exception {
    Path dir = Files.createTempDirectory("keel-it-client-h2");
    exercise(Map.of("keel.node.data-dir", dir.toString()));
  }

  @Test
  void onPostgres() throws Exception {
    try (TestDatabases.FreshPostgres pg = TestDatabases.freshPostgres()) {
      Path dir = Files.createTempDirectory("keel-it-client-pg");
      exercise(
          Map.of(
              "keel.node.data-dir",
              dir.toString(),
              "keel.database.url",
              pg.settings().url(),
              "keel.database.user",
              pg.settings().user()));
    }
  }

  private void exercise(Map<String, String> db) throws Exception {
    try (KeelNode node = NodeHttp.start(db)) {
      NodeHttp.ready(node);
      String endpoint = "http://127.0.0.1:" + node.httpPort();
      try (KeelClient admin =
          KeelClient.builder().endpoint(endpoint).token(NodeHttp.TOKEN).serviceId(null).build()) {
        KeelClient keel =
            KeelClient.builder()
                .endpoint(endpoint)
                .token(NodeHttp.TOKEN)
                .serviceId(null)
                .timeout(Duration.ofSeconds(10))
                .build();
        try {
          registersBeatsGoesStaleAndComesBack(keel, admin);
          workflows(keel);
          badInput(keel);
        } finally {
          keel.close();
        }
        // close() deregistered the service.
        assertThat(status(() -> admin.getService("it-orders"))).isEqualTo(404);
      }
    }
  }

  private void registersBeatsGoesStaleAndComesBack(KeelClient keel, KeelClient admin)
      throws Exception {
    Instant before = Instant.now().minusSeconds(1);
    ServiceView registered =
        keel.register(
            ServiceInfo.builder("it-orders")
                .name("Orders")
                .type("processor")
                .endpoint("http://10.0.0.5:8080")
                .metadata("zone", "a")
                .ttlSeconds(2)
                .build());
    assertThat(registered.id()).isEqualTo("it-orders");
    assertThat(registered.status()).isEqualTo(ServiceStatus.HEALTHY);
    assertThat(registered.ttlSeconds()).isEqualTo(2);
    assertThat(registered.registeredAt()).isAfter(before);
    assertThat(registered.metadata()).containsEntry("zone", "a");

    // The loop beats with the checker's status and the provider's metrics.
    AtomicReference<HealthCheck> health = new AtomicReference<>(HealthCheck.healthy());
    keel.startHeartbeats(BEAT, () -> Map.of("lag_seconds", 1.5), health::get);
    ServiceView beating =
        await(
            () -> admin.getService("it-orders"),
            v -> v.metrics().containsKey("lag_seconds"),
            "metrics shown");
    assertThat(beating.metrics()).containsEntry("lag_seconds", 1.5);
    assertThat(beating.lastHeartbeatAt()).isAfter(before);
    assertThat(beating.nextHeartbeatBefore()).isAfter(beating.lastHeartbeatAt());
    health.set(HealthCheck.of(HealthStatus.DEGRADED, Map.of("db", "slow")));
    ServiceView degraded =
        await(
            () -> admin.getService("it-orders"),
            v -> v.status() == ServiceStatus.DEGRADED,
            "degraded");
    assertThat(degraded.details()).containsEntry("db", "slow");
    assertThat(admin.health("it-orders").isHealthy()).isFalse();
    health.set(HealthCheck.healthy());
    await(() -> admin.health("it-orders"), h -> h.isHealthy(), "healthy again");

    // The list comes from the read model: awaited, then filtered.
    List<ServiceSummary> listed =
        await(
            () -> admin.listServices("processor", null),
            l -> ids(l).contains("it-orders"),
            "listed");
    assertThat(
            listed.stream()
                .filter(s -> s.id().equals("it-orders"))
                .findFirst()
                .orElseThrow()
                .registeredAt())
        .isNotNull();
    await(
        () -> admin.listServices("processor", ServiceStatus.HEALTHY, Map.of("zone", "a")),
        l -> ids(l).contains("it-orders"),
        "listed by status and metadata");
    assertThat(ids(admin.listServices("sink", null))).doesNotContain("it-orders");

    // Heartbeats stop: stale within the TTL (2 s) and a second or so.
    keel.stopHeartbeats();
    Instant stopped = Instant.now();
    ServiceView stale =
        await(() -> admin.getService("it-orders"), v -> v.status() == ServiceStatus.STALE, "stale");
    assertThat(Duration.between(stopped, Instant.now())).isLessThan(Duration.ofSeconds(15));
    assertThat(admin.health("it-orders").status()).isEqualTo(ServiceStatus.STALE);
    await(
        () -> admin.listServices(null, ServiceStatus.STALE),
        l -> ids(l).contains("it-orders"),
        "listed as stale");
    assertThat(stale.statusSince()).isAfter(stopped.minusSeconds(3));

    // Heartbeats again: healthy again.
    keel.startHeartbeats(BEAT, null, null);
    await(
        () -> admin.getService("it-orders"),
        v -> v.status() == ServiceStatus.HEALTHY,
        "back to healthy");

    // Someone deregisters it: the loop gets a 404 and registers it again by itself.
    admin.deregister("it-orders");
    Instant deregistered = Instant.now();
    ServiceView again =
        await(
            () -> admin.getService("it-orders"),
            v -> v.registeredAt().isAfter(deregistered.minusMillis(500)),
            "registered again");
    assertThat(again.name()).isEqualTo("Orders");
    assertThat(again.metadata()).containsEntry("zone", "a");
    assertThat(keel.heartbeating()).isTrue();
  }

  private void workflows(KeelClient keel) {
    WorkflowExecution started =
        keel.startWorkflow("example", "it-client-wf", Map.of("userId", "u-1", "action", "signup"));
    assertThat(started.id()).isEqualTo("it-client-wf");
    assertThat(started.workflow()).isEqualTo("example");
    WorkflowExecution done = keel.awaitWorkflow("it-client-wf", Duration.ofSeconds(30));
    assertThat(done.status()).isEqualTo("completed");
    assertThat(done.output().get("summary").asText()).isEqualTo("signup done for u-1");
    assertThat(done.steps())
        .extracting(WorkflowExecution.Step::name)
        .containsExactly("validate", "process", "summarize");
    assertThat(done.completedAt()).isNotNull();
    assertThat(keel.getWorkflow("it-client-wf").isFinal()).isTrue();
    // The same start again is the same execution; Keel chooses an id when none is given.
    assertThat(
            keel.startWorkflow(
                    "example", "it-client-wf", Map.of("userId", "u-1", "action", "signup"))
                .id())
        .isEqualTo("it-client-wf");
    assertThat(keel.startWorkflow("example", null, Map.of("userId", "u-2", "action", "x")).id())
        .isNotBlank();
    assertThatThrownBy(() -> keel.startWorkflow("no-such-workflow", null, Map.of()))
        .isInstanceOfSatisfying(KeelApiException.class, e -> assertThat(e.status()).isEqualTo(404));
    // Start and wait for the result in one call.
    WorkflowExecution ran =
        keel.runWorkflow(
            "example",
            "it-client-run",
            Map.of("userId", "u-3", "action", "login"),
            Duration.ofSeconds(30));
    assertThat(ran.isCompleted()).isTrue();
    assertThat(ran.output().get("summary").asText()).isEqualTo("login done for u-3");
  }

  private void badInput(KeelClient keel) {
    try (KeelClient other =
        KeelClient.builder()
            .endpoint(keel.endpoint())
            .token(NodeHttp.TOKEN)
            .serviceId(null)
            .build()) {
      assertThatThrownBy(
              () ->
                  other.register(
                      ServiceInfo.builder("it-bad")
                          .name("x")
                          .type("Not A Type")
                          .ttlSeconds(0)
                          .build()))
          .isInstanceOfSatisfying(
              KeelApiException.class,
              e -> {
                assertThat(e.status()).isEqualTo(400);
                assertThat(e.title()).isNotBlank();
                assertThat(e.fieldErrors())
                    .extracting(KeelApiException.FieldError::field)
                    .contains("type", "ttlSeconds");
                assertThat(e.getMessage())
                    .contains("type:")
                    .contains("ttlSeconds:")
                    .doesNotContain(NodeHttp.TOKEN);
              });
      assertThat(status(() -> other.getService("it-bad"))).isEqualTo(404);
    }
    try (KeelClient wrongToken =
        KeelClient.builder().endpoint(keel.endpoint()).token("not-the-token-0123456789").build()) {
      assertThat(status(() -> wrongToken.getService("it-orders"))).isEqualTo(401);
    }
  }

  // ---------------------------------------------------------------- helpers

  private static List<String> ids(List<ServiceSummary> services) {
    return services.stream().map(ServiceSummary::id).toList();
  }

  private static int status(Runnable call) {
    try {
      call.run();
      return 200;
    } catch (KeelApiException e) {
      return e.status();
    }
  }

  /**
   * Asks until the answer satisfies {@code until}; a failing ask (a 404 mid-way, say) is asked
   * again.
   */
  private static <T> T await(Supplier<T> ask, Predicate<T> until, String what)
      throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    Object last = null;
    while (System.nanoTime() < deadline) {
      try {
        T answer = ask.get();
        if (until.test(answer)) return answer;
        last = answer;
      } catch (KeelException e) {
        last = e.getMessage();
      }
      Thread.sleep(100);
    }
    throw new AssertionError("never " + what + "; last: " + last);
  }
}
