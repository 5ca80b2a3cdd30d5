package dev.keel.node;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.keel.persistence.EventTags;
import dev.keel.persistence.TestDatabases;
import dev.keel.tenant.Tenant;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.junit.jupiter.api.Test;

/**
 * A real node whose journal holds a tenant event the tenant list cannot store: the tenants
 * projection records a dead letter, shows it in {@code /metrics} and {@code /api/v1/metrics}, and
 * goes on with the next event of the same projection instance. The event is written to the journal
 * directly, as a past version without today's input checks would have written it, so that the test
 * does not depend on what the API lets through.
 */
class ProjectionDeadLettersIT {

  @Test
  void onEmbeddedH2() throws Exception {
    Path dir = Files.createTempDirectory("keel-it-dead-letters-h2");
    // keel_tenants.id holds 64 characters.
    exercise(
        Map.of("keel.node.data-dir", dir.toString()),
        "t".repeat(200),
        "Too Long Inc",
        "SQLState 22001");
  }

  @Test
  void onPostgres() throws Exception {
    try (TestDatabases.FreshPostgres pg = TestDatabases.freshPostgres()) {
      Path dir = Files.createTempDirectory("keel-it-dead-letters-pg");
      // PostgreSQL stores no NUL character in text.
      exercise(
          Map.of(
              "keel.node.data-dir",
              dir.toString(),
              "keel.database.url",
              pg.settings().url(),
              "keel.database.user",
              pg.settings().user()),
          "nul-name",
          "Nul\u0000Inc",
          "SQLState 22021");
    }
  }

  private void exercise(Map<String, String> db, String badIdBase, String badName, String error)
      throws Exception {
    try (KeelNode node = NodeHttp.start(db)) {
      NodeHttp api = NodeHttp.ready(node);
      JsonNode good =
          NodeHttp.JSON.readTree(
              api.send(
                      "POST",
                      "/api/v1/tenants",
                      "{\"slug\":\"steady\",\"name\":\"Steady\",\"plan\":\"free\"}")
                  .body());
      String goodId = good.get("id").asText();
      api.await(
          "/api/v1/tenants",
          page -> status(page, goodId).equals("active"),
          "the tenant listed as active");

      // The unstorable event goes to the same projection instance as the good tenant's events.
      int tags = EventTags.tagCount(node.system());
      String tag = EventTags.tagFor(Tenant.ENTITY_TYPE, goodId, tags);
      String badId = badIdBase;
      for (int n = 0; !EventTags.tagFor(Tenant.ENTITY_TYPE, badId, tags).equals(tag); n++)
        badId = badIdBase + "-" + n;
      journal(
          node.system(),
          PersistenceId.of(Tenant.ENTITY_TYPE, badId),
          tag,
          new Tenant.TenantCreated(
              new Tenant.TenantProfile("bad", badName, "free", "bad.keel.localhost"),
              "no-key",
              Instant.now()));

      // The next event of that instance is stored: the projection went on.
      assertThat(
              api.send("POST", "/api/v1/tenants/" + goodId + "/suspend", "{\"reason\":\"test\"}")
                  .statusCode())
          .isEqualTo(200);
      api.await(
          "/api/v1/tenants",
          page -> status(page, goodId).equals("suspended"),
          "the suspension listed");

      String projection = "tenants/" + tag;
      JsonNode figures =
          api.await(
              "/api/v1/metrics",
              f -> f.path("projections").path(projection).path("deadLetters").asLong() == 1,
              "one dead letter counted");
      assertThat(figures.get("projections").get(projection).get("eventsBehind").asLong()).isZero();
      figures
          .get("projections")
          .fields()
          .forEachRemaining(
              p -> {
                if (!p.getKey().equals(projection))
                  assertThat(p.getValue().get("deadLetters").asLong()).as(p.getKey()).isZero();
              });
      String text = api.sendAuth("GET", "/metrics", null, null).body();
      assertThat(
              MetricsIT.sample(text, "keel_projection_dead_letters_total{projection=\"tenants\"}"))
          .contains(1.0);
      assertThat(
              MetricsIT.sample(
                  text, "keel_projection_dead_letters_total{projection=\"workflows\"}"))
          .contains(0.0);

      try (var c =
              java.sql.DriverManager.getConnection(
                  node.settings().database().url(),
                  node.settings().database().user(),
                  node.settings().database().password());
          var s =
              c.prepareStatement(
                  "SELECT persistence_id, sequence_number, event_type, error_message"
                      + " FROM keel_projection_dead_letters WHERE projection_name = 'tenants'");
          var rs = s.executeQuery()) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getString(1)).isEqualTo("tenant|" + badId);
        assertThat(rs.getLong(2)).isEqualTo(1);
        assertThat(rs.getString(3)).isEqualTo("TenantCreated");
        assertThat(rs.getString(4)).startsWith(error);
        assertThat(rs.next()).isFalse();
      }
    }
  }

  private static String status(JsonNode page, String id) {
    for (JsonNode item : page.path("items")) {
      if (item.path("id").asText().equals(id)) return item.path("status").asText();
    }
    return "";
  }

  /**
   * Writes {@code event} to the journal under {@code id} with {@code tag}, and waits until it is
   * stored.
   */
  private static void journal(
      ActorSystem<?> system, PersistenceId id, String tag, Tenant.Event event) throws Exception {
    ActorRef<ActorRef<Done>> writer =
        system.systemActorOf(new JournalWriter(id, tag, event), "journal-writer", Props.empty());
    AskPattern.<ActorRef<Done>, Done>ask(
            writer, replyTo -> replyTo, Duration.ofSeconds(10), system.scheduler())
        .toCompletableFuture()
        .get();
  }

  /** Persists one given event on any command. */
  private static final class JournalWriter
      extends EventSourcedBehavior<ActorRef<Done>, Tenant.Event, String> {
    private final String tag;
    private final Tenant.Event event;

    JournalWriter(PersistenceId id, String tag, Tenant.Event event) {
      super(id);
      this.tag = tag;
      this.event = event;
    }

    @Override
    public String emptyState() {
      return "";
    }

    @Override
    public CommandHandler<ActorRef<Done>, Tenant.Event, String> commandHandler() {
      return newCommandHandlerBuilder()
          .forAnyState()
          .onAnyCommand(
              (state, replyTo) ->
                  Effect().persist(event).thenRun(s -> replyTo.tell(Done.getInstance())));
    }

    @Override
    public EventHandler<String, Tenant.Event> eventHandler() {
      return newEventHandlerBuilder().forAnyState().onAnyEvent((state, e) -> state);
    }

    @Override
    public Set<String> tagsFor(Tenant.Event e) {
      return Set.of(tag);
    }
  }
}
