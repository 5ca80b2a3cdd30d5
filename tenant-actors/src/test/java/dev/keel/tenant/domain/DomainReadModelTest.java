package dev.keel.tenant.domain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.zaxxer.hikari.HikariDataSource;
import dev.keel.persistence.BadCursorException;
import dev.keel.persistence.DatabaseSettings;
import dev.keel.persistence.IdCursor;
import dev.keel.persistence.KeelDataSource;
import dev.keel.persistence.KeelJdbcSession;
import dev.keel.persistence.ProjectionDeadLetters;
import dev.keel.persistence.ProjectionLag;
import dev.keel.persistence.ReadModelProjection;
import dev.keel.persistence.SchemaMigrations;
import dev.keel.persistence.TestDatabases;
import dev.keel.tenant.domain.CustomDomain.CertificateChanged;
import dev.keel.tenant.domain.CustomDomain.Claimed;
import dev.keel.tenant.domain.CustomDomain.DomainClaimed;
import dev.keel.tenant.domain.CustomDomain.DomainReleased;
import dev.keel.tenant.domain.CustomDomain.DomainVerified;
import dev.keel.tenant.domain.CustomDomain.Event;
import dev.keel.tenant.domain.CustomDomain.State;
import dev.keel.tenant.domain.CustomDomain.Unclaimed;
import dev.keel.tenant.domain.CustomDomain.VerificationCheckFailed;
import dev.keel.tenant.domain.CustomDomain.VerificationGaveUp;
import dev.keel.tenant.domain.CustomDomain.VerificationRestarted;
import dev.keel.tenant.domain.DomainReadModel.DomainSummary;
import dev.keel.tenant.domain.DomainReadModel.Page;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.persistence.query.Offset;
import org.apache.pekko.projection.eventsourced.EventEnvelope;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The domain list against a Flyway-migrated database, the embedded H2 and (when a server answers,
 * see {@link TestDatabases}) PostgreSQL: events go through the projection handler the way the
 * projection delivers them, and each row must show what the entity's state shows.
 */
class DomainReadModelTest {

  private static final Instant T0 = Instant.parse("2026-11-22T09:00:00.123Z");

  @TempDir Path dir;

  private TestDatabases.FreshPostgres postgres;
  private HikariDataSource dataSource;
  private DomainReadModel readModel;
  private ReadModelProjection.Handler<Event> handler;
  private final Map<String, Long> seqNrs = new HashMap<>();
  private final Map<String, State> states = new HashMap<>();
  private long offset;

  private void open(DatabaseSettings.Kind kind) {
    DatabaseSettings db;
    if (kind == DatabaseSettings.Kind.H2) {
      db = TestDatabases.h2(dir);
    } else {
      postgres = TestDatabases.freshPostgres();
      db = postgres.settings();
    }
    dataSource = KeelDataSource.create(db, "domain-read-model-test", 2);
    SchemaMigrations.migrate(dataSource, db.kind());
    readModel = new DomainReadModel(dataSource, Runnable::run);
    handler =
        new ReadModelProjection.Handler<>(
            "hostname-0",
            new ProjectionLag(Clock.fixed(T0, ZoneOffset.UTC)),
            DomainProjectionHandler::apply,
            ProjectionDeadLetters.unmetered("domains"));
  }

  @AfterEach
  void close() {
    if (dataSource != null) dataSource.close();
    if (postgres != null) postgres.close();
  }

  @ParameterizedTest
  @EnumSource(DatabaseSettings.Kind.class)
  void aHostnameFollowsItsEntityFromClaimToVerifiedWithItsCertificateAndIsGoneWhenReleased(
      DatabaseSettings.Kind kind) throws Exception {
    open(kind);
    String h = "shop.example.com";
    project(h, new DomainClaimed("acme", "tok", T0, T0.plusSeconds(60)));
    assertThat(only("acme")).isEqualTo(summaryOf(h));
    assertThat(only("acme").status()).isEqualTo("pending_verification");
    assertThat(only("acme").certificateStatus()).isEqualTo("none");

    project(
        h,
        new VerificationCheckFailed(
            "nxdomain", "no such name", "schedule", T0.plusSeconds(60), T0.plusSeconds(180)));
    assertThat(only("acme")).isEqualTo(summaryOf(h));
    assertThat(only("acme").updatedAt()).isEqualTo(T0.plusSeconds(60));

    project(h, new CertificateChanged("none", "pending", null, "requested", T0.plusSeconds(90)));
    project(h, new DomainVerified("found", "request", T0.plusSeconds(120)));
    DomainSummary verified = only("acme");
    assertThat(verified).isEqualTo(summaryOf(h));
    assertThat(verified.status()).isEqualTo("verified");
    assertThat(verified.verifiedAt()).isEqualTo(T0.plusSeconds(120));
    assertThat(verified.certificateStatus()).isEqualTo("pending");
    assertThat(readModel.count("acme").toCompletableFuture().get()).isEqualTo(1);

    project(h, new DomainReleased("acme", "deleted by the tenant", T0.plusSeconds(200)));
    assertThat(list("acme", 50, null).items()).isEmpty();
    assertThat(readModel.count("acme").toCompletableFuture().get()).isZero();

    // Claimed again by another tenant: a fresh row of theirs.
    project(h, new DomainClaimed("globex", "tok2", T0.plusSeconds(300), T0.plusSeconds(360)));
    assertThat(list("acme", 50, null).items()).isEmpty();
    assertThat(only("globex")).isEqualTo(summaryOf(h));
    assertThat(only("globex").createdAt()).isEqualTo(T0.plusSeconds(300));
  }

