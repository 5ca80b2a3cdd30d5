package dev.keel.tenant;

import dev.keel.persistence.JournaledEntities;
import dev.keel.persistence.Rejection;
import dev.keel.persistence.RequestScope;
import dev.keel.tenant.Tenant.KeyCheck;
import dev.keel.tenant.Tenant.TenantProfile;
import dev.keel.tenant.Tenant.TenantView;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.apache.pekko.pattern.StatusReply;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The tenants façade for routes and auth: creates tenants through their slug reservation, issues
 * and checks API keys, and drives the lifecycle.
 */
public final class TenantService implements TenantStatusLookup, TenantPlanLookup {

  private static final Logger log = LoggerFactory.getLogger(TenantService.class);

  /** A new tenant with its API key: the only time the key is shown. */
  public record CreatedTenant(TenantView tenant, String apiKey) {}

  /** Who a presented key is, or why it is refused. */
  public sealed interface Authentication {}

  /** A key of {@code tenantId}'s with {@code role}; a tenant's first key is its {@code admin}. */
  public record AuthenticatedTenant(String tenantId, Role role) implements Authentication {
    public AuthenticatedTenant(String tenantId) {
      this(tenantId, Role.ADMIN);
    }
  }

  /** A cluster-wide named key: every tenant's resources, within {@code role}. */
  public record AuthenticatedCluster(Role role) implements Authentication {}

  /** {@code status} 401 (not a key of a live tenant) or 403 (suspended, being deleted). */
  public record Refused(int status, String detail) implements Authentication {}

  /** A create with bad fields; routes turn it into a 400 listing them. */
  public static final class InvalidTenantException extends IllegalArgumentException {
    private final List<TenantRules.Problem> problems;

    public InvalidTenantException(List<TenantRules.Problem> problems) {
      super("the tenant has invalid fields");
      this.problems = List.copyOf(problems);
    }

    public List<TenantRules.Problem> problems() {
      return problems;
    }
  }

  private final ClusterSharding sharding;
  private final TenantSettings settings;
  private final TenantReadModel readModel;
  private final ApiKeys keys;
  private final JournaledEntities journaled;
  private final KeyRingService namedKeys;

  public TenantService(
      ActorSystem<?> system, TenantSettings settings, TenantReadModel readModel, ApiKeys keys) {
    this(system, settings, readModel, keys, null);
  }

  /** {@code namedKeys}: where named keys are checked; null: tenants' first keys only. */
  public TenantService(
      ActorSystem<?> system,
      TenantSettings settings,
      TenantReadModel readModel,
      ApiKeys keys,
      KeyRingService namedKeys) {
    this.sharding = ClusterSharding.get(system);
    this.settings = settings;
    this.readModel = readModel;
    this.keys = keys;
    this.journaled = new JournaledEntities(system);
    this.namedKeys = namedKeys;
  }

  public TenantSettings settings() {
    return settings;
  }

  private EntityRef<Tenant.Command> tenant(String id) {
    return sharding.entityRefFor(Tenant.ENTITY_KEY, id);
  }

  private EntityRef<SlugReservation.Command> slug(String slug) {
    return sharding.entityRefFor(SlugReservation.ENTITY_KEY, slug);
  }

  /** Checks the fields without creating anything. */
  public List<TenantRules.Problem> problems(String slug, String name, String plan) {
    return TenantRules.problems(slug, name, plan, settings.plans());
  }

  /**
   * Reserves the slug, then creates the tenant with its default domain and first key in one event.
   * Fails with a conflict rejection when the slug is taken; a failed create releases the slug.
   *
   * @throws InvalidTenantException at once, for bad fields
   */
  public CompletionStage<CreatedTenant> create(String slugValue, String name, String plan) {
    List<TenantRules.Problem> problems = problems(slugValue, name, plan);
    if (!problems.isEmpty()) throw new InvalidTenantException(problems);
    String tenantId = keys.newTenantId();
    String apiKey = keys.newKey(tenantId);
    TenantProfile profile =
        new TenantProfile(slugValue, name, plan, slugValue + "." + settings.rootDomain());
    return slug(slugValue)
        .<Done>askWithStatus(
            r -> forRequest(new SlugReservation.Reserve(tenantId, r)), settings.askTimeout())
        .thenCompose(
            RequestScope.bound(
                reserved ->
                    tenant(tenantId)
                        .<TenantView>askWithStatus(
                            r ->
                                RequestScope.<Tenant.Command>onBehalf(
                                    new Tenant.Create(profile, ApiKeys.hash(apiKey), r),
                                    Tenant.Traced::new),
                            settings.askTimeout())
                        .handle(
                            RequestScope.bound(
                                (view, failure) -> {
                                  if (failure == null) {
                                    journaled.created(Tenant.persistenceId(tenantId).id());
                                    slug(slugValue)
                                        .<Done>askWithStatus(
                                            r ->
                                                forRequest(
                                                    new SlugReservation.Confirm(tenantId, r)),
                                            settings.askTimeout())
                                        .whenComplete(
                                            (d, f) -> {
                                              // Unconfirmed, the reservation only expires; the
                                              // tenant is there either way.
                                              if (f != null)
                                                log.warn(
                                                    "slug confirmation failed slug={} tenantId={}"
                                                        + " reason={}",
                                                    slugValue,
                                                    tenantId,
                                                    f.getMessage());
                                            });
                                    return CompletableFuture.completedFuture(
                                        new CreatedTenant(view, apiKey));
                                  }
                                  return release(slugValue, tenantId)
                                      .<CreatedTenant>thenCompose(
                                          d -> CompletableFuture.failedFuture(failure));
                                }))
                        .thenCompose(stage -> stage)));
  }

