package dev.keel.tenant.domain;

import dev.keel.persistence.BadCursorException;
import dev.keel.persistence.JournaledEntities;
import dev.keel.persistence.Rejection;
import dev.keel.persistence.RequestScope;
import dev.keel.persistence.grammar.Hostnames;
import dev.keel.tenant.TenantStatusLookup;
import dev.keel.tenant.domain.CustomDomain.ClaimResult;
import dev.keel.tenant.domain.CustomDomain.DomainView;
import dev.keel.tenant.domain.DomainReadModel.DomainSummary;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.random.RandomGenerator;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.apache.pekko.pattern.StatusReply;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tenants' custom hostnames for routes and for tenant deletion: normalises hostnames, asks the
 * hostname entities, lists from the read model. Every method is scoped to a tenant: another
 * tenant's hostname does not exist for it.
 *
 * <p>Hostnames given here are raw (as a client typed them): each method normalises with {@link
 * Hostnames#normalise} and throws {@link Hostnames.InvalidHostnameException} at once when it is not
 * a hostname a tenant may hold.
 */
public final class DomainService {

  /** A hostname in a list: the projected row. */
  public record ListedDomain(
      String hostname,
      String tenantId,
      String status,
      CertificateStatus certificate,
      Instant createdAt,
      Instant updatedAt,
      Instant verifiedAt) {}

  public record CertificateStatus(String status) {}

  public record Page(List<ListedDomain> items, String nextCursor) {}

  /** Tenant lifecycle statuses in which a tenant no longer takes new hostnames. */
  private static final Set<String> GONE = Set.of("deleting", "deleted");

  /** Challenge tokens: 256 random bits, URL-safe (what fits a TXT value and a URL alike). */
  private static final int TOKEN_BYTES = 32;

  private static final int RELEASE_PAGE = 500;

  private static final Logger log = LoggerFactory.getLogger(DomainService.class);

  private final ClusterSharding sharding;
  private final DomainSettings settings;
  private final DomainReadModel readModel;
  private final TenantStatusLookup tenants;
  private final RandomGenerator random;
  private final JournaledEntities journaled;

  public DomainService(
      ActorSystem<?> system,
      DomainSettings settings,
      DomainReadModel readModel,
      TenantStatusLookup tenants) {
    this(system, settings, readModel, tenants, new SecureRandom());
  }

  /** With the source of challenge tokens given (tests). */
  public DomainService(
      ActorSystem<?> system,
      DomainSettings settings,
      DomainReadModel readModel,
      TenantStatusLookup tenants,
      RandomGenerator random) {
    this.sharding = ClusterSharding.get(system);
    this.settings = settings;
    this.readModel = readModel;
    this.tenants = tenants;
    this.random = random;
    this.journaled = new JournaledEntities(system);
  }

  public DomainSettings settings() {
    return settings;
  }

  /** The normalised form of {@code rawHostname}; @throws Hostnames.InvalidHostnameException */
  public String normalise(String rawHostname) {
    return Hostnames.normalise(rawHostname, settings.rootDomain());
  }

  private EntityRef<CustomDomain.Command> entity(String hostname) {
    return sharding.entityRefFor(CustomDomain.ENTITY_KEY, hostname);
  }

  /**
   * Asks a hostname that was ever claimed; any other is answered 404 without waking (and
   * remembering) an entity.
   */
  private <T> CompletionStage<T> askClaimed(
      String hostname, Function<ActorRef<StatusReply<T>>, CustomDomain.Command> command) {
    return journaled.askIfJournaled(
        entity(hostname),
        CustomDomain.persistenceId(hostname).id(),
        () -> CustomDomain.doesNotExist(hostname),
        r -> RequestScope.onBehalf(command.apply(r), CustomDomain.Traced::new),
        settings.askTimeout());
  }

  /**
   * Claims {@code rawHostname} for {@code tenantId}: created, or the claim as it is when this
   * tenant holds it already; a conflict when another tenant does; not found when the tenant does
   * not exist or is being deleted.
   *
   * @throws Hostnames.InvalidHostnameException at once
   */
  public CompletionStage<ClaimResult> add(String tenantId, String rawHostname) {
    String hostname = normalise(rawHostname);
    return tenants
        .status(tenantId)
        .thenCompose(
            RequestScope.bound(
                status -> {
                  if (status.isEmpty() || GONE.contains(status.get())) {
                    return CompletableFuture.<ClaimResult>failedFuture(
                        Rejection.<ClaimResult>notFound("tenant '" + tenantId + "' does not exist")
                            .getError());
                  }
                  String token = newToken();
                  return entity(hostname)
                      .<ClaimResult>askWithStatus(
                          r ->
                              RequestScope.<CustomDomain.Command>onBehalf(
                                  new CustomDomain.Claim(tenantId, token, r),
                                  CustomDomain.Traced::new),
                          settings.askTimeout())
                      .thenApply(
                          claimed -> {
                            journaled.created(CustomDomain.persistenceId(hostname).id());
                            return claimed;
                          });
                }));
  }

  /**
   * @throws Hostnames.InvalidHostnameException at once
   */
  public CompletionStage<DomainView> get(String tenantId, String rawHostname) {
    String hostname = normalise(rawHostname);
    return askClaimed(hostname, r -> new CustomDomain.Get(tenantId, r));
  }

  /**
   * Checks the TXT record now (a failed hostname starts its schedule again); answers the new state.
   *
   * @throws Hostnames.InvalidHostnameException at once
   */
  public CompletionStage<DomainView> verify(String tenantId, String rawHostname) {
    String hostname = normalise(rawHostname);
    return askClaimed(hostname, r -> new CustomDomain.Verify(tenantId, r));
  }

  /**
   * Moves the certificate's status; an illegal transition is a conflict naming the allowed ones.
   *
   * @throws Hostnames.InvalidHostnameException at once
   */
  public CompletionStage<DomainView> setCertificate(
      String tenantId, String rawHostname, String status, Instant expiresAt, String reason) {
    String hostname = normalise(rawHostname);
    return askClaimed(
        hostname, r -> new CustomDomain.SetCertificate(tenantId, status, expiresAt, reason, r));
  }

  /**
   * Frees {@code rawHostname}, when {@code tenantId} holds it (another tenant's is not found).
   *
   * @throws Hostnames.InvalidHostnameException at once
   */
  public CompletionStage<Done> remove(String tenantId, String rawHostname) {
    String hostname = normalise(rawHostname);
    return release(tenantId, hostname, "deleted by the tenant");
  }

  private CompletionStage<Done> release(String tenantId, String hostname, String reason) {
    return askClaimed(hostname, r -> new CustomDomain.Release(tenantId, reason, r));
  }

  /**
   * One page of {@code tenantId}'s hostnames, by hostname.
   *
   * @throws BadCursorException at once, for a cursor this server did not hand out
   */
  public CompletionStage<Page> list(String tenantId, int limit, String cursor) {
    return readModel
        .list(tenantId, limit, cursor)
        .thenApply(
            page ->
                new Page(
                    page.items().stream().map(DomainService::listed).toList(), page.nextCursor()));
  }

  /** How many hostnames {@code tenantId} holds, from the read model (for quotas). */
  public CompletionStage<Integer> count(String tenantId) {
    return readModel.count(tenantId);
  }

  /**
   * Frees every hostname of {@code tenantId} (tenant deletion); answers how many were released. The
   * list comes from the read model, so a hostname claimed within the projection's lag before this
   * call may be missed: a deletion that runs as a retried workflow step calls it again.
   */
  public CompletionStage<Integer> releaseAll(String tenantId) {
    return releasePages(tenantId, null, 0);
  }

  private CompletionStage<Integer> releasePages(String tenantId, String cursor, int releasedSoFar) {
    return readModel
        .list(tenantId, RELEASE_PAGE, cursor)
        .thenCompose(
            page -> {
              List<CompletableFuture<Boolean>> releases = new ArrayList<>(page.items().size());
              for (DomainSummary d : page.items()) {
                releases.add(
                    release(tenantId, d.hostname(), "the tenant is deleted")
                        .toCompletableFuture()
                        .handle(
                            (done, failure) -> {
                              if (failure == null) return true;
                              // Released already, or gone to another tenant since: nothing of this
                              // tenant's left there.
                              if (Rejection.of(failure)
                                  .map(r -> r.kind() == Rejection.Kind.NOT_FOUND)
                                  .orElse(false)) return false;
                              throw failure instanceof RuntimeException re
                                  ? re
                                  : new java.util.concurrent.CompletionException(failure);
                            }));
              }
              return CompletableFuture.allOf(releases.toArray(CompletableFuture[]::new))
                  .thenCompose(
                      x -> {
                        int released =
                            releasedSoFar
                                + (int) releases.stream().filter(CompletableFuture::join).count();
                        if (page.nextCursor() == null) {
                          log.info(
                              "domains released for tenant tenantId={} released={}",
                              tenantId,
                              released);
                          return CompletableFuture.completedFuture(released);
                        }
                        return releasePages(tenantId, page.nextCursor(), released);
                      });
            });
  }

  private String newToken() {
    byte[] bytes = new byte[TOKEN_BYTES];
    random.nextBytes(bytes);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  private static ListedDomain listed(DomainSummary s) {
    return new ListedDomain(
        s.hostname(),
        s.tenantId(),
        s.status(),
        new CertificateStatus(s.certificateStatus()),
        s.createdAt(),
        s.updatedAt(),
        s.verifiedAt());
  }
}
