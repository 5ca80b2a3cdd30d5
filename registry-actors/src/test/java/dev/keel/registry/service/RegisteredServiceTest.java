package dev.keel.registry.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.keel.persistence.ManualClock;
import dev.keel.persistence.Rejection;
import dev.keel.persistence.UnexpectedEvent;
import dev.keel.registry.service.RegisteredService.CheckDeregister;
import dev.keel.registry.service.RegisteredService.CheckTtl;
import dev.keel.registry.service.RegisteredService.Command;
import dev.keel.registry.service.RegisteredService.Deregister;
import dev.keel.registry.service.RegisteredService.Deregistered;
import dev.keel.registry.service.RegisteredService.Event;
import dev.keel.registry.service.RegisteredService.Get;
import dev.keel.registry.service.RegisteredService.Heartbeat;
import dev.keel.registry.service.RegisteredService.HeartbeatAck;
import dev.keel.registry.service.RegisteredService.HeartbeatReport;
import dev.keel.registry.service.RegisteredService.Register;
import dev.keel.registry.service.RegisteredService.RegisterResult;
import dev.keel.registry.service.RegisteredService.Registered;
import dev.keel.registry.service.RegisteredService.ServiceDefinition;
import dev.keel.registry.service.RegisteredService.ServiceDeregistered;
import dev.keel.registry.service.RegisteredService.ServiceRegistered;
import dev.keel.registry.service.RegisteredService.ServiceUpdated;
import dev.keel.registry.service.RegisteredService.ServiceView;
import dev.keel.registry.service.RegisteredService.State;
import dev.keel.registry.service.RegisteredService.StatusChanged;
import dev.keel.registry.service.RegisteredService.Traced;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.PersistenceTestKitSnapshotPlugin;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit.CommandResultWithReply;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Every transition of a registered service, on the in-memory journal with a clock the tests move:
 * what is journaled (registration, changes, health transitions, deregistration) and what is not
 * (heartbeats that keep the status).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RegisteredServiceTest {

  /**
   * The test kit's in-memory journal first, else the JDBC journal of reference.conf wins
   * (STACK.md).
   */
  static final Config CONFIG =
      EventSourcedBehaviorTestKit.config()
          .withFallback(PersistenceTestKitSnapshotPlugin.config())
          .withFallback(ConfigFactory.parseString("pekko.loglevel = INFO"))
          .withFallback(ConfigFactory.load())
          .resolve();

  private static final Instant T0 = Instant.parse("2026-11-22T09:00:00Z");
  private static final AtomicInteger ids = new AtomicInteger();

  private ActorTestKit testKit;
  private ManualClock clock;
  private RecordingObserver observer;
  private String id;
  private EventSourcedBehaviorTestKit<Command, Event, State> kit;

  @BeforeAll
  void startSystem() {
    testKit = ActorTestKit.create("RegisteredServiceTest", CONFIG);
  }

  @AfterAll
  void stopSystem() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void newService() {
    clock = new ManualClock(T0);
    observer = new RecordingObserver();
    id = "ledger-source-" + ids.incrementAndGet();
    kit =
        EventSourcedBehaviorTestKit.create(
            testKit.system(),
            RegisteredService.create(id, observer, clock),
            EventSourcedBehaviorTestKit.enabledSerializationSettings());
  }

  // ---------------------------------------------------------------- helpers

  static ServiceDefinition definition(int ttlSeconds, Integer deregisterAfterSeconds) {
    return new ServiceDefinition(
        "Ledger source",
        "source",
        "10.0.0.7:9000",
        Map.of("env", "prod", "team", "payments"),
        ttlSeconds,
        deregisterAfterSeconds,
        null);
  }

  private CommandResultWithReply<Command, Event, State, StatusReply<RegisterResult>> register(
      ServiceDefinition def) {
    return kit.runCommand(r -> new Register(def, null, r));
  }

  private CommandResultWithReply<Command, Event, State, StatusReply<HeartbeatAck>> heartbeat(
      String status, Map<String, Double> metrics) {
    return kit.runCommand(
        r ->
            new Heartbeat(
                new HeartbeatReport(status, metrics, Map.of("version", "1.4.2")), null, r));
  }

  private ServiceView view() {
    StatusReply<ServiceView> reply =
        kit.<StatusReply<ServiceView>>runCommand(r -> new Get(null, r)).reply();
    assertThat(reply.isSuccess()).as("get answers %s", reply).isTrue();
    return reply.getValue();
  }

  private Registered registered() {
    return (Registered) kit.getState();
  }

  /**
   * A timer's command sent by hand: the entity checks against its (manual) clock, not against when
   * the timer ran.
   */
  private List<Event> checkTtl() {
    return kit.runCommand(new CheckTtl()).events();
  }

  private static Rejection rejection(StatusReply<?> reply) {
    assertThat(reply.isError()).as("expected a rejection, got %s", reply).isTrue();
    return Rejection.of(reply.getError()).orElseThrow();
  }

  // ---------------------------------------------------------------- registration

  @Test
  void registeringJournalsTheServiceHealthyAndStartsTheTtlClock() {
    var result = register(definition(30, null));

    assertThat(result.event()).isEqualTo(new ServiceRegistered(definition(30, null), T0));
    RegisterResult answer = result.reply().getValue();
    assertThat(answer.created()).isTrue();
    ServiceView v = answer.view();
    assertThat(v.status()).isEqualTo("healthy");
    assertThat(v.registeredAt()).isEqualTo(T0);
    assertThat(v.lastHeartbeatAt()).as("registration counts as a heartbeat").isEqualTo(T0);
    assertThat(v.nextHeartbeatBefore()).isEqualTo(T0.plusSeconds(30));
    assertThat(v.metadata()).containsEntry("env", "prod");
    assertThat(observer.statuses()).containsExactly("healthy");
  }

  @Test
  void theSameRegistrationAgainChangesNothingButCountsAsAHeartbeat() {
    register(definition(30, null));
    clock.advance(Duration.ofSeconds(20));

    var again = register(definition(30, null));

    assertThat(again.hasNoEvents()).isTrue();
    assertThat(again.reply().getValue().created()).isFalse();
    assertThat(again.reply().getValue().view().nextHeartbeatBefore()).isEqualTo(T0.plusSeconds(50));
  }

  @Test
  void aChangedRegistrationIsJournaledAsAnUpdate() {
    register(definition(30, null));
    clock.advance(Duration.ofSeconds(1));
    ServiceDefinition changed =
        new ServiceDefinition(
            "Ledger source", "source", "10.0.0.8:9000", Map.of("env", "prod"), 10, 60, null);

    var result = register(changed);

    assertThat(result.event()).isEqualTo(new ServiceUpdated(changed, T0.plusSeconds(1)));
    assertThat(result.reply().getValue().created()).isFalse();
    assertThat(registered().def()).isEqualTo(changed);
    assertThat(registered().registeredAt()).isEqualTo(T0);
  }

  @Test
  void anInvalidRegistrationIsRefusedAndNothingIsJournaled() {
    var result = register(new ServiceDefinition("", "Not A Type", null, Map.of(), 0, 0, null));

    assertThat(result.hasNoEvents()).isTrue();
    Rejection r = rejection(result.reply());
    assertThat(r.kind()).isEqualTo(Rejection.Kind.INVALID);
    assertThat(r.detail()).contains("name", "type", "ttlSeconds", "deregisterAfterSeconds");
    assertThat(kit.getState()).isInstanceOf(RegisteredService.Empty.class);
  }

  @Test
  void valuesTheReadModelCannotHoldAreRefusedAndNothingIsJournaled() {
    // On PostgreSQL a NUL in the name or a metadata value, or a tenant id longer than its column,
    // would have stopped the registry read model at this event.
    var result =
        register(
            new ServiceDefinition(
                "Ledger\u0000source",
                "source",
                "10.0.0.7:9000\u0000",
                Map.of("env", "prod\u0000", "a=b", "x"),
                30,
                null,
                "t".repeat(200)));

    assertThat(result.hasNoEvents()).isTrue();
    assertThat(rejection(result.reply()).detail())
        .contains(
            "name must not contain control characters",
            "endpoint must not contain control characters",
            "metadata.env must not contain control characters",
            "metadata keys must not contain '='",
            "tenantId must be a tenant id");
    assertThat(kit.getState()).isInstanceOf(RegisteredService.Empty.class);
  }

  // ---------------------------------------------------------------- heartbeats

  @Test
  void aHeartbeatThatKeepsTheStatusIsNotJournaledButIsShown() {
    register(definition(30, null));
    clock.advance(Duration.ofSeconds(5));

    var result = heartbeat("healthy", Map.of("lag_seconds", 1.5));

    assertThat(result.hasNoEvents()).isTrue();
    assertThat(result.reply().getValue())
        .isEqualTo(new HeartbeatAck("healthy", 30, T0.plusSeconds(35)));
    ServiceView v = view();
    assertThat(v.lastHeartbeatAt()).isEqualTo(T0.plusSeconds(5));
    assertThat(v.metrics()).containsEntry("lag_seconds", 1.5);
    assertThat(v.details()).containsEntry("version", "1.4.2");
    assertThat(observer.last().metrics()).containsEntry("lag_seconds", 1.5);
  }

  @Test
  void aHeartbeatWithoutAStatusMeansHealthy() {
    register(definition(30, null));
    heartbeat("unhealthy", Map.of());

    var result = heartbeat(null, Map.of());

    assertThat(result.event())
        .isEqualTo(new StatusChanged("unhealthy", "healthy", "heartbeat", T0));
    assertThat(result.reply().getValue().status()).isEqualTo("healthy");
  }

  @Test
  void aReportedStatusChangeIsJournaledAsATransition() {
    register(definition(30, null));
    clock.advance(Duration.ofSeconds(3));

    var result = heartbeat("degraded", Map.of("lag_seconds", 45.0));

    assertThat(result.event())
        .isEqualTo(new StatusChanged("healthy", "degraded", "heartbeat", T0.plusSeconds(3)));
    assertThat(registered().statusSince()).isEqualTo(T0.plusSeconds(3));
    assertThat(observer.statuses()).containsExactly("healthy", "degraded");
  }

  @Test
  void aHeartbeatWithAnUnknownStatusOrBadMetricIsRefused() {
    register(definition(30, null));

    var result = heartbeat("sleepy", Map.of("lag", Double.NaN));

    assertThat(result.hasNoEvents()).isTrue();
    assertThat(rejection(result.reply()).detail()).contains("status", "metrics.lag");
    assertThat(registered().status()).isEqualTo("healthy");
  }

  @Test
  void aHeartbeatForAnUnknownServiceTellsTheClientToRegisterFirst() {
    var result = heartbeat("healthy", Map.of());

    assertThat(result.hasNoEvents()).isTrue();
    Rejection r = rejection(result.reply());
    assertThat(r.kind()).isEqualTo(Rejection.Kind.NOT_FOUND);
    assertThat(r.detail()).contains("register it first", "PUT /api/v1/services/" + id);
  }

  // ---------------------------------------------------------------- TTL

  @Test
  void noHeartbeatWithinTheTtlTurnsTheServiceStale() {
    register(definition(30, null));
    clock.advance(Duration.ofSeconds(29));
    assertThat(checkTtl()).as("not yet").isEmpty();

    clock.advance(Duration.ofSeconds(1));
    List<Event> events = checkTtl();

    assertThat(events)
        .containsExactly(
            new StatusChanged("healthy", "stale", "no heartbeat within 30s", T0.plusSeconds(30)));
    assertThat(view().status()).isEqualTo("stale");
    assertThat(view().nextHeartbeatBefore()).isNull();
    assertThat(observer.statuses()).endsWith("stale");
  }

  @Test
  void aHeartbeatPushesTheTtlOut() {
    register(definition(30, null));
    clock.advance(Duration.ofSeconds(20));
    heartbeat("healthy", Map.of());
    clock.advance(Duration.ofSeconds(20));

    assertThat(checkTtl()).as("40 s after registration, 20 s after the heartbeat").isEmpty();

    clock.advance(Duration.ofSeconds(10));
    assertThat(checkTtl()).hasSize(1);
  }

  @Test
  void aStaleServiceThatHeartbeatsComesBack() {
    register(definition(30, null));
    clock.advance(Duration.ofSeconds(31));
    checkTtl();

    var result = heartbeat("healthy", Map.of());

    assertThat(result.event())
        .isEqualTo(new StatusChanged("stale", "healthy", "heartbeat", T0.plusSeconds(31)));
    assertThat(result.reply().getValue().nextHeartbeatBefore()).isEqualTo(T0.plusSeconds(61));
    assertThat(observer.statuses()).containsExactly("healthy", "stale", "healthy");
  }

  @Test
  void reRegisteringAStaleServiceMakesItHealthy() {
    register(definition(30, null));
    clock.advance(Duration.ofSeconds(31));
    checkTtl();

    var result = register(definition(30, null));

    assertThat(result.events())
        .containsExactly(new StatusChanged("stale", "healthy", "registered", T0.plusSeconds(31)));
    assertThat(result.reply().getValue().view().status()).isEqualTo("healthy");
  }

  @Test
  void afterARestartTheTtlClockRestartsFromRecovery() {
    register(definition(30, null));
    heartbeat("degraded", Map.of("lag_seconds", 3.0));
    // The control plane is down for ten minutes: no heartbeat could reach it.
    clock.advance(Duration.ofMinutes(10));

    kit.restart();

    assertThat(registered().status()).as("journaled status survives").isEqualTo("degraded");
    ServiceView v = view();
    assertThat(v.lastHeartbeatAt()).as("heartbeats are not journaled").isNull();
    assertThat(v.metrics()).isEmpty();
    assertThat(v.nextHeartbeatBefore())
        .as("one TTL of grace from recovery")
        .isEqualTo(T0.plusSeconds(600 + 30));
    clock.advance(Duration.ofSeconds(29));
    assertThat(checkTtl()).as("not stale within the grace").isEmpty();
    clock.advance(Duration.ofSeconds(1));
    assertThat(checkTtl())
        .containsExactly(
            new StatusChanged("degraded", "stale", "no heartbeat within 30s", T0.plusSeconds(630)));
  }

  @Test
  void whileTheClusterIsDisturbedTheTtlWaitsOneTtlPastTheDisturbance() {
    // A node died at T0+25 s; heartbeats routed through its shard coordinator wait in Keel until
    // its take-over ends at T0+50 s. Missing heartbeats meanwhile are not the service's fault.
    java.util.concurrent.atomic.AtomicReference<Instant> disturbedUntil =
        new java.util.concurrent.atomic.AtomicReference<>(Instant.EPOCH);
    kit =
        EventSourcedBehaviorTestKit.create(
            testKit.system(),
            RegisteredService.create(id, observer, clock, disturbedUntil::get),
            EventSourcedBehaviorTestKit.enabledSerializationSettings());
    register(definition(30, null));
    clock.advance(Duration.ofSeconds(25));
    disturbedUntil.set(clock.instant().plusSeconds(25));

    clock.advance(Duration.ofSeconds(5));
    assertThat(checkTtl()).as("30 s without a heartbeat, but during the disturbance").isEmpty();
    assertThat(view().nextHeartbeatBefore())
        .as("one TTL after the disturbance")
        .isEqualTo(T0.plusSeconds(50 + 30));
    clock.advance(Duration.ofSeconds(49));
    assertThat(checkTtl()).as("29 s after the disturbance").isEmpty();

    clock.advance(Duration.ofSeconds(1));
    assertThat(checkTtl())
        .containsExactly(
            new StatusChanged("healthy", "stale", "no heartbeat within 30s", T0.plusSeconds(80)));
  }

  @Test
  void aDisturbanceLongAgoChangesNothing() {
    kit =
        EventSourcedBehaviorTestKit.create(
            testKit.system(),
            RegisteredService.create(id, observer, clock, () -> T0.minusSeconds(3600)),
            EventSourcedBehaviorTestKit.enabledSerializationSettings());
    register(definition(30, null));
    clock.advance(Duration.ofSeconds(30));
    assertThat(checkTtl()).hasSize(1);
  }

  @Test
  void theTtlTimerFiresOnItsOwn() {
    // A real clock and Pekko's own timer, no hand-sent CheckTtl: this is what runs in production.
    ActorRef<Command> service =
        testKit.spawn(RegisteredService.create("timer-" + id, observer, Clock.systemUTC()));
    TestProbe<StatusReply<RegisterResult>> registered = testKit.createTestProbe();
    service.tell(new Register(definition(1, null), null, registered.ref()));
    assertThat(registered.receiveMessage().isSuccess()).isTrue();

    TestProbe<StatusReply<ServiceView>> probe = testKit.createTestProbe();
    probe.awaitAssert(
        Duration.ofSeconds(5),
        Duration.ofMillis(100),
        () -> {
          service.tell(new Get(null, probe.ref()));
          assertThat(probe.receiveMessage().getValue().status()).isEqualTo("stale");
          return null;
        });
  }

  // ---------------------------------------------------------------- request ids in log lines

  @Test
  void aCommandSentOnBehalfOfARequestIsHandledAsTheCommandItself() {
    var result =
        kit.<StatusReply<RegisterResult>>runCommand(
            r -> new Traced("req-register", null, new Register(definition(30, null), null, r)));

    assertThat(result.event()).isEqualTo(new ServiceRegistered(definition(30, null), T0));
    assertThat(result.reply().getValue().created()).isTrue();
  }

  @Test
  void whatTheEntityLogsForARequestCarriesItsIdAndNothingElseDoes() {
    ch.qos.logback.classic.Logger logger =
        (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(RegisteredService.class);
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> lines =
        new ch.qos.logback.core.read.ListAppender<>();
    lines.start();
    logger.addAppender(lines);
    try {
      ActorRef<Command> service = testKit.spawn(RegisteredService.create(id, observer, clock));
      TestProbe<StatusReply<RegisterResult>> registered = testKit.createTestProbe();
      TestProbe<StatusReply<HeartbeatAck>> heartbeat = testKit.createTestProbe();
      TestProbe<StatusReply<Done>> deregistered = testKit.createTestProbe();

      // Sent together: the second and third arrive while the first one's event is being written and
      // wait their turn; the first one's line (logged once the write is confirmed) keeps its own
      // id.
      service.tell(
          new Traced(
              "req-register", null, new Register(definition(30, null), null, registered.ref())));
      service.tell(
          new Heartbeat(
              new HeartbeatReport("unhealthy", Map.of(), Map.of()), null, heartbeat.ref()));
      service.tell(new Traced("req-deregister", null, new Deregister(null, deregistered.ref())));
      registered.receiveMessage();
      heartbeat.receiveMessage();
      deregistered.receiveMessage();

      Map<String, String> idByLine = new java.util.LinkedHashMap<>();
      for (ch.qos.logback.classic.spi.ILoggingEvent line : lines.list) {
        String message = line.getFormattedMessage();
        if (message.contains("serviceId=" + id + " ")) {
          idByLine.put(
              message.substring(0, message.indexOf(" serviceId")),
              line.getMDCPropertyMap().getOrDefault("requestId", "none"));
        }
      }
      assertThat(idByLine)
          .containsExactly(
              Map.entry("service registered", "req-register"),
              Map.entry("service status changed", "none"),
              Map.entry("service deregistered", "req-deregister"));
    } finally {
      logger.detachAppender(lines);
    }
  }

  // ---------------------------------------------------------------- deregistration

  @Test
  void deregisteringJournalsItAndForgetsTheService() {
    register(definition(30, null));
    clock.advance(Duration.ofSeconds(2));

    var result = kit.<StatusReply<Done>>runCommand(r -> new Deregister(null, r));

    assertThat(result.event())
        .isEqualTo(new ServiceDeregistered(false, "deregistered by a client", T0.plusSeconds(2)));
    assertThat(kit.getState()).isInstanceOf(Deregistered.class);
    assertThat(observer.gone).containsExactly(id);
    assertThat(
            rejection(kit.<StatusReply<ServiceView>>runCommand(r -> new Get(null, r)).reply())
                .kind())
        .isEqualTo(Rejection.Kind.NOT_FOUND);
    assertThat(rejection(heartbeat("healthy", Map.of()).reply()).detail())
        .contains("register it first");
  }

  @Test
  void deregisteringTwiceAnswersTheSameAndJournalsOnce() {
    register(definition(30, null));
    kit.<StatusReply<Done>>runCommand(r -> new Deregister(null, r));

    var again = kit.<StatusReply<Done>>runCommand(r -> new Deregister(null, r));

    assertThat(again.hasNoEvents()).isTrue();
    assertThat(again.reply().isSuccess()).isTrue();
  }

  @Test
  void deregisteringAServiceNeverRegisteredIsNotFound() {
    var result = kit.<StatusReply<Done>>runCommand(r -> new Deregister(null, r));

    assertThat(rejection(result.reply()).kind()).isEqualTo(Rejection.Kind.NOT_FOUND);
  }

  @Test
  void aDeregisteredServiceCanRegisterAgainAfresh() {
    register(definition(30, null));
    kit.<StatusReply<Done>>runCommand(r -> new Deregister(null, r));
    clock.advance(Duration.ofMinutes(1));

    var result = register(definition(30, null));

    assertThat(result.reply().getValue().created()).isTrue();
    assertThat(registered().registeredAt()).isEqualTo(T0.plusSeconds(60));
  }

  @Test
  void aServiceStaleForDeregisterAfterSecondsIsDeregisteredAutomatically() {
    register(definition(10, 60));
    clock.advance(Duration.ofSeconds(10));
    checkTtl();
    clock.advance(Duration.ofSeconds(59));
    assertThat(kit.runCommand(new CheckDeregister()).events()).as("stale for 59 s only").isEmpty();

    clock.advance(Duration.ofSeconds(1));
    List<Event> events = kit.runCommand(new CheckDeregister()).events();

    assertThat(events)
        .containsExactly(
            new ServiceDeregistered(true, "stale for more than 60s", T0.plusSeconds(70)));
    assertThat(observer.gone).containsExactly(id);
  }

  @Test
  void aServiceThatComesBackIsNotDeregistered() {
    register(definition(10, 60));
    clock.advance(Duration.ofSeconds(10));
    checkTtl();
    heartbeat("healthy", Map.of());
    clock.advance(Duration.ofSeconds(120));

    assertThat(kit.runCommand(new CheckDeregister()).events()).isEmpty();
    assertThat(registered().status()).isEqualTo("healthy");
  }

  // ---------------------------------------------------------------- tenants

  private static ServiceDefinition ofTenant(String tenantId) {
    ServiceDefinition d = definition(30, null);
    return new ServiceDefinition(
        d.name(), d.type(), d.endpoint(), d.metadata(), d.ttlSeconds(), null, tenantId);
  }

  @Test
  void anotherTenantSeesTheServiceAsUnknownAndCannotTakeItsId() {
    register(ofTenant("acme"));

    assertThat(
            rejection(kit.<StatusReply<ServiceView>>runCommand(r -> new Get("globex", r)).reply())
                .kind())
        .isEqualTo(Rejection.Kind.NOT_FOUND);
    var beat =
        kit.<StatusReply<HeartbeatAck>>runCommand(
            r -> new Heartbeat(new HeartbeatReport("unhealthy", Map.of(), Map.of()), "globex", r));
    assertThat(rejection(beat.reply()).kind()).isEqualTo(Rejection.Kind.NOT_FOUND);
    var delete = kit.<StatusReply<Done>>runCommand(r -> new Deregister("globex", r));
    assertThat(rejection(delete.reply()).kind()).isEqualTo(Rejection.Kind.NOT_FOUND);
    var takeover =
        kit.<StatusReply<RegisterResult>>runCommand(
            r -> new Register(ofTenant("globex"), "globex", r));
    assertThat(rejection(takeover.reply()).kind()).isEqualTo(Rejection.Kind.CONFLICT);

    assertThat(
            kit.persistenceTestKit().persistedInStorage(RegisteredService.persistenceId(id).id()))
        .hasSize(1);
    assertThat(registered().status()).isEqualTo("healthy");
    assertThat(
            kit.<StatusReply<ServiceView>>runCommand(r -> new Get("acme", r))
                .reply()
                .getValue()
                .tenantId())
        .isEqualTo("acme");
  }

  @Test
  void theAdminReRegisteringATenantsServiceKeepsItsOwner() {
    register(ofTenant("acme"));

    var result =
        kit.<StatusReply<RegisterResult>>runCommand(
            r -> new Register(definition(60, null), null, r));

    assertThat(result.reply().getValue().view().tenantId()).isEqualTo("acme");
    assertThat(result.reply().getValue().view().ttlSeconds()).isEqualTo(60);
  }

  // ---------------------------------------------------------------- replay

  @Test
  void theEventHandlerRebuildsTheStateFromTheJournal() {
    register(definition(30, null));
    heartbeat("unhealthy", Map.of());
    clock.advance(Duration.ofSeconds(31));
    checkTtl();
    register(definition(15, null));

    State replayed = new RegisteredService.Empty();
    for (Object e :
        kit.persistenceTestKit().persistedInStorage(RegisteredService.persistenceId(id).id())) {
      replayed = RegisteredService.apply(replayed, (Event) e);
    }

    assertThat(replayed).isEqualTo(kit.getState());
    assertThat(((Registered) replayed).status()).isEqualTo("healthy");
    assertThat(((Registered) replayed).def().ttlSeconds()).isEqualTo(15);
  }

  /** Records what the entity reports, as the alert evaluator would receive it. */
  static final class RecordingObserver implements ServiceObserver {
    final List<ServiceObservation> observed = Collections.synchronizedList(new ArrayList<>());
    final List<String> gone = Collections.synchronizedList(new ArrayList<>());

    @Override
    public void observe(ServiceObservation observation) {
      observed.add(observation);
    }

    @Override
    public void gone(String serviceId, String tenantId) {
      gone.add(serviceId);
    }

    /** The statuses reported, each run of repeats once (every heartbeat reports). */
    List<String> statuses() {
      List<String> out = new ArrayList<>();
      for (ServiceObservation o : observed) {
        if (out.isEmpty() || !out.get(out.size() - 1).equals(o.status())) out.add(o.status());
      }
      return out;
    }

    ServiceObservation last() {
      return observed.get(observed.size() - 1);
    }
  }

  @Test
  void anEventTheStateCannotTakeFailsTheReplayInsteadOfBeingIgnored() {
    assertThatThrownBy(
            () ->
                RegisteredService.apply(
                    new RegisteredService.Empty(),
                    new RegisteredService.StatusChanged("healthy", "stale", "ttl", T0)))
        .isInstanceOf(UnexpectedEvent.class)
        .hasMessage("unexpected event StatusChanged in state Empty");
  }
}