  private static SlugReservation.Command forRequest(SlugReservation.Command command) {
    return RequestScope.onBehalf(command, SlugReservation.Traced::new);
  }

  private CompletionStage<Done> release(String slugValue, String tenantId) {
    return slug(slugValue)
        .<Done>askWithStatus(
            r -> forRequest(new SlugReservation.Release(tenantId, r)), settings.askTimeout())
        .exceptionally(
            f -> {
              log.warn(
                  "slug release failed, it expires instead slug={} tenantId={} reason={}",
                  slugValue,
                  tenantId,
                  f.getMessage());
              return Done.getInstance();
            });
  }

  /** Frees the slug of a deleted tenant (the deprovisioning workflow's last step). */
  public CompletionStage<Done> releaseSlug(String slugValue, String tenantId) {
    return slug(slugValue)
        .askWithStatus(r -> new SlugReservation.Release(tenantId, r), settings.askTimeout());
  }

  public CompletionStage<TenantView> get(String id) {
    if (!ApiKeys.isTenantId(id)) return notFound(id);
    return askExisting(id, Tenant.Get::new);
  }

  public CompletionStage<TenantReadModel.Page> list(
      String status, String plan, int limit, String cursor) {
    return readModel.list(status, plan, limit, cursor);
  }

  public CompletionStage<TenantView> suspend(String id, String reason) {
    if (!ApiKeys.isTenantId(id)) return notFound(id);
    return askExisting(id, r -> new Tenant.Suspend(reason, r));
  }

  public CompletionStage<TenantView> reactivate(String id) {
    if (!ApiKeys.isTenantId(id)) return notFound(id);
    return askExisting(id, Tenant.Reactivate::new);
  }

  public CompletionStage<TenantView> delete(String id) {
    if (!ApiKeys.isTenantId(id)) return notFound(id);
    return askExisting(id, Tenant.Delete::new);
  }

  public CompletionStage<TenantView> activate(String id) {
    return tenant(id).askWithStatus(Tenant.Activate::new, settings.askTimeout());
  }

  public CompletionStage<TenantView> markDeleted(String id) {
    return tenant(id).askWithStatus(Tenant.MarkDeleted::new, settings.askTimeout());
  }

  /** A new key; the old one stops working as soon as this answers. */
  public CompletionStage<CreatedTenant> rotateKey(String id) {
    if (!ApiKeys.isTenantId(id)) return notFound(id);
    String apiKey = keys.newKey(id);
    return this.<TenantView>askExisting(id, r -> new Tenant.RotateKey(ApiKeys.hash(apiKey), r))
        .thenApply(view -> new CreatedTenant(view, apiKey));
  }

