package dev.keel.node;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.node.HostileRequests.Expect;
import dev.keel.node.HostileRequests.Probe;
import dev.keel.persistence.DatabaseSettings;
import dev.keel.persistence.TestDatabases;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * Every route of {@link dev.keel.http.RouteTable} on a real node, sent what a hostile client would
 * ({@link HostileRequests}): the node answers no 5xx, every error is a problem document with an
 * {@code X-Request-Id} and no Java class name or stack trace, refused requests journal nothing, and
 * the projections go on (a write after the storm shows up in its list). On H2 it also checks that
 * the route table and the route tree agree. The storm runs on PostgreSQL too (its query, body and
 * {@code ..} parts: what reaches the database), where a NUL reaching a query used to answer 503.
 */
class HostileInputIT {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** What an answer must never show a client. */
  private static final List<String> LEAKS =
      List.of("Exception", "\tat ", "java.", "scala.", "org.apache", "dev.keel.", NodeHttp.TOKEN);

  @Test
  void onEmbeddedH2() throws Exception {
    Path dir = Files.createTempDirectory("keel-it-hostile-h2");
    storm(Map.of("keel.node.data-dir", dir.toString()), DatabaseSettings.embedded(dir), true);
  }

  @Test
  void onPostgres() throws Exception {
    try (TestDatabases.FreshPostgres pg = TestDatabases.freshPostgres()) {
      Path dir = Files.createTempDirectory("keel-it-hostile-pg");
      storm(
          Map.of(
              "keel.node.data-dir",
              dir.toString(),
              "keel.database.url",
              pg.settings().url(),
              "keel.database.user",
              pg.settings().user()),
          pg.settings(),
          false);
    }
  }

  /**
   * {@code firstDatabase}: also check the route table against the tree and send every target
   * variant; those run before any database is reached, so the second database skips most of them.
   */
  private void storm(Map<String, String> db, DatabaseSettings dbSettings, boolean firstDatabase)
      throws Exception {
    Map<String, String> settings = new java.util.HashMap<>(db);
    // A probe that is a valid watch (GET /api/v1/services/events) gets a stream: let it end soon.
    settings.put("keel.services.watch.max-duration", "1s");
    try (KeelNode node = NodeHttp.start(settings)) {
      NodeHttp api = NodeHttp.ready(node);
      Map<String, String> ids = fixtures(api);
      HostileRequests hostile = new HostileRequests(NodeHttp.TOKEN, ids);
      long t0 = System.nanoTime();
      if (firstDatabase) routeTableMatchesTheRouteTree(node.httpPort(), hostile);
      long t1 = System.nanoTime();
      Map<String, Long> before = settledJournalRows(dbSettings);
      long t2 = System.nanoTime();

      List<Probe> probes = new ArrayList<>(hostile.all(firstDatabase));
      probes.addAll(hostile.parserLevel());
      List<String> failures = send(node.httpPort(), probes);
      System.out.printf(
          "hostile input on %s: route table check %d ms, journal settled in %d ms, %d probes in %d"
              + " ms%n",
          dbSettings.kind(),
          (t1 - t0) / 1_000_000,
          (t2 - t1) / 1_000_000,
          probes.size(),
          (System.nanoTime() - t2) / 1_000_000);
      assertThat(failures)
          .as(failures.size() + " of " + probes.size() + " hostile requests answered wrongly")
          .isEmpty();

      Thread.sleep(1500);
      assertThat(journalRows(dbSettings))
          .as("events journaled by " + probes.size() + " refused requests")
          .isEqualTo(before);
      JsonNode tenant =
          JSON.readTree(api.send("GET", "/api/v1/tenants/" + ids.get("tenants"), null).body());
      assertThat(tenant.get("status").asText())
          .as("the tenant that /domains/%2e%2e used to delete")
          .isEqualTo("active");
      writesAfterTheStormAreListed(api, ids.get("tenants"));
    }
  }

  /**
   * Live resources for every collection, so that a hostile request that was resolved would change
   * one.
   */
  private static Map<String, String> fixtures(NodeHttp api) throws Exception {
    HttpResponse<String> created =
        api.send(
            "POST",
            "/api/v1/tenants",
            "{\"slug\":\"hostile\",\"name\":\"Hostile\",\"plan\":\"pro\"}");
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    JsonNode tenant = JSON.readTree(created.body());
    String tenantId = tenant.get("id").asText();
    api.await(
        "/api/v1/tenants/" + tenantId,
        t -> t.get("status").asText().equals("active"),
        "became active");
    api.await(
        "/api/v1/workflows/" + tenant.get("lifecycleWorkflowId").asText(),
        w -> w.get("status").asText().equals("completed"),
        "completed its provisioning");
    String example =
        "{\"workflow\":\"example\",\"id\":\"wf-hostile\",\"input\":{\"userId\":\"u-1\",\"action\":\"signup\"}}";
    assertThat(api.send("POST", "/api/v1/workflows?wait=PT30S", example).statusCode())
        .isEqualTo(201);
    api.await(
        "/api/v1/workflows/wf-hostile",
        w -> w.get("status").asText().equals("completed"),
        "completed");
    created(
        api, "PUT", "/api/v1/services/svc-hostile", "{\"type\":\"source\",\"ttlSeconds\":86400}");
    created(
        api,
        "PUT",
        "/api/v1/schedules/sched-hostile",
        "{\"workflow\":\"example\",\"cron\":\"0 3 1 1"
            + " *\",\"paused\":true,\"input\":{\"userId\":\"u-1\",\"action\":\"signup\"}}");
    created(
        api,
        "PUT",
        "/api/v1/alerts/alert-hostile",
        "{\"service\":\"svc-hostile\",\"condition\":\"status !="
            + " healthy\",\"webhook\":\"https://hooks.example.test/keel\"}");
    return Map.of(
        "workflows",
        "wf-hostile",
        "schedules",
        "sched-hostile",
        "services",
        "svc-hostile",
        "alerts",
        "alert-hostile",
        "tenants",
        tenantId,
        "domains",
        "shop.hostile.test",
        "signals",
        "approve");
  }

