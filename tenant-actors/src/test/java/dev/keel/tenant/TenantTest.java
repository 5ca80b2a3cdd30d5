package dev.keel.tenant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.keel.persistence.ManualClock;
import dev.keel.persistence.Rejection;
import dev.keel.persistence.UnexpectedEvent;
import dev.keel.tenant.Tenant.Activate;
import dev.keel.tenant.Tenant.Active;
import dev.keel.tenant.Tenant.ApiKeyRotated;
import dev.keel.tenant.Tenant.CheckKey;
import dev.keel.tenant.Tenant.Command;
import dev.keel.tenant.Tenant.Create;
import dev.keel.tenant.Tenant.Delete;
import dev.keel.tenant.Tenant.Deleted;
import dev.keel.tenant.Tenant.Deleting;
import dev.keel.tenant.Tenant.Event;
import dev.keel.tenant.Tenant.KeyCheck;
import dev.keel.tenant.Tenant.MarkDeleted;
import dev.keel.tenant.Tenant.Provisioning;
import dev.keel.tenant.Tenant.Reactivate;
import dev.keel.tenant.Tenant.RotateKey;
import dev.keel.tenant.Tenant.State;
import dev.keel.tenant.Tenant.Suspend;
import dev.keel.tenant.Tenant.Suspended;
import dev.keel.tenant.Tenant.TenantCreated;
import dev.keel.tenant.Tenant.TenantProfile;
import dev.keel.tenant.Tenant.TenantView;
import dev.keel.workflow.execution.WorkflowStarter;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.PersistenceTestKitSnapshotPlugin;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.SnapshotTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Every lifecycle transition of a tenant, key checks and the outbox start of its lifecycle
 * workflows.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TenantTest {

  static final Config CONFIG =
      EventSourcedBehaviorTestKit.config()
          .withFallback(PersistenceTestKitSnapshotPlugin.config())
          .withFallback(ConfigFactory.parseString("pekko.loglevel = INFO"))
          .withFallback(ConfigFactory.load())
          .resolve();

  private static final Instant T0 = Instant.parse("2026-11-22T09:00:00Z");
  private static final AtomicInteger ids = new AtomicInteger();
  private static final String KEY = "keel_tabcdefghijklmnopqrstuvwxyz_" + "ab".repeat(32);

  private ActorTestKit testKit;
  private ManualClock clock;
  private RecordingStarter starter;
  private String id;
  private EventSourcedBehaviorTestKit<Command, Event, State> kit;

  @BeforeAll
  void startSystem() {
    testKit = ActorTestKit.create("TenantTest", CONFIG);
  }

  @AfterAll
  void stopSystem() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void newTenant() {
    clock = new ManualClock(T0);
    starter = new RecordingStarter();
    id =
        "t"
            + "abcdefghijklmnopqrstuvwxy".substring(0, 25)
            + (char) ('a' + ids.incrementAndGet() % 26);
    kit =
        EventSourcedBehaviorTestKit.create(
            testKit.system(),
            Tenant.create(id, starter, clock),
            EventSourcedBehaviorTestKit.enabledSerializationSettings());
  }

  private static final TenantProfile ACME =
      new TenantProfile("acme", "Acme Inc", "free", "acme.keel.localhost");

  private TenantView create() {
    var result =
        kit.<StatusReply<TenantView>>runCommand(r -> new Create(ACME, ApiKeys.hash(KEY), r));
    assertThat(result.event()).isEqualTo(new TenantCreated(ACME, ApiKeys.hash(KEY), T0));
    return result.reply().getValue();
  }

  private TenantView ok(StatusReply<TenantView> reply) {
    assertThat(reply.isSuccess()).as("%s", reply).isTrue();
    return reply.getValue();
  }

  private Rejection rejected(StatusReply<?> reply) {
    assertThat(reply.isError()).as("%s", reply).isTrue();
    return Rejection.of(reply.getError()).orElseThrow();
  }

  private KeyCheck.Outcome check(String key) {
    return kit.<KeyCheck>runCommand(r -> new CheckKey(ApiKeys.hash(key), r)).reply().outcome();
  }

  @Test
  void creatingJournalsTheTenantItsDomainAndKeyHashInOneEventAndStartsProvisioning() {
    TenantView view = create();

    assertThat(view.status()).isEqualTo("provisioning");
    assertThat(view.defaultDomain()).isEqualTo("acme.keel.localhost");
    assertThat(view.lifecycleWorkflowId()).isEqualTo(Tenant.provisioningWorkflowId(id));
    assertThat(kit.getState()).isInstanceOf(Provisioning.class);
    starter.awaitStarts(1);
    assertThat(starter.starts.get(0).workflow()).isEqualTo(Tenant.PROVISIONING_WORKFLOW);
    assertThat(starter.starts.get(0).input().get("tenantId").asText()).isEqualTo(id);
    assertThat(view.toString())
        .as("the view never holds the key or its hash")
        .doesNotContain(ApiKeys.hash(KEY));
  }

  @Test
  void aSecondCreateOfTheSameIdIsAConflict() {
    create();
    var again =
        kit.<StatusReply<TenantView>>runCommand(r -> new Create(ACME, ApiKeys.hash(KEY), r));
    assertThat(again.hasNoEvents()).isTrue();
    assertThat(rejected(again.reply()).kind()).isEqualTo(Rejection.Kind.CONFLICT);
  }

  @Test
  void theLifecycleRunsProvisioningActiveSuspendedActiveDeletingDeleted() {
    create();
    assertThat(ok(kit.<StatusReply<TenantView>>runCommand(Activate::new).reply()).status())
        .isEqualTo("active");
    clock.advance(Duration.ofMinutes(1));
    TenantView suspended =
        ok(kit.<StatusReply<TenantView>>runCommand(r -> new Suspend("unpaid invoice", r)).reply());
    assertThat(suspended.status()).isEqualTo("suspended");
    assertThat(suspended.suspendedReason()).isEqualTo("unpaid invoice");
    assertThat(kit.getState()).isInstanceOf(Suspended.class);
    assertThat(ok(kit.<StatusReply<TenantView>>runCommand(Reactivate::new).reply()).status())
        .isEqualTo("active");
    assertThat(kit.getState()).isInstanceOf(Active.class);

    TenantView deleting = ok(kit.<StatusReply<TenantView>>runCommand(Delete::new).reply());
    assertThat(deleting.status()).isEqualTo("deleting");
    assertThat(deleting.lifecycleWorkflowId()).isEqualTo(Tenant.deprovisioningWorkflowId(id));
    starter.awaitStarts(2);
    assertThat(starter.starts.get(1).workflow()).isEqualTo(Tenant.DEPROVISIONING_WORKFLOW);
    assertThat(kit.getState()).isInstanceOf(Deleting.class);
    assertThat(ok(kit.<StatusReply<TenantView>>runCommand(MarkDeleted::new).reply()).status())
        .isEqualTo("deleted");
    assertThat(kit.getState()).isInstanceOf(Deleted.class);
  }

  @Test
  void illegalTransitionsAreConflictsAndJournalNothing() {
    create();
    var suspendWhileProvisioning =
        kit.<StatusReply<TenantView>>runCommand(r -> new Suspend(null, r));
    assertThat(rejected(suspendWhileProvisioning.reply()).detail())
        .contains("cannot suspend a tenant that is provisioning");
    assertThat(suspendWhileProvisioning.hasNoEvents()).isTrue();
    assertThat(rejected(kit.<StatusReply<TenantView>>runCommand(MarkDeleted::new).reply()).kind())
        .isEqualTo(Rejection.Kind.CONFLICT);
    assertThat(rejected(kit.<StatusReply<TenantView>>runCommand(Reactivate::new).reply()).kind())
        .isEqualTo(Rejection.Kind.CONFLICT);

    kit.<StatusReply<TenantView>>runCommand(Activate::new);
    kit.<StatusReply<TenantView>>runCommand(Delete::new);
    assertThat(rejected(kit.<StatusReply<TenantView>>runCommand(Reactivate::new).reply()).detail())
        .contains("deleting");
    assertThat(
            rejected(
                    kit.<StatusReply<TenantView>>runCommand(
                            r -> new RotateKey(ApiKeys.hash("x"), r))
                        .reply())
                .kind())
        .isEqualTo(Rejection.Kind.CONFLICT);
  }

  @Test
  void repeatingATransitionAnswersTheSameWithoutANewEvent() {
    create();
    kit.<StatusReply<TenantView>>runCommand(Activate::new);
    var again = kit.<StatusReply<TenantView>>runCommand(Activate::new);
    assertThat(again.hasNoEvents()).isTrue();
    assertThat(ok(again.reply()).status()).isEqualTo("active");
    kit.<StatusReply<TenantView>>runCommand(r -> new Suspend(null, r));
    assertThat(kit.<StatusReply<TenantView>>runCommand(r -> new Suspend(null, r)).hasNoEvents())
        .isTrue();
  }

  @Test
  void keysAreCheckedByHashAndRefusedWhenSuspendedBeingDeletedOrGone() {
    assertThat(check(KEY)).isEqualTo(KeyCheck.Outcome.UNKNOWN_TENANT);
    create();
    assertThat(check(KEY)).as("usable while provisioning").isEqualTo(KeyCheck.Outcome.VALID);
    assertThat(check(KEY.substring(0, KEY.length() - 1) + "0"))
        .isEqualTo(KeyCheck.Outcome.WRONG_KEY);
    kit.<StatusReply<TenantView>>runCommand(Activate::new);
    kit.<StatusReply<TenantView>>runCommand(r -> new Suspend(null, r));
    assertThat(check(KEY)).isEqualTo(KeyCheck.Outcome.SUSPENDED);
    kit.<StatusReply<TenantView>>runCommand(Reactivate::new);
    assertThat(check(KEY)).isEqualTo(KeyCheck.Outcome.VALID);
    kit.<StatusReply<TenantView>>runCommand(Delete::new);
    assertThat(check(KEY)).isEqualTo(KeyCheck.Outcome.DELETING);
    kit.<StatusReply<TenantView>>runCommand(MarkDeleted::new);
    assertThat(check(KEY)).isEqualTo(KeyCheck.Outcome.UNKNOWN_TENANT);
  }

  @Test
  void rotatingTheKeyInvalidatesTheOldOneAtOnce() {
    create();
    String next = KEY.substring(0, KEY.length() - 2) + "cd";
    clock.advance(Duration.ofSeconds(5));

    var result = kit.<StatusReply<TenantView>>runCommand(r -> new RotateKey(ApiKeys.hash(next), r));

    assertThat(result.event()).isEqualTo(new ApiKeyRotated(ApiKeys.hash(next), T0.plusSeconds(5)));
    assertThat(ok(result.reply()).keyRotatedAt()).isEqualTo(T0.plusSeconds(5));
    assertThat(check(KEY)).isEqualTo(KeyCheck.Outcome.WRONG_KEY);
    assertThat(check(next)).isEqualTo(KeyCheck.Outcome.VALID);
  }

  @Test
  void aTenantThatRecoversWhileProvisioningStartsItsWorkflowAgainIdempotently() {
    create();
    starter.awaitStarts(1);

    kit.restart();

    starter.awaitStarts(2);
    assertThat(starter.starts.get(1).workflowId()).isEqualTo(starter.starts.get(0).workflowId());
  }

  @Test
  void aFailedWorkflowStartIsRetried() {
    starter.failuresLeft.set(1);
    create();
    // The first start fails; the entity retries on a timer (10 s), or at once after a restart.
    starter.awaitStarts(1);
    kit.restart();
    starter.awaitStarts(2);
    assertThat(starter.succeeded.get()).isEqualTo(1);
  }

  @Test
  void unknownTenantsAnswerNotFound() {
    assertThat(rejected(kit.<StatusReply<TenantView>>runCommand(Tenant.Get::new).reply()).kind())
        .isEqualTo(Rejection.Kind.NOT_FOUND);
    assertThat(rejected(kit.<StatusReply<TenantView>>runCommand(Activate::new).reply()).kind())
        .isEqualTo(Rejection.Kind.NOT_FOUND);
  }

  @Test
  void theEventHandlerRebuildsTheStateFromTheJournal() {
    create();
    kit.<StatusReply<TenantView>>runCommand(Activate::new);
    kit.<StatusReply<TenantView>>runCommand(r -> new Suspend("audit", r));
    kit.<StatusReply<TenantView>>runCommand(r -> new RotateKey(ApiKeys.hash("other"), r));

    State replayed = new Tenant.Empty();
    for (Object e : kit.persistenceTestKit().persistedInStorage(Tenant.persistenceId(id).id())) {
      replayed = Tenant.apply(replayed, (Event) e);
    }
    assertThat(replayed).isEqualTo(kit.getState());
  }

  /** Records starts; fails the first {@code failuresLeft} of them. */
  static final class RecordingStarter implements WorkflowStarter {
    record Start(String workflowId, String workflow, JsonNode input) {}

    final List<Start> starts = new CopyOnWriteArrayList<>();
    final AtomicInteger failuresLeft = new AtomicInteger();
    final AtomicInteger succeeded = new AtomicInteger();

    @Override
    public CompletionStage<StartOutcome> start(
        String workflowId, String workflow, JsonNode input, String tenantId) {
      starts.add(new Start(workflowId, workflow, input));
      if (failuresLeft.getAndDecrement() > 0)
        return CompletableFuture.failedFuture(new IllegalStateException("journal unavailable"));
      succeeded.incrementAndGet();
      return CompletableFuture.completedFuture(new StartOutcome(workflowId, succeeded.get() == 1));
    }

    void awaitStarts(int n) {
      long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
      while (starts.size() < n) {
        if (System.nanoTime() > deadline)
          throw new AssertionError("expected " + n + " starts, saw " + starts);
        Thread.onSpinWait();
      }
    }
  }

  // ---------------------------------------------------------------- snapshots on demand

  @Test
  void aSnapshotOnDemandIsStoredBeforeTheReplyAndTheTenantRecoversFromIt() {
    create();
    ok(kit.<StatusReply<TenantView>>runCommand(Activate::new).reply());
    State active = kit.getState();
    SnapshotTestKit snapshots = SnapshotTestKit.create(testKit.system());
    clock.advance(Duration.ofMinutes(1));

    var saved = kit.<StatusReply<Done>>runCommand(Tenant.SaveSnapshot::new);

    assertThat(saved.reply().isSuccess()).as("%s", saved.reply()).isTrue();
    assertThat(saved.event()).isEqualTo(new Tenant.SnapshotRequested(T0.plusSeconds(60)));
    assertThat(saved.state()).as("the marker changes nothing").isEqualTo(active);
    assertThat(snapshots.persistedInStorage(Tenant.persistenceId(id).id()))
        .extracting(p -> p.second())
        .last()
        .isEqualTo(active);
    kit.restart();
    assertThat(kit.getState()).isEqualTo(active);
    assertThat(TenantViews.of(id, kit.getState()).updatedAt()).isEqualTo(T0);
  }

  @Test
  void aSnapshotThatIsNotStoredIsAnUnavailableReply() {
    create();
    SnapshotTestKit.create(testKit.system()).failNextPersisted(Tenant.persistenceId(id).id());

    var failed = kit.<StatusReply<Done>>runCommand(Tenant.SaveSnapshot::new);

    assertThat(rejected(failed.reply()).kind()).isEqualTo(Rejection.Kind.UNAVAILABLE);
    assertThat(rejected(failed.reply()).detail()).contains("tenant|" + id);
  }

  @Test
  void anUnknownTenantIsNotSnapshottedNorCreated() {
    var missing = kit.<StatusReply<Done>>runCommand(Tenant.SaveSnapshot::new);

    assertThat(missing.hasNoEvents()).isTrue();
    assertThat(rejected(missing.reply()).kind()).isEqualTo(Rejection.Kind.NOT_FOUND);
    assertThat(kit.getState()).isInstanceOf(Tenant.Empty.class);
  }

  @Test
  void anEventTheStateCannotTakeFailsTheReplayInsteadOfBeingIgnored() {
    assertThatThrownBy(() -> Tenant.apply(new Tenant.Empty(), new Tenant.TenantSuspended("x", T0)))
        .isInstanceOf(UnexpectedEvent.class)
        .hasMessage("unexpected event TenantSuspended in state Empty");
  }
}
