package dev.keel.tenant.quota;

import dev.keel.persistence.Rejection;
import dev.keel.persistence.RequestScope;
import dev.keel.tenant.TenantPlanLookup;
import dev.keel.tenant.TenantPlanLookup.TenantPlan;
import dev.keel.tenant.TenantSettings;
import dev.keel.tenant.quota.QuotaLedger.Outcome;
import dev.keel.tenant.quota.QuotaLedger.Reservation;
import dev.keel.workflow.execution.WorkflowStarter;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;
import java.util.function.BiFunction;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Plan quotas in the write path: a new service, workflow start or custom domain of a limited tenant
 * is reserved in the tenant's {@link QuotaLedger} before its own entity journals it, so that
 * concurrent creates never pass a limit. The admin acting for itself, tenants whose plan leaves the
 * quota unlimited, tenants that do not exist and plans no longer configured (logged) never reach a
 * ledger: after the first request a tenant's plan is known here (plans never change), so they cost
 * no round trip at all.
 *
 * <p>A reservation the create did not need is given back: when the create fails with an answer
 * (another tenant's id, bad input), or a start turns out not to be new. A create that timed out
 * keeps its reservation, since it may still happen; the ledger reconciles services and domains
 * later. When a ledger refuses, the resource itself is asked once: an id that exists already (a
 * retry, or a resource older than the ledger) is never refused.
 */
public final class QuotaAdmission {

  private static final Logger log = LoggerFactory.getLogger(QuotaAdmission.class);
  private static final int MAX_ROUNDS = 3;

  /** Whether a resource exists now, asked of its own entity; fails when that cannot be told. */
  @FunctionalInterface
  public interface ResourceCheck {
    CompletionStage<Boolean> exists(String tenantId, String resourceId);

    /** A check from a lookup that answers the resource, or fails with a not-found rejection. */
    static ResourceCheck of(BiFunction<String, String, CompletionStage<?>> lookup) {
      return (tenantId, resourceId) -> {
        CompletionStage<?> found;
        try {
          found = lookup.apply(tenantId, resourceId);
        } catch (RuntimeException e) {
          found = CompletableFuture.failedFuture(e);
        }
        return found.handle(
            (answer, failure) -> {
              if (failure == null) return true;
              if (Rejection.of(failure)
                  .map(r -> r.kind() == Rejection.Kind.NOT_FOUND)
                  .orElse(false)) return false;
              throw failure instanceof CompletionException c ? c : new CompletionException(failure);
            });
      };
    }
  }

  /** The usage a ledger starts from, read from the read models ({@link QuotaService#baseline}). */
  @FunctionalInterface
  public interface Baselines {
    CompletionStage<Baseline> baseline(String tenantId, Quota quota, YearMonth month);
  }

  /** The ids a tenant has (services, domains), or the number of starts of a month. */
  public record Baseline(List<String> resourceIds, long used) {}

  private final ClusterSharding sharding;
  private final Map<String, TenantSettings.Plan> plans;
  private final TenantPlanLookup tenants;
  private final Baselines baselines;
  private final Map<Quota, ResourceCheck> checks;
  private final Duration askTimeout;
  private final Clock clock;
  // A tenant's plan never changes, so it is asked once; only tenants that exist are kept.
  private final Map<String, TenantPlan> knownPlans = new ConcurrentHashMap<>();

  public QuotaAdmission(
      ActorSystem<?> system,
      Map<String, TenantSettings.Plan> plans,
      TenantPlanLookup tenants,
      Baselines baselines,
      Map<Quota, ResourceCheck> checks,
      Duration askTimeout,
      Clock clock) {
    this.sharding = ClusterSharding.get(system);
    this.plans = Map.copyOf(plans);
    this.tenants = tenants;
    this.baselines = baselines;
    this.checks = Map.copyOf(checks);
    this.askTimeout = askTimeout;
    this.clock = clock;
  }

  /**
   * Runs {@code create} when {@code tenantId} may have {@code resourceId} of {@code quota}; fails
   * with {@link QuotaExceededException} otherwise. {@code counts} tells whether what the create
   * answered holds the reservation (a start that was not new does not).
   */
  public <T> CompletionStage<T> admit(
      String tenantId,
      Quota quota,
      String resourceId,
      Supplier<CompletionStage<T>> create,
      Predicate<T> counts) {
    return run(tenantId, quota, resourceId, false, create, counts);
  }

  /**
   * Starts through {@code starter} counted against their tenant's month but never refused: schedule
   * runs.
   */
  public WorkflowStarter counting(WorkflowStarter starter) {
    return (workflowId, workflow, input, tenantId) ->
        run(
            tenantId,
            Quota.WORKFLOW_STARTS,
            workflowId,
            true,
            () -> starter.start(workflowId, workflow, input, tenantId),
            WorkflowStarter.StartOutcome::created);
  }

  /**
   * {@code resourceId} is gone (a service deregistered, a domain removed): its slot is free again.
   */
  public CompletionStage<Done> release(String tenantId, Quota quota, String resourceId) {
    if (tenantId == null) return CompletableFuture.completedFuture(Done.getInstance());
    return limit(tenantId, quota)
        .thenCompose(
            limit ->
                limit.isEmpty()
                    ? CompletableFuture.completedFuture(Done.getInstance())
                    : askRelease(QuotaLedger.entityId(tenantId, quota, month()), resourceId));
  }

  // ---------------------------------------------------------------- admission

  private <T> CompletionStage<T> run(
      String tenantId,
      Quota quota,
      String resourceId,
      boolean counted,
      Supplier<CompletionStage<T>> create,
      Predicate<T> counts) {
    if (tenantId == null) return create.get();
    return plan(tenantId)
        .thenCompose(
            RequestScope.bound(
                found -> {
                  Optional<Integer> limit = found.flatMap(t -> limitOf(t, quota));
                  if (limit.isEmpty()) return create.get();
                  YearMonth month = month();
                  Ask ask =
                      new Ask(
                          found.get(),
                          quota,
                          month,
                          QuotaLedger.entityId(tenantId, quota, month),
                          resourceId,
                          limit.get(),
                          counted);
                  return reserve(ask, 1)
                      .thenCompose(
                          RequestScope.bound(
                              reservation ->
                                  reservation.fresh()
                                      ? createHolding(ask, create, counts)
                                      : attempt(create)));
                }));
  }

  /** One admission: who, what, against which ledger and limit. */
  private record Ask(
      TenantPlan tenant,
      Quota quota,
      YearMonth month,
      String ledger,
      String resourceId,
      int limit,
      boolean counted) {}

  private CompletionStage<Reservation> reserve(Ask ask, int round) {
    return ledger(ask.ledger())
        .<Reservation>ask(
            r ->
                RequestScope.<QuotaLedger.Command>onBehalf(
                    new QuotaLedger.Reserve(ask.resourceId(), ask.limit(), ask.counted(), r),
                    QuotaLedger.Traced::new),
            askTimeout)
        .thenCompose(
            RequestScope.bound(
                reservation -> {
                  if (reservation.outcome() == Outcome.GRANTED)
                    return CompletableFuture.completedFuture(reservation);
                  if (round >= MAX_ROUNDS) return refusedOrExisting(ask, reservation);
                  if (reservation.outcome() == Outcome.UNSEEDED)
                    return seed(ask).thenCompose(d -> reserve(ask, round + 1));
                  if (!reservation.toVerify().isEmpty())
                    return reconcile(ask, reservation.toVerify())
                        .thenCompose(d -> reserve(ask, round + 1));
                  return refusedOrExisting(ask, reservation);
                }));
  }

  /**
   * The ledger's first usage, from the read models; a ledger seeded meanwhile by another request
   * ignores it.
   */
  private CompletionStage<Done> seed(Ask ask) {
    return baselines
        .baseline(ask.tenant().tenantId(), ask.quota(), ask.month())
        .thenCompose(
            RequestScope.bound(
                b ->
                    ledger(ask.ledger())
                        .askWithStatus(
                            r ->
                                RequestScope.<QuotaLedger.Command>onBehalf(
                                    new QuotaLedger.Seed(b.resourceIds(), b.used(), r),
                                    QuotaLedger.Traced::new),
                            askTimeout)));
  }

  /**
   * Asks each listed id of its own entity and releases those that do not exist; an id that cannot
   * be told stays.
   */
  private CompletionStage<Done> reconcile(Ask ask, List<String> toVerify) {
    ResourceCheck check = checks.get(ask.quota());
    List<CompletableFuture<Optional<String>>> gone = new ArrayList<>();
    for (String id : toVerify) {
      gone.add(
          check
              .exists(ask.tenant().tenantId(), id)
              .toCompletableFuture()
              .handle(
                  (exists, failure) ->
                      failure == null && !exists ? Optional.of(id) : Optional.<String>empty()));
    }
    return CompletableFuture.allOf(gone.toArray(CompletableFuture[]::new))
        .thenCompose(
            RequestScope.bound(
                all -> {
                  List<String> ids =
                      gone.stream().map(CompletableFuture::join).flatMap(Optional::stream).toList();
                  return ledger(ask.ledger())
                      .askWithStatus(
                          r ->
                              RequestScope.<QuotaLedger.Command>onBehalf(
                                  new QuotaLedger.Reconcile(ids, r), QuotaLedger.Traced::new),
                          askTimeout);
                }));
  }

  /**
   * A refusal, unless the resource exists already (a retry of a start from another month, a service
   * older than its ledger): that is no new one, and for services and domains it is held from now
   * on.
   */
  private CompletionStage<Reservation> refusedOrExisting(Ask ask, Reservation refused) {
    return checks
        .get(ask.quota())
        .exists(ask.tenant().tenantId(), ask.resourceId())
        .exceptionally(failure -> false)
        .thenCompose(
            RequestScope.bound(
                exists -> {
                  if (!exists) {
                    QuotaExceededException refusal = refusal(ask, refused.used());
                    log.info(
                        "quota exceeded tenantId={} plan={} quota={} limit={} used={}",
                        ask.tenant().tenantId(),
                        ask.tenant().plan(),
                        ask.quota().key(),
                        ask.limit(),
                        refused.used());
                    return CompletableFuture.<Reservation>failedFuture(refusal);
                  }
                  if (ask.quota() == Quota.WORKFLOW_STARTS)
                    return CompletableFuture.completedFuture(refused);
                  return ledger(ask.ledger())
                      .<Reservation>ask(
                          r ->
                              RequestScope.<QuotaLedger.Command>onBehalf(
                                  new QuotaLedger.Reserve(ask.resourceId(), ask.limit(), true, r),
                                  QuotaLedger.Traced::new),
                          askTimeout)
                      // Held because it exists: not to be given back if this create fails.
                      .thenApply(
                          held -> new Reservation(Outcome.GRANTED, held.used(), false, List.of()));
                }));
  }

  /**
   * Runs a create that holds a fresh reservation, and gives the reservation back when it was not
   * needed.
   */
  private <T> CompletionStage<T> createHolding(
      Ask ask, Supplier<CompletionStage<T>> create, Predicate<T> counts) {
    return attempt(create)
        .handle(
            (result, failure) -> {
              // A timeout may still create it: only an answer tells that nothing was created.
              boolean unneeded = failure != null ? !isTimeout(failure) : !counts.test(result);
              CompletionStage<Done> released =
                  unneeded
                      ? askRelease(ask.ledger(), ask.resourceId())
                          .exceptionally(
                              f -> {
                                log.warn(
                                    "quota reservation not released ledger={} resourceId={}: {}",
                                    ask.ledger(),
                                    ask.resourceId(),
                                    f.toString());
                                return Done.getInstance();
                              })
                      : CompletableFuture.completedFuture(Done.getInstance());
              return released.thenCompose(
                  d ->
                      failure == null
                          ? CompletableFuture.completedFuture(result)
                          : CompletableFuture.<T>failedFuture(
                              failure instanceof CompletionException c && c.getCause() != null
                                  ? c.getCause()
                                  : failure));
            })
        .thenCompose(s -> s);
  }

  private static <T> CompletionStage<T> attempt(Supplier<CompletionStage<T>> create) {
    try {
      return create.get();
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  private static boolean isTimeout(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause())
      if (t instanceof TimeoutException) return true;
    return false;
  }

  private CompletionStage<Done> askRelease(String ledger, String resourceId) {
    return ledger(ledger)
        .askWithStatus(
            r ->
                RequestScope.<QuotaLedger.Command>onBehalf(
                    new QuotaLedger.Release(resourceId, r), QuotaLedger.Traced::new),
            askTimeout);
  }

  private EntityRef<QuotaLedger.Command> ledger(String entityId) {
    return sharding.entityRefFor(QuotaLedger.ENTITY_KEY, entityId);
  }

  // ---------------------------------------------------------------- plans

  private CompletionStage<Optional<TenantPlan>> plan(String tenantId) {
    TenantPlan known = knownPlans.get(tenantId);
    if (known != null) return CompletableFuture.completedFuture(Optional.of(known));
    return tenants
        .plan(tenantId)
        .thenApply(
            found -> {
              found.ifPresent(t -> knownPlans.put(tenantId, t));
              return found;
            });
  }

  /**
   * The tenant's limit of {@code quota}; empty when it is not limited (unlimited, or a plan no
   * longer configured).
   */
  private Optional<Integer> limitOf(TenantPlan tenant, Quota quota) {
    TenantSettings.Plan plan = plans.get(tenant.plan());
    if (plan == null) {
      log.warn(
          "quota not enforced: unknown plan tenantId={} plan={} quota={}",
          tenant.tenantId(),
          tenant.plan(),
          quota.key());
      return Optional.empty();
    }
    int limit = quota.limitIn(plan);
    return limit < 0 ? Optional.empty() : Optional.of(limit);
  }

  private CompletionStage<Optional<Integer>> limit(String tenantId, Quota quota) {
    return plan(tenantId).thenApply(found -> found.flatMap(t -> limitOf(t, quota)));
  }

  private YearMonth month() {
    return YearMonth.now(clock.withZone(ZoneOffset.UTC));
  }

  private QuotaExceededException refusal(Ask ask, long used) {
    TenantPlan tenant = ask.tenant();
    String allows = "plan " + tenant.plan() + " allows " + ask.quota().count(ask.limit()) + "; ";
    if (ask.quota() == Quota.WORKFLOW_STARTS) {
      Instant now = clock.instant();
      Instant next = ask.month().plusMonths(1).atDay(1).atStartOfDay(ZoneOffset.UTC).toInstant();
      long seconds = Math.max(1, (Duration.between(now, next).toMillis() + 999) / 1000);
      return new QuotaExceededException(
          ask.quota(),
          tenant.plan(),
          ask.limit(),
          used,
          allows + tenant.slug() + " has started " + used + " in " + ask.month(),
          seconds);
    }
    return new QuotaExceededException(
        ask.quota(),
        tenant.plan(),
        ask.limit(),
        used,
        allows + tenant.slug() + " has " + used,
        null);
  }
}
