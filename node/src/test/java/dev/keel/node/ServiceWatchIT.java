package dev.keel.node;

import static dev.keel.node.NodeHttp.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.keel.client.KeelClient;
import dev.keel.client.ServiceWatch;
import dev.keel.persistence.TestDatabases;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The registry watch on a real node, on H2 and on PostgreSQL, with several watchers across a
 * restart of the node: the Java client's listener (reconnecting by itself) sees every change once
 * and in order; a raw SSE watcher of status changes that disconnects and comes back with {@code
 * Last-Event-ID} after the restart misses nothing; a metadata filter sees only its services; a
 * tenant sees only its own; bad parameters are 400s.
 */
class ServiceWatchIT {

  @Test
  void onEmbeddedH2() throws Exception {
    Path dir = Files.createTempDirectory("keel-watch-h2");
    exercise(Map.of("keel.node.data-dir", dir.toString()));
  }

  @Test
  void onPostgres() throws Exception {
    try (TestDatabases.FreshPostgres pg = TestDatabases.freshPostgres()) {
      Path dir = Files.createTempDirectory("keel-watch-pg");
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
    Map<String, String> settings = new HashMap<>(db);
    settings.put("keel.services.watch.poll-interval", "100ms");
    int port;
    try (ServerSocket free = new ServerSocket(0)) {
      port = free.getLocalPort();
    }
    // The same port after the restart, so that the watchers find the node where it was.
    settings.put("keel.http.port", Integer.toString(port));
    List<ServiceWatch.Change> all = new CopyOnWriteArrayList<>();
    List<ServiceWatch.Change> teamA = new CopyOnWriteArrayList<>();
    KeelClient client =
        KeelClient.builder()
            .endpoint("http://127.0.0.1:" + port)
            .token(NodeHttp.TOKEN)
            .serviceId(null)
            .build();
    long statusSeen;
    try (client;
        ServiceWatch everything = client.watchServices(Map.of(), 0L, all::add);
        ServiceWatch onlyA = client.watchServices(Map.of("metadata", "team=a"), 0L, teamA::add)) {
      try (KeelNode node = NodeHttp.start(settings)) {
        NodeHttp api = NodeHttp.ready(node);
        put(api, "svc-a", "a");
        put(api, "svc-b", "b");
        heartbeat(api, "svc-a", "degraded");
        assertThat(api.send("DELETE", "/api/v1/services/svc-b", null).statusCode()).isEqualTo(204);
        await(() -> all.size() >= 4, "the first four changes", all);
        // A raw watcher of status changes, from the start, that goes away after the first one.
        List<Event> first = Sse.read(port, "/api/v1/services/events?kinds=status", "0", 1);
        assertThat(first).hasSize(1);
        assertThat(first.get(0).type()).isEqualTo("status");
        assertThat(first.get(0).data().get("status").asText()).isEqualTo("degraded");
        statusSeen = first.get(0).id();

        // Bad parameters and another tenant.
        assertProblem(api.send("GET", "/api/v1/services/events?kinds=nope", null), 400, "kinds");
        assertProblem(
            api.send("GET", "/api/v1/services/events?after=x&bogus=1", null),
            400,
            "after",
            "bogus");
        assertThat(api.send("PUT", "/api/v1/services/events", "{}").statusCode()).isEqualTo(405);
      }
      // ---- the node is down; then back on the same database and port
      try (KeelNode node = NodeHttp.start(settings)) {
        NodeHttp api = NodeHttp.ready(node);
        heartbeat(api, "svc-a", "healthy");
        put(api, "svc-c", "a");
        await(() -> all.size() >= 6, "the changes after the restart", all);
        // Back with its last id: the change it had not seen, and nothing twice.
        List<Event> resumed =
            Sse.read(port, "/api/v1/services/events?kinds=status", Long.toString(statusSeen), 1);
        assertThat(resumed.get(0).data().get("serviceId").asText()).isEqualTo("svc-a");
        assertThat(resumed.get(0).data().get("previousStatus").asText()).isEqualTo("degraded");
        assertThat(resumed.get(0).data().get("status").asText()).isEqualTo("healthy");
        await(() -> teamA.size() >= 4, "team a's changes", teamA);

        JsonNode tenant =
            NodeHttp.JSON.readTree(
                api.send(
                        "POST",
                        "/api/v1/tenants",
                        "{\"slug\":\"watcher\",\"name\":\"W\",\"plan\":\"pro\"}")
                    .body());
        api.await(
            "/api/v1/tenants/" + tenant.get("id").asText(),
            t -> t.get("status").asText().equals("active"),
            "tenant active");
        List<ServiceWatch.Change> tenants = new CopyOnWriteArrayList<>();
        try (KeelClient asTenant =
                KeelClient.builder()
                    .endpoint("http://127.0.0.1:" + port)
                    .token(tenant.get("apiKey").asText())
                    .serviceId(null)
                    .build();
            ServiceWatch w = asTenant.watchServices(Map.of(), 0L, tenants::add)) {
          assertThat(asTenant.getJson("/api/v1/caller").get("admin").asBoolean()).isFalse();
          put(api, "svc-d", "a"); // the admin's: not the tenant's to see
          assertThat(
                  api.sendAuth(
                          "PUT",
                          "/api/v1/services/svc-t",
                          "{\"type\":\"sink\",\"ttlSeconds\":600}",
                          tenant.get("apiKey").asText())
                      .statusCode())
              .isEqualTo(201);
          await(() -> !tenants.isEmpty(), "the tenant's registration", tenants);
          await(() -> all.size() >= 8, "the last changes", all);
          await(() -> teamA.size() >= 5, "team a's last change", teamA);
          assertThat(tenants).extracting(ServiceWatch.Change::serviceId).containsExactly("svc-t");
        }
      }
    }
    // Each service's changes in the order they happened; different services' in the order the
    // projection (one instance per tag) recorded them.
    assertThat(all)
        .extracting(c -> c.kind() + " " + c.serviceId() + " " + c.status())
        .containsExactlyInAnyOrder(
            "registered svc-a healthy",
            "registered svc-b healthy",
            "status svc-a degraded",
            "deregistered svc-b null",
            "status svc-a healthy",
            "registered svc-c healthy",
            "registered svc-d healthy",
            "registered svc-t healthy");
    assertThat(of(all, "svc-a")).containsExactly("registered", "status", "status");
    assertThat(of(all, "svc-b")).containsExactly("registered", "deregistered");
    List<Long> seqs = all.stream().map(ServiceWatch.Change::seq).toList();
    assertThat(seqs).isSorted().doesNotHaveDuplicates();
    assertThat(teamA)
        .extracting(c -> c.kind() + " " + c.serviceId())
        .containsExactlyInAnyOrder(
            "registered svc-a",
            "status svc-a",
            "status svc-a",
            "registered svc-c",
            "registered svc-d");
  }

  private static List<String> of(List<ServiceWatch.Change> changes, String serviceId) {
    return changes.stream()
        .filter(c -> c.serviceId().equals(serviceId))
        .map(ServiceWatch.Change::kind)
        .toList();
  }

  private static void put(NodeHttp api, String id, String team) throws Exception {
    HttpResponse<String> r =
        api.send(
            "PUT",
            "/api/v1/services/" + id,
            "{\"type\":\"pipeline\",\"ttlSeconds\":600,\"metadata\":{\"team\":\"" + team + "\"}}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
  }

  private static void heartbeat(NodeHttp api, String id, String status) throws Exception {
    assertThat(
            api.send(
                    "POST",
                    "/api/v1/services/" + id + "/heartbeat",
                    "{\"status\":\"" + status + "\"}")
                .statusCode())
        .isEqualTo(200);
  }

  private static void await(BooleanSupplier until, String what, Object shown)
      throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (System.nanoTime() < deadline) {
      if (until.getAsBoolean()) return;
      Thread.sleep(50);
    }
    throw new AssertionError("never saw " + what + ": " + shown);
  }

  record Event(long id, String type, JsonNode data) {}

  /**
   * A raw SSE reader: the first {@code count} events after {@code lastEventId}, then it hangs up.
   */
  static final class Sse {
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    static List<Event> read(int port, String path, String lastEventId, int count) throws Exception {
      HttpRequest request =
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
              .header("Authorization", "Bearer " + NodeHttp.TOKEN)
              .header("Last-Event-ID", lastEventId)
              .timeout(Duration.ofSeconds(30))
              .build();
      HttpResponse<Stream<String>> response =
          HTTP.send(request, HttpResponse.BodyHandlers.ofLines());
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.headers().firstValue("Content-Type").orElse(""))
          .startsWith("text/event-stream");
      List<Event> events = new ArrayList<>();
      try (Stream<String> lines = response.body()) {
        var it = lines.iterator();
        String id = null;
        String type = null;
        StringBuilder data = new StringBuilder();
        while (events.size() < count && it.hasNext()) {
          String line = it.next();
          if (line.startsWith("id:")) id = line.substring(3).trim();
          else if (line.startsWith("event:")) type = line.substring(6).trim();
          else if (line.startsWith("data:")) data.append(line.substring(5).trim());
          else if (line.isEmpty() && data.length() > 0) {
            events.add(
                new Event(Long.parseLong(id), type, NodeHttp.JSON.readTree(data.toString())));
            data.setLength(0);
          }
        }
      }
      return events;
    }
  }
}
