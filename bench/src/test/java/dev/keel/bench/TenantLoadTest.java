package dev.keel.bench;

import static dev.keel.bench.StubNode.JSON;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.keel.bench.StubNode.Run;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Drives the tenant load program against a stub node that keeps slugs unique the way Keel does. */
class TenantLoadTest {

  private final Queue<JsonNode> bodies = new ConcurrentLinkedQueue<>();
  private final Set<String> slugs = ConcurrentHashMap.newKeySet();
  private final AtomicInteger unauthorized = new AtomicInteger();
  private StubNode node;

  @AfterEach
  void stop() {
    if (node != null) {
      node.close();
    }
  }

  /**
   * 201 for a new slug, 409 for a taken one; the first {@code busy} creates get 503 with
   * Retry-After 0.
   */
  private void startNode(int busy, Set<String> taken) throws Exception {
    slugs.addAll(taken);
    AtomicInteger busyLeft = new AtomicInteger(busy);
    node =
        StubNode.start()
            .route(
                "/api/v1/tenants",
                exchange -> {
                  if (!StubNode.authorized(exchange)) {
                    unauthorized.incrementAndGet();
                    StubNode.reply(exchange, 401, "{\"status\": 401, \"title\": \"Unauthorized\"}");
                    return;
                  }
                  JsonNode body = JSON.readTree(exchange.getRequestBody());
                  bodies.add(body);
                  if (busyLeft.getAndDecrement() > 0) {
                    exchange.getResponseHeaders().set("Retry-After", "0");
                    StubNode.reply(exchange, 503, "{\"status\": 503}");
                  } else if (!slugs.add(body.get("slug").asText())) {
                    StubNode.reply(exchange, 409, "{\"status\": 409, \"title\": \"Conflict\"}");
                  } else {
                    StubNode.reply(
                        exchange,
                        201,
                        "{\"id\": \"t1\", \"status\": \"provisioning\", \"apiKey\": \"keel_x\"}");
                  }
                });
  }

  private Run run(String... extra) throws Exception {
    TenantOptions options = TenantOptions.parse(node.args(extra), Map.of(), "brun");
    return Run.of(new TenantLoad(options)::run);
  }

  @Test
  void createsEveryTenantWithItsOwnSlugAndReportsRateAndLatency() throws Exception {
    startNode(0, Set.of());

    Run run = run("--tenants", "30", "--warmup", "5", "--concurrency", "4", "--plan", "pro");

    assertThat(run.exitCode()).as(run.log()).isZero();
    JsonNode report = run.report();
    assertThat(report.get("bench").asText()).isEqualTo("tenant-load");
    assertThat(report.get("created").asInt()).isEqualTo(30);
    assertThat(report.get("conflicts").asInt()).isZero();
    assertThat(report.get("failed").asInt()).isZero();
    assertThat(report.get("warmup").get("created").asInt()).isEqualTo(5);
    assertThat(report.get("createsPerSecond").asDouble()).isPositive();
    assertThat(report.get("latencyMs").get("create").get("count").asInt()).isEqualTo(30);
    assertThat(report.get("latencyMs").get("create").get("p99").asDouble()).isPositive();
    assertThat(report.get("machine").get("availableProcessors").asInt()).isPositive();
    assertThat(report.get("nonSuccessResponses").isEmpty()).isTrue();
    assertThat(bodies)
        .hasSize(35)
        .allSatisfy(
            b -> {
              assertThat(b.get("slug").asText())
                  .matches("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
                  .startsWith("brun-");
              assertThat(b.get("plan").asText()).isEqualTo("pro");
              assertThat(b.get("name").asText()).isNotBlank();
            });
    assertThat(slugs).hasSize(35);
    assertThat(unauthorized).hasValue(0);
    assertThat(run.out()).contains("tenants created/s").doesNotContain(StubNode.TOKEN);
  }

  @Test
  void busyAnswersAreRetriedAndTakenSlugsCountedAsConflicts() throws Exception {
    startNode(3, Set.of("brun-m0", "brun-m1"));

    Run run = run("--tenants", "10", "--warmup", "0", "--concurrency", "1");

    JsonNode report = run.report();
    assertThat(run.exitCode()).as("two were not created").isEqualTo(1);
    assertThat(report.get("created").asInt()).isEqualTo(8);
    assertThat(report.get("conflicts").asInt() + report.get("conflictsOnRetry").asInt())
        .isEqualTo(2);
    assertThat(report.get("failed").asInt()).isZero();
    assertThat(report.get("nonSuccessResponses").get("503").asInt()).isEqualTo(3);
    assertThat(report.get("nonSuccessResponses").get("409").asInt()).isEqualTo(2);
    assertThat(report.get("errors").get("create answered 503, retried").asInt()).isEqualTo(3);
  }

  @Test
  void aRefusedTokenStopsTheRun() throws Exception {
    startNode(0, Set.of());
    String[] args = {
      "--endpoint",
      node.endpoint(),
      "--token",
      "wrong",
      "--tenants",
      "50",
      "--warmup",
      "0",
      "--concurrency",
      "2"
    };

    Run run = Run.of(new TenantLoad(TenantOptions.parse(args, Map.of(), "brun"))::run);

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.report().get("aborted").asText()).contains("401");
    assertThat(run.report().get("started").asInt()).isLessThanOrEqualTo(2);
  }
}