  @ParameterizedTest
  @EnumSource(DatabaseSettings.Kind.class)
  void aFailedHostnameIsListedFailedAndPendingAgainAfterARestart(DatabaseSettings.Kind kind)
      throws Exception {
    open(kind);
    String h = "xn--bcher-kva.example";
    project(h, new DomainClaimed("acme", "tok", T0, T0.plusSeconds(60)));
    project(h, new VerificationGaveUp("no_record", "no TXT record", T0.plusSeconds(604_800)));
    assertThat(only("acme").status()).isEqualTo("failed");
    assertThat(only("acme")).isEqualTo(summaryOf(h));

    project(
        h, new VerificationRestarted("asked", T0.plusSeconds(700_000), T0.plusSeconds(700_060)));
    assertThat(only("acme").status()).isEqualTo("pending_verification");
    assertThat(only("acme")).isEqualTo(summaryOf(h));
  }

  @ParameterizedTest
  @EnumSource(DatabaseSettings.Kind.class)
  void pagesATenantsHostnamesInOrderWithACursorAndShowsNoOtherTenants(DatabaseSettings.Kind kind)
      throws Exception {
    open(kind);
    String longest =
        "a".repeat(63) + "." + "b".repeat(63) + "." + "c".repeat(63) + "." + "d".repeat(58) + ".io";
    // Claimed out of order, in one batch, as a projection group would deliver them.
    project(
        List.of(
            Map.entry("www.example.com", claimed("acme")),
            Map.entry("api.example.com", claimed("acme")),
            Map.entry("shop.globex.test", claimed("globex")),
            Map.entry(longest, claimed("acme")),
            Map.entry("docs.example.com", claimed("acme"))));

    Page first = list("acme", 2, null);
    assertThat(hostnames(first)).containsExactly(longest, "api.example.com");
    Page second = list("acme", 2, first.nextCursor());
    assertThat(hostnames(second)).containsExactly("docs.example.com", "www.example.com");
    assertThat(second.nextCursor()).isNull();
    assertThat(hostnames(list("globex", 50, null))).containsExactly("shop.globex.test");
    assertThat(list("initech", 50, null).items()).isEmpty();
    assertThat(readModel.count("acme").toCompletableFuture().get()).isEqualTo(4);
    assertThat(DomainReadModel.decodeCursor(IdCursor.encode(longest)))
        .as("a 253-character hostname is a cursor")
        .isEqualTo(longest);
  }

  @Test
  void foreignCursorsAreRefused() {
    open(DatabaseSettings.Kind.H2);
    for (String bad : List.of("not base64!", "%%%", "_w")) {
      assertThatThrownBy(() -> DomainReadModel.decodeCursor(bad))
          .isInstanceOf(BadCursorException.class);
    }
    assertThatThrownBy(() -> readModel.list("acme", 10, "***"))
        .isInstanceOf(BadCursorException.class);
  }

  // ---------------------------------------------------------------- helpers

  private static DomainClaimed claimed(String tenant) {
    return new DomainClaimed(tenant, "tok", T0, T0.plusSeconds(60));
  }

  private void project(String hostname, Event event) throws Exception {
    project(List.of(Map.entry(hostname, event)));
  }

  /** One projection batch, committed the way the projection commits it (with its offset). */
  private void project(List<Map.Entry<String, Event>> events) throws Exception {
    List<EventEnvelope<Event>> envelopes = new ArrayList<>();
    for (Map.Entry<String, Event> e : events) {
      long seqNr = seqNrs.merge(e.getKey(), 1L, Long::sum);
      envelopes.add(
          EventEnvelope.create(
              Offset.sequence(++offset),
              CustomDomain.persistenceId(e.getKey()).id(),
              seqNr,
              e.getValue(),
              T0.toEpochMilli()));
      states.put(
          e.getKey(),
          CustomDomain.apply(states.getOrDefault(e.getKey(), new Unclaimed()), e.getValue()));
    }
    KeelJdbcSession session = new KeelJdbcSession(dataSource);
    try {
      handler.process(session, envelopes);
      session.commit();
    } finally {
      session.close();
    }
  }

  /** What the list must show for {@code hostname}: the entity's state after the same events. */
  private DomainSummary summaryOf(String hostname) {
    Claimed c = (Claimed) states.get(hostname);
    String status =
        c instanceof CustomDomain.Pending
            ? "pending_verification"
            : c instanceof CustomDomain.Verified ? "verified" : "failed";
    Instant verifiedAt = c instanceof CustomDomain.Verified v ? v.verifiedAt() : null;
    return new DomainSummary(
        hostname,
        c.ownership().tenantId(),
        status,
        c.certificate().status(),
        c.ownership().claimedAt(),
        c.updatedAt(),
        verifiedAt);
  }

  private Page list(String tenant, int limit, String cursor) throws Exception {
    return readModel.list(tenant, limit, cursor).toCompletableFuture().get();
  }

  private DomainSummary only(String tenant) throws Exception {
    List<DomainSummary> items = list(tenant, 50, null).items();
    assertThat(items).hasSize(1);
    return items.get(0);
  }

  private static List<String> hostnames(Page page) {
    return page.items().stream().map(DomainSummary::hostname).toList();
  }
}
