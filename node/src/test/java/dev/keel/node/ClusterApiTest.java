package dev.keel.node;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import dev.keel.http.AdminToken;
import dev.keel.http.ClusterRoutes;
import dev.keel.http.HttpApi;
import dev.keel.http.Json;
import dev.keel.persistence.ClusterStatus;
import dev.keel.tenant.TenantService;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.server.Route;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code GET /api/v1/cluster} on a real cluster of one (in this JVM, no database): the member, the
 * leader and the entities each member holds per entity type, as an operator reads them; and only
 * for the admin token.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClusterApiTest {

  private static final String ADMIN = "cluster-api-admin-token-123";
  private static final String TENANT_KEY = "tenant-key-of-t1-0123456789";
  private static final EntityTypeKey<String> PROBE = EntityTypeKey.create(String.class, "probe");
  private static final ObjectMapper JSON = Json.mapper();

  @TempDir Path dataDir;

  private ActorTestKit testKit;
  private ServerBinding binding;
  private ClusterStatus status;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private Instant started;

  @BeforeAll
  void startClusterOfOne() throws Exception {
    started = Instant.now();
    testKit =
        ActorTestKit.create(
            "ClusterApiTest",
            ConfigFactory.parseString(
                """
                pekko.actor.provider = cluster
                pekko.remote.artery.canonical { hostname = "127.0.0.1", port = 0 }
                pekko.cluster.sharding.number-of-shards = 10
                pekko.cluster.jmx.multi-mbeans-in-same-jvm = on
                # Leaving the cluster and handing off shards can take a while on a busy machine.
                pekko.actor.testkit.typed.system-shutdown-default = 30s
                pekko.actor.testkit.typed.throw-on-shutdown-timeout = off
                """));
    status =
        new ClusterStatus(
            testKit.system(), List.of(PROBE), Duration.ofSeconds(3), Clock.systemUTC());
    Cluster cluster = Cluster.get(testKit.system());
    cluster.manager().tell(Join.create(cluster.selfMember().address()));
    ClusterSharding.get(testKit.system())
        .init(
            Entity.of(
                PROBE,
                ctx ->
                    Behaviors.receive(String.class).onAnyMessage(m -> Behaviors.same()).build()));
    for (String id : List.of("a", "b", "c"))
      ClusterSharding.get(testKit.system()).entityRefFor(PROBE, id).tell("hello");

    HttpApi api =
        new HttpApi(
            JSON,
            AdminToken.resolve(Optional.of(ADMIN), dataDir),
            key ->
                CompletableFuture.completedFuture(
                    TENANT_KEY.equals(key)
                        ? new TenantService.AuthenticatedTenant("t1")
                        : new TenantService.Refused(401, "the token is not known")),
            1024);
    ClusterRoutes routes = new ClusterRoutes(api, status::view);
    Route route =
        api.withProblemHandling(
            () ->
                api.pathPrefix(
                    "api", () -> api.pathPrefix("v1", () -> api.authenticated(routes::routes))));
    binding =
        Http.get(testKit.system())
            .newServerAt("127.0.0.1", 0)
            .bind(route)
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
  }

  @AfterAll
  void stop() throws Exception {
    if (binding != null) binding.unbind().toCompletableFuture().get(10, TimeUnit.SECONDS);
    if (testKit != null) testKit.shutdownTestKit();
  }

  @Test
  void theAdminSeesTheMemberTheLeaderAndTheEntitiesItHolds() throws Exception {
    String self = Cluster.get(testKit.system()).selfMember().address().toString();
    JsonNode body = awaitThreeProbes();

    assertThat(body.path("self").asText()).isEqualTo(self);
    assertThat(body.path("leader").asText()).isEqualTo(self);
    assertThat(body.path("members")).hasSize(1);
    JsonNode member = body.path("members").get(0);
    assertThat(member.path("address").asText()).isEqualTo(self);
    assertThat(member.path("status").asText()).isEqualTo("up");
    assertThat(member.path("reachable").asBoolean()).isTrue();
    assertThat(member.path("roles").toString()).contains("dc-default");
    Instant upSince = Instant.parse(member.path("upSince").asText());
    assertThat(upSince).isBetween(started.minusSeconds(1), Instant.now());
    assertThat(body.path("shards").path("probe").path(self).asInt()).isEqualTo(3);
    // Three ids over ten shards: one to three shards, all on the only member.
    assertThat(body.path("shardCounts").path("probe").path(self).asInt()).isBetween(1, 3);
    assertThat(body.path("shardsUnknown")).isEmpty();
  }

  @Test
  void theShardIdsAreThoseTheEntityIdsHashTo() throws Exception {
    String self = Cluster.get(testKit.system()).selfMember().address().toString();
    JsonNode body = awaitThreeProbes();

    // Pekko's default extractor, which ScaleBench repeats to tell a start that crosses nodes.
    java.util.Set<String> expected = new java.util.TreeSet<>();
    for (String id : List.of("a", "b", "c"))
      expected.add(Integer.toString(Math.abs(id.hashCode()) % 10));
    java.util.Set<String> shown = new java.util.TreeSet<>();
    body.path("shardIds").path("probe").path(self).forEach(id -> shown.add(id.asText()));
    assertThat(shown).isEqualTo(expected);
    assertThat(body.path("shardIds").path("probe").path(self))
        .hasSize(body.path("shardCounts").path("probe").path(self).asInt());
  }

  @Test
  void aTenantKeyIsForbidden() throws Exception {
    HttpResponse<String> r = get("/api/v1/cluster", TENANT_KEY);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(403);
    assertThat(r.headers().firstValue("Content-Type")).hasValue("application/problem+json");
  }

  @Test
  void withoutATokenItIsUnauthorized() throws Exception {
    assertThat(get("/api/v1/cluster", null).statusCode()).isEqualTo(401);
  }

  @Test
  void statusNamesAreCamelCase() {
    assertThat(ClusterStatus.statusName(MemberStatus.up())).isEqualTo("up");
    assertThat(ClusterStatus.statusName(MemberStatus.weaklyUp())).isEqualTo("weaklyUp");
    assertThat(ClusterStatus.statusName(MemberStatus.leaving())).isEqualTo("leaving");
  }

  private JsonNode awaitThreeProbes() throws Exception {
    Instant deadline = Instant.now().plusSeconds(30);
    JsonNode last = null;
    while (Instant.now().isBefore(deadline)) {
      HttpResponse<String> r = get("/api/v1/cluster", ADMIN);
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      last = JSON.readTree(r.body());
      String self = last.path("self").asText();
      if (last.path("shards").path("probe").path(self).asInt() == 3) return last;
      Thread.sleep(200);
    }
    throw new AssertionError(
        "three probe entities never showed on the member; last answer: " + last);
  }

  private HttpResponse<String> get(String path, String token) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + binding.localAddress().getPort() + path))
            .timeout(Duration.ofSeconds(15))
            .GET();
    if (token != null) b.header("Authorization", "Bearer " + token);
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }
}