  /** Who {@code presentedKey} is; never logs or returns the key. */
  public CompletionStage<Authentication> authenticate(String presentedKey) {
    Optional<NamedKeys.Parsed> named = NamedKeys.parse(presentedKey);
    if (named.isPresent() && namedKeys != null) return authenticateNamed(named.get(), presentedKey);
    Optional<String> tenantId = ApiKeys.tenantOf(presentedKey);
    if (tenantId.isEmpty())
      return CompletableFuture.completedFuture(new Refused(401, "the token is not known"));
    String hash = ApiKeys.hash(presentedKey);
    // Anyone can present a key-shaped token: one naming a tenant that never existed must not wake
    // (and have sharding remember) a tenant entity on every request.
    CompletionStage<Authentication> checked =
        journaled.ifJournaled(
            Tenant.persistenceId(tenantId.get()).id(),
            () -> "unknown tenant",
            () ->
                tenant(tenantId.get())
                    .<KeyCheck>ask(r -> new Tenant.CheckKey(hash, r), settings.askTimeout())
                    .thenApply(
                        check -> {
                          if (check.outcome() == KeyCheck.Outcome.VALID)
                            return new AuthenticatedTenant(tenantId.get());
                          if (check.outcome() == KeyCheck.Outcome.SUSPENDED)
                            return new Refused(403, "the tenant is suspended");
                          if (check.outcome() == KeyCheck.Outcome.DELETING)
                            return new Refused(403, "the tenant is being deleted");
                          return new Refused(401, "the token is not known");
                        }));
    return checked
        .handle(
            (answer, failure) -> {
              if (failure == null) return CompletableFuture.completedFuture(answer);
              if (isNotFound(failure))
                return CompletableFuture.<Authentication>completedFuture(
                    new Refused(401, "the token is not known"));
              return CompletableFuture.<Authentication>failedFuture(failure);
            })
        .thenCompose(s -> s);
  }

  /**
   * A named key: its {@link dev.keel.tenant.KeyRing} says whether it is live and its role; a
   * tenant's key then needs its tenant live, as a first key does (403 when suspended or deleting).
   */
  private CompletionStage<Authentication> authenticateNamed(
      NamedKeys.Parsed parsed, String presentedKey) {
    Refused unknown = new Refused(401, "the token is not known");
    return namedKeys
        .check(parsed, presentedKey)
        .<Authentication>thenCompose(
            check -> {
              if (check.granted().isEmpty())
                return CompletableFuture.completedFuture(
                    new Refused(401, check.why() == null ? unknown.detail() : check.why()));
              Role role = check.granted().get();
              if (parsed.owner().equals(NamedKeys.CLUSTER))
                return CompletableFuture.completedFuture(new AuthenticatedCluster(role));
              return status(parsed.owner())
                  .thenApply(
                      status -> {
                        String s = status.orElse("deleted");
                        if (s.equals("suspended"))
                          return new Refused(403, "the tenant is suspended");
                        if (s.equals("deleting"))
                          return new Refused(403, "the tenant is being deleted");
                        if (s.equals("deleted")) return unknown;
                        return new AuthenticatedTenant(parsed.owner(), role);
                      });
            })
        .handle(
            (answer, failure) -> {
              if (failure == null) return CompletableFuture.completedFuture(answer);
              if (isNotFound(failure))
                return CompletableFuture.<Authentication>completedFuture(unknown);
              return CompletableFuture.<Authentication>failedFuture(failure);
            })
        .thenCompose(s -> s);
  }

  /**
   * Asks a tenant that was created; an unknown id is answered 404 without waking (and remembering)
   * an entity.
   */
  private <T> CompletionStage<T> askExisting(
      String id, java.util.function.Function<ActorRef<StatusReply<T>>, Tenant.Command> command) {
    return journaled.askIfJournaled(
        tenant(id),
        Tenant.persistenceId(id).id(),
        () -> doesNotExist(id),
        r -> RequestScope.onBehalf(command.apply(r), Tenant.Traced::new),
        settings.askTimeout());
  }

  private static boolean isNotFound(Throwable failure) {
    return Rejection.of(failure).map(r -> r.kind() == Rejection.Kind.NOT_FOUND).orElse(false);
  }

  @Override
  public CompletionStage<Optional<String>> status(String tenantId) {
    return ifExists(tenantId, TenantView::status);
  }

  @Override
  public CompletionStage<Optional<TenantPlan>> plan(String tenantId) {
    return ifExists(tenantId, view -> new TenantPlan(view.id(), view.slug(), view.plan()));
  }

  /** {@code what} of the tenant, or empty when there never was such a tenant. */
  private <T> CompletionStage<Optional<T>> ifExists(
      String tenantId, java.util.function.Function<TenantView, T> what) {
    return get(tenantId)
        .handle(
            (view, failure) -> {
              if (failure == null)
                return CompletableFuture.completedFuture(Optional.of(what.apply(view)));
              if (isNotFound(failure)) {
                return CompletableFuture.completedFuture(Optional.<T>empty());
              }
              return CompletableFuture.<Optional<T>>failedFuture(failure);
            })
        .thenCompose(s -> s);
  }

  private static <T> CompletionStage<T> notFound(String id) {
    return CompletableFuture.failedFuture(Rejection.notFoundFailure(doesNotExist(id)));
  }

  private static String doesNotExist(String id) {
    return "tenant '" + id + "' does not exist";
  }
}