  private static void created(NodeHttp api, String method, String path, String body)
      throws Exception {
    HttpResponse<String> response = api.send(method, path, body);
    assertThat(response.statusCode())
        .as(method + " " + path + " -> " + response.body())
        .isEqualTo(201);
  }

  /**
   * The table says what the tree does: PATCH (which no route answers) on every listed path is a 405
   * whose {@code Allow} is exactly the table's methods for it; on every prefix of a listed path and
   * every listed path plus one more of the API's words, it is a 404, so no route is missing from
   * the table.
   */
  private static void routeTableMatchesTheRouteTree(int port, HostileRequests hostile)
      throws Exception {
    List<String> mismatches = Collections.synchronizedList(new ArrayList<>());
    Set<String> unlisted = new TreeSet<>();
    for (String template : HostileRequests.templates()) {
      String path = hostile.samplePath(template);
      RawHttp.Answer answer =
          RawHttp.send(port, RawHttp.request("PATCH", path, NodeHttp.TOKEN, null, null));
      Set<String> allow = new TreeSet<>();
      answer
          .header("Allow")
          .ifPresent(
              a -> {
                for (String m : a.split(",")) allow.add(m.trim());
              });
      if (answer.status() != 405 || !allow.equals(HostileRequests.allowed(template))) {
        mismatches.add(
            template
                + ": table "
                + HostileRequests.allowed(template)
                + ", tree "
                + answer.status()
                + " Allow "
                + allow);
      }
      String[] segments = path.substring(1).split("/");
      for (int n = 0; n < segments.length; n++) {
        String prefix = "/" + String.join("/", java.util.Arrays.copyOf(segments, n));
        if (!HostileRequests.matchesATemplate(prefix)) unlisted.add(prefix);
      }
      for (String word : HostileRequests.words()) {
        if (!HostileRequests.matchesATemplate(path + "/" + word)) unlisted.add(path + "/" + word);
      }
    }
    List<Probe> probes =
        unlisted.stream()
            .map(
                path ->
                    new Probe(
                        path,
                        RawHttp.request("PATCH", path, NodeHttp.TOKEN, null, null),
                        Expect.CLIENT_ERROR))
            .toList();
    inParallel(
        port,
        probes,
        (probe, answer) -> {
          if (answer.status() != 404)
            mismatches.add(
                probe.label()
                    + ": not in the table, but the tree answers PATCH with "
                    + answer.status());
        },
        mismatches);
    assertThat(mismatches)
        .as("route table vs route tree (" + unlisted.size() + " unlisted paths tried)")
        .isEmpty();
  }

  private static List<String> send(int port, List<Probe> probes) throws Exception {
    List<String> failures = Collections.synchronizedList(new ArrayList<>());
    inParallel(port, probes, (probe, answer) -> check(probe, answer, failures), failures);
    return failures;
  }

