package dev.keel.registry.alert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.keel.persistence.ManualClock;
import dev.keel.persistence.Rejection;
import dev.keel.persistence.UnexpectedEvent;
import dev.keel.registry.alert.AlertRule.Active;
import dev.keel.registry.alert.AlertRule.AlertCleared;
import dev.keel.registry.alert.AlertRule.AlertDeferred;
import dev.keel.registry.alert.AlertRule.AlertDefined;
import dev.keel.registry.alert.AlertRule.AlertDefinition;
import dev.keel.registry.alert.AlertRule.AlertDeleted;
import dev.keel.registry.alert.AlertRule.AlertFired;
import dev.keel.registry.alert.AlertRule.AlertUpdated;
import dev.keel.registry.alert.AlertRule.AlertView;
import dev.keel.registry.alert.AlertRule.Command;
import dev.keel.registry.alert.AlertRule.DeferredView;
import dev.keel.registry.alert.AlertRule.Delete;
import dev.keel.registry.alert.AlertRule.Deleted;
import dev.keel.registry.alert.AlertRule.DeliveryAbandoned;
import dev.keel.registry.alert.AlertRule.DeliveryStarted;
import dev.keel.registry.alert.AlertRule.Empty;
import dev.keel.registry.alert.AlertRule.Event;
import dev.keel.registry.alert.AlertRule.FireDeferred;
import dev.keel.registry.alert.AlertRule.FiringView;
import dev.keel.registry.alert.AlertRule.ForgetService;
import dev.keel.registry.alert.AlertRule.Get;
import dev.keel.registry.alert.AlertRule.Observe;
import dev.keel.registry.alert.AlertRule.PendingDelivery;
import dev.keel.registry.alert.AlertRule.Put;
import dev.keel.registry.alert.AlertRule.PutResult;
import dev.keel.registry.alert.AlertRule.ServiceForgotten;
import dev.keel.registry.alert.AlertRule.State;
import dev.keel.registry.service.ServiceObservation;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.PersistenceTestKitSnapshotPlugin;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit.CommandResultWithReply;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AlertRuleTest {

  /**
   * The test kit's in-memory journal first, else the JDBC journal of reference.conf wins (STACK.md,
   * pitfall 9).
   */
  static final Config CONFIG =
      EventSourcedBehaviorTestKit.config()
          .withFallback(PersistenceTestKitSnapshotPlugin.config())
          .withFallback(ConfigFactory.parseResources("alert-test.conf"))
          .withFallback(ConfigFactory.load())
          .resolve();

  static final Instant T0 = Instant.parse("2026-03-01T07:30:00.123Z");
  static final String WEBHOOK = "https://hooks.example.com/keel?token=s3cr3t";
  private static final AtomicInteger ids = new AtomicInteger();
  private static final ObjectMapper JSON = new ObjectMapper();

  private ActorTestKit testKit;
  private AlertSettings settings;
  private ManualClock clock;
  private RecordingStarter starter;
  private String id;
  private EventSourcedBehaviorTestKit<Command, Event, State> kit;

  @BeforeAll
  void startSystem() {
    testKit = ActorTestKit.create("AlertRuleTest", CONFIG);
    settings =
        AlertSettings.fromConfig(testKit.system().settings().config().getConfig("keel.alerts"));
  }

  @AfterAll
  void stopSystem() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void newRule() {
    clock = new ManualClock(T0);
    starter = new RecordingStarter();
    id = "disk-full-" + ids.incrementAndGet();
    kit =
        EventSourcedBehaviorTestKit.create(
            testKit.system(),
            AlertRule.create(id, starter, starter, clock, settings),
            EventSourcedBehaviorTestKit.enabledSerializationSettings());
  }

  // ---------------------------------------------------------------- helpers

  static AlertDefinition def(String service, String condition, int cooldownSeconds) {
    return new AlertDefinition(service, condition, WEBHOOK, cooldownSeconds, null);
  }

  private CommandResultWithReply<Command, Event, State, StatusReply<PutResult>> put(
      AlertDefinition def) {
    return kit.runCommand(replyTo -> new Put(def, null, replyTo));
  }

  static ServiceObservation obs(String service, String status) {
    return new ServiceObservation(service, null, "processor", status, Map.of(), T0);
  }

  static ServiceObservation obs(String service, String status, Map<String, Double> metrics) {
    return new ServiceObservation(service, null, "processor", status, metrics, T0);
  }

  /**
   * The events of one observation. A firing's {@link DeliveryStarted} follows on its own as soon as
   * the starter answers, possibly within the same run; it is asserted on the journal instead.
   */
  private List<Event> observe(ServiceObservation o) {
    return kit.runCommand(new Observe(o)).events().stream()
        .filter(e -> !(e instanceof DeliveryStarted))
        .toList();
  }

  private AlertView view() {
    return kit.<StatusReply<AlertView>>runCommand(r -> new Get(null, r)).reply().getValue();
  }

  private Active active() {
    return (Active) kit.getState();
  }

  private List<Object> journal() {
    return kit.persistenceTestKit().persistedInStorage(AlertRule.persistenceId(id).id());
  }

  private long journaled(Class<?> type) {
    return journal().stream().filter(type::isInstance).count();
  }

  private AlertFired fired(
      long seq, String service, String status, Map<String, Double> metrics, Instant at) {
    return new AlertFired(seq, service, status, metrics, at, "alert." + id + "." + seq);
  }

  /** Retries {@code assertion} until it holds or 5 s pass: for what the entity does on its own. */
  static void eventually(Runnable assertion) {
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (true) {
      try {
        assertion.run();
        return;
      } catch (AssertionError e) {
        if (System.nanoTime() > deadline) throw e;
        try {
          Thread.sleep(20);
        } catch (InterruptedException interrupted) {
          Thread.currentThread().interrupt();
          throw e;
        }
      }
    }
  }

  /**
   * Waits until {@code firings} deliveries are acknowledged: they land on their own, and a test
   * that asserts the exact events of a later command must not catch one of them.
   */
  private void delivered(int firings) {
    eventually(() -> assertThat(journaled(DeliveryStarted.class)).isEqualTo(firings));
  }

  /** Lets the entity run whatever it would do on its own, then proves it did nothing more. */
  private void settle() throws InterruptedException {
    Thread.sleep(300);
    kit.getState();
  }

  // ---------------------------------------------------------------- define, update, get

  @Test
  void putDefinesTheRuleWithItsConditionInCanonicalForm() {
    var result = put(def("ingest-1", "status!=healthy", 300));

    AlertDefinition stored = def("ingest-1", "status != healthy", 300);
    AlertView expected =
        new AlertView(
            id,
            "ingest-1",
            "status != healthy",
            WEBHOOK,
            null,
            300,
            null,
            T0,
            T0,
            List.of(),
            List.of(),
            0,
            null,
            List.of());
    assertThat(result.reply()).isEqualTo(StatusReply.success(new PutResult(true, expected)));
    assertThat(result.events()).containsExactly(new AlertDefined(stored, T0));
    assertThat(view()).isEqualTo(expected);

    kit.restart();
    assertThat(kit.getState()).isEqualTo(result.state());
  }

  @Test
  void theSameDefinitionAgainChangesNothingAndAnotherUpdatesIt() {
    put(def("ingest-1", "status != healthy", 300));
    clock.advance(Duration.ofMinutes(5));

    var again = put(def("ingest-1", "  status  !=  'healthy' ", 300));
    assertThat(again.hasNoEvents()).isTrue();
    assertThat(again.reply().getValue().created()).isFalse();
    assertThat(again.reply().getValue().view().updatedAt()).isEqualTo(T0);

    Instant later = T0.plus(Duration.ofMinutes(5));
    var changed = put(def("ingest-1", "status == stale", 60));
    assertThat(changed.events())
        .containsExactly(new AlertUpdated(def("ingest-1", "status == stale", 60), later));
    assertThat(changed.reply().getValue().created()).isFalse();
    assertThat(changed.reply().getValue().view().updatedAt()).isEqualTo(later);
    assertThat(changed.reply().getValue().view().createdAt()).isEqualTo(T0);
  }

  @Test
  void anInvalidDefinitionIsRejectedWithoutAnEvent() {
    var bad = put(new AlertDefinition("bad id!", "status > healthy", "ftp://x", -1, null));

    assertThat(bad.hasNoEvents()).isTrue();
    assertThat(bad.state()).isEqualTo(new Empty());
    Rejection rejection = Rejection.of(bad.reply().getError()).orElseThrow();
    assertThat(rejection.kind()).isEqualTo(Rejection.Kind.INVALID);
    assertThat(rejection.detail())
        .contains(
            "service ",
            "condition at 8: 'status' can only be compared",
            "webhook ",
            "cooldownSeconds ");

    put(def("*", "status != healthy", 0));
    var badUpdate =
        put(
            new AlertDefinition(
                "*",
                "status != healthy",
                "https://user:pw@example.com/x?key=secret",
                86_401,
                null));
    assertThat(badUpdate.hasNoEvents()).isTrue();
    assertThat(badUpdate.reply().getError().getMessage())
        .contains("cooldownSeconds must be between 0 and 86400")
        .doesNotContain("secret")
        .doesNotContain("pw@");
  }

  @Test
  void anotherTenantSeesNoRuleAndCannotTakeItsId() {
    AlertDefinition acme = new AlertDefinition("*", "status == stale", WEBHOOK, 60, "acme");
    kit.<StatusReply<PutResult>>runCommand(r -> new Put(acme, "acme", r));

    var get = kit.<StatusReply<AlertView>>runCommand(r -> new Get("globex", r));
    assertThat(Rejection.of(get.reply().getError()))
        .contains(new Rejection(Rejection.Kind.NOT_FOUND, "alert '" + id + "' does not exist"));
    var delete = kit.<StatusReply<Done>>runCommand(r -> new Delete("globex", r));
    assertThat(Rejection.of(delete.reply().getError()).map(Rejection::kind))
        .contains(Rejection.Kind.NOT_FOUND);
    assertThat(delete.hasNoEvents()).isTrue();
    var taken =
        kit.<StatusReply<PutResult>>runCommand(
            r ->
                new Put(
                    new AlertDefinition("*", "status == stale", WEBHOOK, 60, "globex"),
                    "globex",
                    r));
    assertThat(Rejection.of(taken.reply().getError()).map(Rejection::kind))
        .contains(Rejection.Kind.CONFLICT);
    assertThat(taken.hasNoEvents()).isTrue();

    assertThat(
            kit.<StatusReply<AlertView>>runCommand(r -> new Get("acme", r))
                .reply()
                .getValue()
                .tenantId())
        .isEqualTo("acme");
    // The admin sees every rule, and redefining one without naming a tenant keeps its owner.
    assertThat(view().tenantId()).isEqualTo("acme");
    var byAdmin = put(def("*", "status == stale", 120));
    assertThat(byAdmin.events())
        .containsExactly(
            new AlertUpdated(
                new AlertDefinition("*", "status == stale", WEBHOOK, 120, "acme"), T0));
    assertThat(kit.<StatusReply<Done>>runCommand(r -> new Delete("acme", r)).events()).hasSize(1);
  }

  @Test
  void problemsListEveryBadField() {
    assertThat(AlertDefinitionRules.problems(new AlertDefinition(null, null, null, 0, null)))
        .extracting(p -> p.field())
        .containsExactly("service", "condition", "webhook");
    assertThat(
            AlertDefinitionRules.problems(
                new AlertDefinition(
                    "svc 1", "metrics.x > abc", "https://example.com/hook?t=1", 86_401, null)))
        .extracting(p -> p.field() + ": " + p.message())
        .containsExactly(
            "service: must be a service id (^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$) or *",
            "condition: at 13: expected a number after '>' but found 'abc'",
            "cooldownSeconds: must be between 0 and 86400");
    assertThat(
            AlertDefinitionRules.problems(
                new AlertDefinition(
                    "*", "status != healthy", "mailto:ops@example.com?token=x", 0, null)))
        .singleElement()
        .satisfies(
            p -> {
              assertThat(p.field()).isEqualTo("webhook");
              assertThat(p.message()).doesNotContain("token").doesNotContain("mailto");
            });
    assertThat(AlertDefinitionRules.problems(def("svc.1:a-b_c", "status != healthy", 86_400)))
        .isEmpty();
  }

  // ---------------------------------------------------------------- firing

  @Test
  void aHoldingObservationFiresOnceAndStartsItsDelivery() throws Exception {
    put(def("ingest-1", "status != healthy", 300));
    Instant at = T0.plusSeconds(42);
    clock.set(at);

    List<Event> events = observe(obs("ingest-1", "stale", Map.of("lag", 12.5)));

    AlertFired fired = fired(1, "ingest-1", "stale", Map.of("lag", 12.5), at);
    assertThat(events).containsExactly(fired);
    String workflowId = "alert." + id + ".1";
    eventually(
        () -> assertThat(journal()).last().isEqualTo(new DeliveryStarted(1, workflowId, at)));
    assertThat(starter.calls())
        .singleElement()
        .satisfies(
            call -> {
              assertThat(call.workflowId()).isEqualTo(workflowId);
              assertThat(call.workflow()).isEqualTo("webhook-delivery");
              assertThat(call.tenantId()).isNull();
              try {
                assertThat(call.input())
                    .isEqualTo(
                        JSON.readTree(
                            """
                            {"url": "https://hooks.example.com/keel?token=s3cr3t", "idempotencyKey": "%s",
                             "payload": {"alert": "%s", "service": "ingest-1", "condition": "status != healthy", "status": "stale",
                                         "metrics": {"lag": 12.5}, "firedAt": "2026-03-01T07:30:42.123Z"}}\
                            """
                                .formatted(workflowId, id)));
              } catch (Exception e) {
                throw new AssertionError(e);
              }
            });

    AlertView view = view();
    assertThat(view.triggered()).containsExactly("ingest-1");
    assertThat(view.firingCount()).isEqualTo(1);
    assertThat(view.lastFiredAt()).isEqualTo(at);
    assertThat(view.firings())
        .containsExactly(
            new FiringView(
                1,
                "ingest-1",
                "stale",
                Map.of("lag", 12.5),
                at,
                workflowId,
                "started",
                null,
                null));

    kit.restart();
    settle();
    assertThat(starter.calls()).hasSize(1); // delivered already: recovery starts nothing
    assertThat(view()).isEqualTo(view);
  }

  @Test
  void whileTriggeredFurtherHoldingObservationsWriteNothing() throws Exception {
    put(def("ingest-1", "status != healthy", 300));
    observe(obs("ingest-1", "degraded"));
    eventually(() -> assertThat(journaled(DeliveryStarted.class)).isEqualTo(1));

    clock.advance(Duration.ofHours(2)); // long past the cooldown: still no second firing
    assertThat(observe(obs("ingest-1", "degraded"))).isEmpty();
    assertThat(observe(obs("ingest-1", "stale"))).isEmpty();
    assertThat(observe(obs("ingest-1", "unhealthy", Map.of("x", 1.0)))).isEmpty();
    settle();
    assertThat(starter.calls()).hasSize(1);
    assertThat(journaled(AlertFired.class)).isEqualTo(1);
  }

  @Test
  void observationsThatDoNotHoldWhileArmedWriteNothing() {
    put(def("ingest-1", "metrics.lag > 30", 300));
    assertThat(observe(obs("ingest-1", "healthy", Map.of("lag", 30.0)))).isEmpty();
    assertThat(observe(obs("ingest-1", "stale"))).isEmpty(); // no metric: the comparison is false
    assertThat(starter.calls()).isEmpty();
    assertThat(active().services()).isEmpty();
  }

  @Test
  void clearingReArmsAndTheNextHoldingObservationFiresAgain() throws Exception {
    put(def("ingest-1", "status != healthy", 0));
    observe(obs("ingest-1", "stale"));

    Instant clearedAt = T0.plusSeconds(5);
    clock.set(clearedAt);
    assertThat(observe(obs("ingest-1", "healthy")))
        .containsExactly(new AlertCleared("ingest-1", clearedAt));
    assertThat(view().triggered()).isEmpty();
    assertThat(observe(obs("ingest-1", "healthy"))).isEmpty();

    Instant again = T0.plusSeconds(6);
    clock.set(again);
    assertThat(observe(obs("ingest-1", "unhealthy")))
        .containsExactly(fired(2, "ingest-1", "unhealthy", Map.of(), again));
    eventually(
        () ->
            assertThat(starter.startedIds())
                .containsExactly("alert." + id + ".1", "alert." + id + ".2"));
    eventually(() -> assertThat(journaled(DeliveryStarted.class)).isEqualTo(2));
    assertThat(view().firings()).extracting(FiringView::seq).containsExactly(2L, 1L);
    assertThat(view().triggered()).containsExactly("ingest-1");
  }

  @Test
  void aFiringWithinTheCooldownIsDeferredToItsEndAndHappensIfTheConditionStillHolds()
      throws Exception {
    put(def("ingest-1", "status != healthy", 300));
    observe(obs("ingest-1", "stale"));
    delivered(1);
    clock.set(T0.plusSeconds(10));
    observe(obs("ingest-1", "healthy"));

    Instant again = T0.plusSeconds(20);
    clock.set(again);
    Instant due = T0.plusSeconds(300);
    List<Event> deferred = observe(obs("ingest-1", "degraded", Map.of("lag", 3.0)));
    assertThat(deferred)
        .containsExactly(new AlertDeferred("ingest-1", "degraded", Map.of("lag", 3.0), again, due));
    assertThat(view().deferred()).containsExactly(new DeferredView("ingest-1", due));
    assertThat(view().triggered()).isEmpty();
    // Holding again while deferred changes nothing; an early timer neither.
    assertThat(observe(obs("ingest-1", "stale"))).isEmpty();
    assertThat(kit.runCommand(new FireDeferred("ingest-1")).hasNoEvents()).isTrue();

    kit.restart(); // the deferral survives a restart
    clock.set(due);
    var fire = kit.runCommand(new FireDeferred("ingest-1"));
    assertThat(fire.events())
        .filteredOn(e -> !(e instanceof DeliveryStarted))
        .containsExactly(fired(2, "ingest-1", "degraded", Map.of("lag", 3.0), due));
    assertThat(view().deferred()).isEmpty();
    assertThat(view().triggered()).containsExactly("ingest-1");
    eventually(() -> assertThat(starter.startedIds()).contains("alert." + id + ".2"));
  }

  @Test
  void aDeferredFiringIsDroppedWhenTheConditionClearsBeforeTheCooldownEnds()
      throws InterruptedException {
    put(def("ingest-1", "status != healthy", 300));
    observe(obs("ingest-1", "stale"));
    delivered(1);
    clock.set(T0.plusSeconds(10));
    observe(obs("ingest-1", "healthy"));
    clock.set(T0.plusSeconds(20));
    observe(obs("ingest-1", "stale"));

    Instant clearedAt = T0.plusSeconds(30);
    clock.set(clearedAt);
    assertThat(observe(obs("ingest-1", "healthy")))
        .containsExactly(new AlertCleared("ingest-1", clearedAt));
    assertThat(view().deferred()).isEmpty();

    clock.set(T0.plusSeconds(301));
    assertThat(kit.runCommand(new FireDeferred("ingest-1")).hasNoEvents()).isTrue();
    settle();
    assertThat(journaled(AlertFired.class)).isEqualTo(1);

    // After the cooldown a new transition fires at once.
    assertThat(observe(obs("ingest-1", "stale"))).singleElement().isInstanceOf(AlertFired.class);
  }

  @Test
  void cooldownIsPerService() {
    put(def("*", "status == stale", 300));
    assertThat(observe(obs("a", "stale"))).singleElement().isInstanceOf(AlertFired.class);
    clock.advance(Duration.ofSeconds(1));
    assertThat(observe(obs("b", "stale")))
        .containsExactly(fired(2, "b", "stale", Map.of(), T0.plusSeconds(1)));
    assertThat(view().triggered()).containsExactly("a", "b");
  }

  @Test
  void onlyTheWatchedServiceAndTenantCount() {
    put(def("ingest-1", "status != healthy", 300));
    assertThat(observe(obs("ingest-2", "stale"))).isEmpty();

    AlertDefinition acme = new AlertDefinition("*", "status != healthy", WEBHOOK, 300, "acme");
    put(acme);
    assertThat(observe(new ServiceObservation("x", "globex", "sink", "stale", Map.of(), T0)))
        .isEmpty();
    assertThat(observe(new ServiceObservation("x", null, "sink", "stale", Map.of(), T0))).isEmpty();
    assertThat(observe(new ServiceObservation("x", "acme", "sink", "stale", Map.of(), T0)))
        .singleElement()
        .isInstanceOf(AlertFired.class);
    assertThat(AlertDefinitionRules.watches(def("*", "status == stale", 0), "x", "any-tenant"))
        .isTrue();
  }

  @Test
  void redefiningForAnotherServiceForgetsTheOldOne() {
    put(def("ingest-1", "status != healthy", 300));
    observe(obs("ingest-1", "stale"));
    put(def("ingest-2", "status != healthy", 300));
    assertThat(view().triggered()).isEmpty();
    assertThat(observe(obs("ingest-2", "stale"))).singleElement().isInstanceOf(AlertFired.class);

    // A new condition keeps what is triggered: an ongoing incident does not page again.
    put(def("ingest-2", "status == stale or status == unhealthy", 300));
    assertThat(view().triggered()).containsExactly("ingest-2");
    assertThat(observe(obs("ingest-2", "stale"))).isEmpty();
    assertThat(observe(obs("ingest-2", "degraded")))
        .singleElement()
        .isInstanceOf(AlertCleared.class);
  }

  @Test
  void aDeregisteredServiceIsForgotten() {
    put(def("*", "status != healthy", 300));
    observe(obs("ingest-1", "stale"));
    delivered(1);
    clock.advance(Duration.ofSeconds(5));

    var forgotten = kit.runCommand(new ForgetService("ingest-1"));
    assertThat(forgotten.events())
        .containsExactly(new ServiceForgotten("ingest-1", T0.plusSeconds(5)));
    assertThat(view().triggered()).isEmpty();
    assertThat(kit.runCommand(new ForgetService("ingest-1")).hasNoEvents()).isTrue();
    assertThat(kit.runCommand(new ForgetService("never-seen")).hasNoEvents()).isTrue();
    // Registered again under the same id: a new service, no cooldown carried over.
    assertThat(observe(obs("ingest-1", "stale"))).singleElement().isInstanceOf(AlertFired.class);
  }

  @Test
  void theViewShowsTheNewestTwentyFiringsNewestFirst() {
    put(def("*", "status == stale", 0));
    for (int i = 1; i <= 25; i++) {
      clock.advance(Duration.ofSeconds(1));
      observe(obs("s" + i, "stale"));
    }
    AlertView view = view();
    assertThat(view.firingCount()).isEqualTo(25);
    assertThat(view.firings()).hasSize(20);
    assertThat(view.firings().get(0).seq()).isEqualTo(25);
    assertThat(view.firings().get(19).seq()).isEqualTo(6);
    assertThat(view.triggered()).hasSize(25);
  }

  // ---------------------------------------------------------------- delete

  @Test
  void aDeletedRuleStopsFiringAndADefinitionAfterItNumbersFiringsOn() throws InterruptedException {
    put(def("ingest-1", "status != healthy", 0));
    observe(obs("ingest-1", "stale"));
    delivered(1);
    Instant deletedAt = T0.plusSeconds(60);
    clock.set(deletedAt);

    var deleted = kit.<StatusReply<Done>>runCommand(r -> new Delete(null, r));
    assertThat(deleted.reply()).isEqualTo(StatusReply.success(Done.getInstance()));
    assertThat(deleted.events()).containsExactly(new AlertDeleted(deletedAt));
    assertThat(deleted.state()).isEqualTo(new Deleted(deletedAt, 1));

    var get = kit.<StatusReply<AlertView>>runCommand(r -> new Get(null, r));
    assertThat(Rejection.of(get.reply().getError()))
        .contains(new Rejection(Rejection.Kind.NOT_FOUND, "alert '" + id + "' does not exist"));
    assertThat(
            Rejection.of(
                    kit.<StatusReply<Done>>runCommand(r -> new Delete(null, r)).reply().getError())
                .map(Rejection::kind))
        .contains(Rejection.Kind.NOT_FOUND);
    assertThat(observe(obs("ingest-1", "healthy"))).isEmpty();
    assertThat(observe(obs("ingest-1", "stale"))).isEmpty();
    assertThat(kit.runCommand(new FireDeferred("ingest-1")).hasNoEvents()).isTrue();

    var again = put(def("ingest-1", "status != healthy", 0));
    assertThat(again.reply().getValue().created()).isTrue();
    assertThat(again.reply().getValue().view().firings()).isEmpty();
    // Firing numbers go on: delivery workflow ids of the earlier definition are never reused.
    assertThat(observe(obs("ingest-1", "stale")))
        .containsExactly(fired(2, "ingest-1", "stale", Map.of(), deletedAt));

    kit.restart();
    assertThat(active().lastFiringSeq()).isEqualTo(2);
  }

  @Test
  void anUnknownRuleIsNotFound() {
    var get = kit.<StatusReply<AlertView>>runCommand(r -> new Get(null, r));
    assertThat(Rejection.of(get.reply().getError()).map(Rejection::kind))
        .contains(Rejection.Kind.NOT_FOUND);
    assertThat(observe(obs("x", "stale"))).isEmpty();
    assertThat(kit.getState()).isEqualTo(new Empty());
  }

  // ---------------------------------------------------------------- delivery outbox

  @Test
  void aFailedStartIsRetriedUntilItIsAcknowledgedAndRecordedOnce() throws InterruptedException {
    put(def("ingest-1", "status != healthy", 300));
    starter.failNext(2, "journal unreachable");

    observe(obs("ingest-1", "stale"));

    String workflowId = "alert." + id + ".1";
    eventually(
        () -> assertThat(starter.startedIds()).containsExactly(workflowId, workflowId, workflowId));
    eventually(() -> assertThat(journaled(DeliveryStarted.class)).isEqualTo(1));
    assertThat(starter.calls())
        .extracting(RecordingStarter.Call::input)
        .containsOnly(starter.calls().get(0).input());
    assertThat(view().firings().get(0).delivery()).isEqualTo("started");
    settle();
    assertThat(starter.calls()).hasSize(3);
  }

  @Test
  void aFiringNotAcknowledgedBeforeARestartIsDeliveredAfterIt() throws InterruptedException {
    // No retry timer within the test: only the recovery can start the delivery again.
    AlertSettings slowRetry =
        new AlertSettings(
            settings.askTimeout(),
            Duration.ofHours(1),
            settings.catalogRefresh(),
            settings.catalogLocalGrace(),
            settings.retellAfter(),
            settings.deliveryFollowWait());
    kit =
        EventSourcedBehaviorTestKit.create(
            testKit.system(),
            AlertRule.create(id, starter, starter, clock, slowRetry),
            EventSourcedBehaviorTestKit.enabledSerializationSettings());
    put(def("ingest-1", "status != healthy", 300));
    starter.unavailable("the node is going down");
    observe(obs("ingest-1", "stale"));
    eventually(() -> assertThat(starter.calls()).hasSize(1));
    settle();
    assertThat(journaled(DeliveryStarted.class)).isZero();
    assertThat(view().firings().get(0).delivery()).isEqualTo("pending");

    // The node dies between the firing and the acknowledgement; its successor recovers the rule.
    starter.unavailable(null);
    kit.restart();

    String workflowId = "alert." + id + ".1";
    eventually(
        () -> assertThat(journal()).last().isEqualTo(new DeliveryStarted(1, workflowId, T0)));
    assertThat(starter.startedIds()).containsExactly(workflowId, workflowId);
    assertThat(starter.calls().get(1).input()).isEqualTo(starter.calls().get(0).input());
    assertThat(journaled(AlertFired.class)).isEqualTo(1);
    assertThat(active().undelivered()).isEmpty();
  }

  @Test
  void aStartRefusedForGoodIsAbandonedAndNotRetried() throws InterruptedException {
    put(def("ingest-1", "status != healthy", 300));
    String workflowId = "alert." + id + ".1";
    starter.takenByAnother(workflowId);

    observe(obs("ingest-1", "stale"));

    eventually(() -> assertThat(journaled(DeliveryAbandoned.class)).isEqualTo(1));
    assertThat(journal())
        .filteredOn(DeliveryAbandoned.class::isInstance)
        .singleElement()
        .satisfies(e -> assertThat(((DeliveryAbandoned) e).reason()).contains("already used"));
    assertThat(view().firings().get(0).delivery()).isEqualTo("abandoned");
    settle();
    assertThat(starter.calls()).hasSize(1);
    kit.restart();
    settle();
    assertThat(starter.calls()).hasSize(1);
  }

  @Test
  void deliveryWorkflowIdsAreValidClientIds() {
    assertThat(DeliveryWorkflowInput.workflowId("disk-full", 7)).isEqualTo("alert.disk-full.7");
    String longId = "r".repeat(128);
    String hashed = DeliveryWorkflowInput.workflowId(longId, 123456789L);
    assertThat(hashed)
        .matches("^alert\\.[0-9a-f]{40}\\.123456789$")
        .matches(AlertRule.ID.pattern());
    assertThat(DeliveryWorkflowInput.workflowId("s".repeat(128), 1))
        .isNotEqualTo(DeliveryWorkflowInput.workflowId(longId, 1));
    assertThat(DeliveryWorkflowInput.workflowId(longId, 1))
        .isEqualTo(DeliveryWorkflowInput.workflowId(longId, 1));
    String justFits = "x".repeat(128 - "alert..9".length());
    assertThat(DeliveryWorkflowInput.workflowId(justFits, 9))
        .isEqualTo("alert." + justFits + ".9")
        .hasSize(128);
  }

  @Test
  void theDeliveryInputIsTheApiPayloadWithMillisecondInstants() throws Exception {
    PendingDelivery d =
        new PendingDelivery(
            3,
            "alert.r.3",
            "svc",
            "degraded",
            Map.of("b", 2.0, "a", 0.5),
            Instant.parse("2026-11-22T09:00:00Z"),
            "metrics.a > 0",
            "https://x.example/h",
            "acme");
    assertThat(DeliveryWorkflowInput.of("r", d))
        .isEqualTo(
            JSON.readTree(
                """
                {"url": "https://x.example/h", "idempotencyKey": "alert.r.3",
                 "payload": {"alert": "r", "service": "svc", "condition": "metrics.a > 0", "status": "degraded",
                             "metrics": {"a": 0.5, "b": 2.0}, "firedAt": "2026-11-22T09:00:00.000Z"}}\
                """));
  }

  @Test
  void theTenantOfTheRuleStartsItsDeliveries() {
    put(new AlertDefinition("*", "status == stale", WEBHOOK, 0, "acme"));
    observe(new ServiceObservation("x", "acme", "sink", "stale", Map.of(), T0));
    eventually(
        () ->
            assertThat(starter.calls())
                .singleElement()
                .satisfies(c -> assertThat(c.tenantId()).isEqualTo("acme")));
  }

  @Test
  void settingsDefaultsComeFromKeelAlertsConf() {
    Config defaults = ConfigFactory.parseResources("keel-alerts.conf").resolve();
    assertThat(AlertSettings.fromConfig(defaults.getConfig("keel.alerts")))
        .isEqualTo(
            new AlertSettings(
                Duration.ofSeconds(10),
                Duration.ofSeconds(10),
                Duration.ofSeconds(2),
                Duration.ofSeconds(30),
                Duration.ofMinutes(5),
                Duration.ofSeconds(60)));
    assertThat(settings.startRetryBackoff()).isEqualTo(Duration.ofMillis(200));
  }

  @Test
  void anEventTheStateCannotTakeFailsTheReplayInsteadOfBeingIgnored() {
    // A journal that disagrees with the code stops the rule's recovery, loudly, as every entity's.
    assertThatThrownBy(() -> AlertRule.apply(new Empty(), new AlertRule.AlertDeleted(T0)))
        .isInstanceOf(UnexpectedEvent.class)
        .hasMessage("unexpected event AlertDeleted in state Empty");
  }
}