  /**
   * Sends {@code probes} four at a time, handing each answer to {@code check}; a probe without an
   * answer is a failure.
   */
  private static void inParallel(
      int port,
      List<Probe> probes,
      java.util.function.BiConsumer<Probe, RawHttp.Answer> check,
      List<String> failures)
      throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<?>> sent = new ArrayList<>();
      for (Probe probe : probes) {
        sent.add(
            pool.submit(
                () -> {
                  try {
                    check.accept(probe, RawHttp.send(port, probe.bytes()));
                  } catch (Exception e) {
                    failures.add(probe.label() + " -> no answer: " + e);
                  }
                }));
      }
      for (Future<?> f : sent) f.get();
    } finally {
      pool.shutdownNow();
    }
  }

  private static void check(Probe probe, RawHttp.Answer answer, List<String> failures) {
    int status = answer.status();
    String where =
        probe.label()
            + " -> "
            + status
            + " "
            + answer.body().substring(0, Math.min(answer.body().length(), 300));
    Expect expect = probe.expect();
    if (status >= 500) failures.add("5xx: " + where);
    if (expect.status > 0 && status != expect.status)
      failures.add("expected " + expect.status + ": " + where);
    if (expect == Expect.CLIENT_ERROR && (status < 400 || status > 499))
      failures.add("expected a 4xx: " + where);
    if (expect == Expect.METHOD_NOT_ALLOWED && answer.header("Allow").isEmpty())
      failures.add("405 without Allow: " + where);
    if (status < 400) return;
    if (answer.header("X-Request-Id").isEmpty()) failures.add("no X-Request-Id: " + where);
    // A HEAD answer has no body, by definition.
    if (probe.label().startsWith("HEAD ")) return;
    if (!answer.header("Content-Type").orElse("").startsWith("application/problem+json"))
      failures.add("not problem+json: " + where);
    try {
      JsonNode problem = JSON.readTree(answer.body());
      if (problem.path("status").asInt() != status
          || !problem.hasNonNull("title")
          || !problem.hasNonNull("type")) {
        failures.add("not a problem document: " + where);
      }
    } catch (Exception e) {
      failures.add("not JSON: " + where);
    }
    for (String leak : LEAKS)
      if (answer.body().contains(leak)) failures.add("leaks '" + leak.trim() + "': " + where);
  }

  /**
   * The read models still follow their journals: one new resource of each kind shows up in its
   * list.
   */
  private static void writesAfterTheStormAreListed(NodeHttp api, String tenantId) throws Exception {
    created(
        api,
        "POST",
        "/api/v1/workflows",
        "{\"workflow\":\"example\",\"id\":\"wf-after\",\"input\":{\"userId\":\"u-2\",\"action\":\"signup\"}}");
    created(api, "PUT", "/api/v1/services/svc-after", "{\"type\":\"source\",\"ttlSeconds\":86400}");
    created(
        api,
        "PUT",
        "/api/v1/schedules/sched-after",
        "{\"workflow\":\"example\",\"cron\":\"0 3 1 1"
            + " *\",\"paused\":true,\"input\":{\"userId\":\"u-2\",\"action\":\"signup\"}}");
    created(
        api,
        "PUT",
        "/api/v1/alerts/alert-after",
        "{\"service\":\"svc-after\",\"condition\":\"status !="
            + " healthy\",\"webhook\":\"https://hooks.example.test/keel\"}");
    created(
        api,
        "POST",
        "/api/v1/tenants/" + tenantId + "/domains",
        "{\"hostname\":\"after.hostile.test\"}");
    created(
        api,
        "POST",
        "/api/v1/tenants",
        "{\"slug\":\"after-storm\",\"name\":\"After\",\"plan\":\"free\"}");
    api.await("/api/v1/workflows", l -> listed(l, "id", "wf-after"), "listed wf-after");
    api.await("/api/v1/services", l -> listed(l, "id", "svc-after"), "listed svc-after");
    api.await("/api/v1/schedules", l -> listed(l, "id", "sched-after"), "listed sched-after");
    api.await("/api/v1/alerts", l -> listed(l, "id", "alert-after"), "listed alert-after");
    api.await(
        "/api/v1/tenants/" + tenantId + "/domains",
        l -> listed(l, "hostname", "after.hostile.test"),
        "listed after.hostile.test");
    api.await("/api/v1/tenants", l -> listed(l, "slug", "after-storm"), "listed after-storm");
  }

  private static boolean listed(JsonNode list, String field, String value) {
    for (JsonNode item : list.path("items"))
      if (item.path(field).asText().equals(value)) return true;
    return false;
  }

  /**
   * Events per persistence id once nothing writes any more (the fixtures' workflows have finished).
   */
  private static Map<String, Long> settledJournalRows(DatabaseSettings db) throws Exception {
    Map<String, Long> previous = null;
    for (int i = 0; i < 40; i++) {
      Map<String, Long> rows = journalRows(db);
      if (rows.equals(previous)) return rows;
      previous = rows;
      Thread.sleep(750);
    }
    throw new AssertionError("the journal never settled");
  }

  /**
   * Events per persistence id of every entity. Not sharding's own rows: a completed execution
   * passivates after a while, which sharding journals as a remembered entity stopping, on its own
   * clock.
   */
  private static Map<String, Long> journalRows(DatabaseSettings db) throws Exception {
    boolean h2 = db.kind() == DatabaseSettings.Kind.H2;
    String sql =
        h2
            ? "SELECT \"persistence_id\", COUNT(*) FROM \"event_journal\" WHERE \"persistence_id\""
                + " NOT LIKE '/sharding/%' GROUP BY \"persistence_id\""
            : "SELECT persistence_id, COUNT(*) FROM event_journal WHERE persistence_id NOT LIKE"
                + " '/sharding/%' GROUP BY persistence_id";
    Map<String, Long> rows = new java.util.TreeMap<>();
    try (java.sql.Connection c =
            java.sql.DriverManager.getConnection(db.url(), db.user(), db.password());
        java.sql.ResultSet rs = c.createStatement().executeQuery(sql)) {
      while (rs.next()) rows.put(rs.getString(1), rs.getLong(2));
    }
    return rows;
  }
}
