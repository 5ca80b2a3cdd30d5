package dev.keel.node;

import static dev.keel.node.NodeHttp.JSON;
import static dev.keel.node.NodeHttp.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.keel.client.KeelApiException;
import dev.keel.client.KeelClient;
import dev.keel.client.WorkflowExecution;
import dev.keel.client.WorkflowFilter;
import dev.keel.client.WorkflowPage;
import dev.keel.client.WorkflowSummary;
import dev.keel.persistence.DatabaseSettings;
import dev.keel.persistence.TestDatabases;
import dev.keel.workflow.execution.NodeWorkflowRegistry;
import dev.keel.workflow.sdk.Workflow;
import dev.keel.workflow.sdk.WorkflowContext;
import dev.keel.workflow.testkit.WorkflowReplayer;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Operators' recovery on a real node, on H2 and on PostgreSQL: retry in place (completed steps not
 * run again, counted), rerun from a step as a new linked execution, the conflicts and bad input
 * that change nothing, and a tenant's key that reaches only its own executions.
 */
class RecoveryIT {

  private final Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();
  private final AtomicBoolean decline = new AtomicBoolean(true);

  /** reserve, charge (declined while {@code decline} is set), ship: each body counted per id. */
  public record Order(String customer) {}

  final class Checkout implements Workflow<Order, String> {
    public String name() {
      return "it-checkout";
    }

    public Class<Order> inputType() {
      return Order.class;
    }

    public String run(WorkflowContext ctx, Order in) {
      String r = ctx.step("reserve", String.class, () -> "r" + ran(ctx, "reserve"));
      String c =
          ctx.step(
              "charge",
              String.class,
              () -> {
                int n = ran(ctx, "charge");
                if (decline.get()) throw new IllegalStateException("card declined");
                return "c" + n;
              });
      String s = ctx.step("ship", String.class, () -> "s" + ran(ctx, "ship"));
      return r + c + s;
    }
  }

  private int ran(WorkflowContext ctx, String step) {
    return runs.computeIfAbsent(ctx.workflowId() + "/" + step, k -> new AtomicInteger())
        .incrementAndGet();
  }

  private List<Integer> runsOf(String id) {
    List<Integer> counts = new ArrayList<>();
    for (String step : List.of("reserve", "charge", "ship")) {
      AtomicInteger n = runs.get(id + "/" + step);
      counts.add(n == null ? 0 : n.get());
    }
    return counts;
  }

  @Test
  void onEmbeddedH2() throws Exception {
    Path dir = Files.createTempDirectory("keel-it-recovery-h2");
    exercise(Map.of("keel.node.data-dir", dir.toString()), DatabaseSettings.embedded(dir));
  }

  @Test
  void onPostgres() throws Exception {
    try (TestDatabases.FreshPostgres pg = TestDatabases.freshPostgres()) {
      Path dir = Files.createTempDirectory("keel-it-recovery-pg");
      exercise(
          Map.of(
              "keel.node.data-dir",
              dir.toString(),
              "keel.database.url",
              pg.settings().url(),
              "keel.database.user",
              pg.settings().user()),
          pg.settings());
    }
  }

  private void exercise(Map<String, String> db, DatabaseSettings dbSettings) throws Exception {
    runs.clear();
    decline.set(true);
    try (KeelNode node = NodeHttp.start(db, new NodeWorkflowRegistry().register(new Checkout()))) {
      NodeHttp api = NodeHttp.ready(node);
      JsonNode tenant =
          JSON.readTree(
              api.send(
                      "POST",
                      "/api/v1/tenants",
                      "{\"slug\":\"recov\",\"name\":\"Recovery\",\"plan\":\"pro\"}")
                  .body());
      String tenantKey = tenant.get("apiKey").asText();
      String tenantId = tenant.get("id").asText();
      api.await(
          "/api/v1/tenants/" + tenantId,
          n -> n.get("status").asText().equals("active"),
          "became active");

      String start =
          "{\"workflow\":\"it-checkout\",\"id\":\"co-1\",\"input\":{\"customer\":\"c-1\"}}";
      assertThat(api.send("POST", "/api/v1/workflows?wait=PT30S", start).statusCode())
          .isEqualTo(201);
      JsonNode failed = JSON.readTree(api.send("GET", "/api/v1/workflows/co-1", null).body());
      assertThat(failed.get("status").asText()).isEqualTo("failed");
      assertThat(runsOf("co-1")).containsExactly(1, 1, 0);

      // Bad input and conflicts: a problem document, nothing journaled.
      long before = NodeHttp.journalEvents(dbSettings, "workflow");
      assertProblem(
          api.send("POST", "/api/v1/workflows/co-1/retry", "{\"reason\":7}"), 400, "reason");
      assertProblem(api.send("POST", "/api/v1/workflows/co-1/rerun", "{}"), 400, "fromStep");
      assertProblem(
          api.send("POST", "/api/v1/workflows/co-1/rerun", "{\"fromStep\":\"ship\",\"x\":1}"),
          400,
          "x");
      // co-1 never reached "ship": it failed at "charge".
      assertProblem(
          api.send("POST", "/api/v1/workflows/co-1/rerun", "{\"fromStep\":\"ship\"}"),
          400,
          "fromStep");
      assertProblem(api.send("POST", "/api/v1/workflows/nope/retry", null), 404);
      // Another tenant's execution is not there for a tenant's key.
      assertProblem(api.sendAuth("POST", "/api/v1/workflows/co-1/retry", null, tenantKey), 404);
      assertProblem(
          api.sendAuth(
              "POST", "/api/v1/workflows/co-1/rerun", "{\"fromStep\":\"charge\"}", tenantKey),
          404);
      assertThat(NodeHttp.journalEvents(dbSettings, "workflow")).isEqualTo(before);

      // Retry in place: the failed step runs again, the completed one does not.
      decline.set(false);
      HttpResponse<String> retried =
          api.send("POST", "/api/v1/workflows/co-1/retry", "{\"reason\":\"card replaced\"}");
      assertThat(retried.statusCode()).as(retried.body()).isEqualTo(202);
      assertThat(JSON.readTree(retried.body()).get("status").asText()).isIn("running", "completed");
      JsonNode done =
          JSON.readTree(api.send("GET", "/api/v1/workflows/co-1?wait=PT30S", null).body());
      assertThat(done.get("status").asText()).isEqualTo("completed");
      assertThat(done.get("output").asText()).isEqualTo("r1c2s1");
      assertThat(runsOf("co-1")).containsExactly(1, 2, 1);
      JsonNode history =
          JSON.readTree(api.send("GET", "/api/v1/workflows/co-1/history", null).body());
      assertThat(history.findValuesAsText("type"))
          .containsSubsequence("WorkflowFailed", "WorkflowRetried", "WorkflowCompleted");
      assertProblem(api.send("POST", "/api/v1/workflows/co-1/retry", null), 409);
      // The authors' replayer reads the real history, the retry included, as the engine does.
      String recorded = api.send("GET", "/api/v1/workflows/co-1/history", null).body();
      assertThat(WorkflowReplayer.replay(new Checkout(), recorded))
          .isEqualTo(new WorkflowReplayer.Result(3, 3, true, "r1c2s1"));
      // The list follows: completed again, not failed.
      api.await(
          "/api/v1/workflows?status=completed&workflow=it-checkout",
          n -> n.get("items").findValuesAsText("id").contains("co-1"),
          "listed co-1 as completed after its retry");

      // Rerun from "ship" as a new execution: reserve and charge copied, ship run.
      HttpResponse<String> rerun =
          api.send(
              "POST", "/api/v1/workflows/co-1/rerun", "{\"fromStep\":\"ship\",\"id\":\"co-1-b\"}");
      assertThat(rerun.statusCode()).as(rerun.body()).isEqualTo(201);
      assertThat(JSON.readTree(rerun.body()).get("rerunOf").asText()).isEqualTo("co-1");
      JsonNode rerunDone =
          JSON.readTree(api.send("GET", "/api/v1/workflows/co-1-b?wait=PT30S", null).body());
      assertThat(rerunDone.get("status").asText()).isEqualTo("completed");
      assertThat(rerunDone.get("output").asText()).isEqualTo("r1c2s1");
      assertThat(runsOf("co-1-b")).containsExactly(0, 0, 1);
      assertThat(
              JSON.readTree(api.send("GET", "/api/v1/workflows/co-1-b/history", null).body())
                  .findValuesAsText("type"))
          .startsWith("WorkflowStarted", "StepsCopied", "StepStarted");
      assertThat(
              WorkflowReplayer.replay(
                  new Checkout(), api.send("GET", "/api/v1/workflows/co-1-b/history", null).body()))
          .isEqualTo(new WorkflowReplayer.Result(3, 3, true, "r1c2s1"));
      JsonNode original = JSON.readTree(api.send("GET", "/api/v1/workflows/co-1", null).body());
      assertThat(original.get("reruns").get(0).asText()).isEqualTo("co-1-b");
      // The same rerun again: the execution it started, nothing new.
      assertThat(
              api.send(
                      "POST",
                      "/api/v1/workflows/co-1/rerun",
                      "{\"fromStep\":\"ship\",\"id\":\"co-1-b\"}")
                  .statusCode())
          .isEqualTo(200);

      // A tenant's key reruns its own execution; the rerun is the tenant's too.
      decline.set(true);
      String own =
          "{\"workflow\":\"it-checkout\",\"id\":\"co-t\",\"input\":{\"customer\":\"c-2\"}}";
      assertThat(api.sendAuth("POST", "/api/v1/workflows?wait=PT30S", own, tenantKey).statusCode())
          .isEqualTo(201);
      decline.set(false);
      HttpResponse<String> tenantRerun =
          api.sendAuth(
              "POST",
              "/api/v1/workflows/co-t/rerun",
              "{\"fromStep\":\"charge\",\"id\":\"co-t-b\"}",
              tenantKey);
      assertThat(tenantRerun.statusCode()).as(tenantRerun.body()).isEqualTo(201);
      assertThat(JSON.readTree(tenantRerun.body()).get("tenantId").asText()).isEqualTo(tenantId);
      JsonNode tenantDone =
          JSON.readTree(
              api.sendAuth("GET", "/api/v1/workflows/co-t-b?wait=PT30S", null, tenantKey).body());
      assertThat(tenantDone.get("status").asText()).isEqualTo("completed");
      assertThat(runsOf("co-t-b")).containsExactly(0, 1, 1);

      bulk(api, dbSettings, tenantKey, tenantId);
      client(node);
    }
  }

  /** The Java client's workflow calls against the same node: list and page, act, read. */
  private void client(KeelNode node) throws Exception {
    try (KeelClient keel =
        KeelClient.builder()
            .endpoint("http://127.0.0.1:" + node.httpPort())
            .token(NodeHttp.TOKEN)
            .serviceId(null)
            .build()) {
      WorkflowFilter completed =
          WorkflowFilter.all().withWorkflow("it-checkout").withStatus("completed");
      long deadline = System.nanoTime() + java.time.Duration.ofSeconds(20).toNanos();
      List<WorkflowSummary> all = keel.listWorkflows(completed);
      while (all.size() < 7 && System.nanoTime() < deadline) {
        Thread.sleep(100);
        all = keel.listWorkflows(completed);
      }
      assertThat(all)
          .extracting(WorkflowSummary::id)
          .containsExactlyInAnyOrder("co-1", "co-1-b", "co-t", "co-t-b", "bk-1", "bk-2", "bk-t");
      WorkflowPage first = keel.listWorkflows(completed, 3, null);
      WorkflowPage second = keel.listWorkflows(completed, 3, first.nextCursor());
      assertThat(first.items()).hasSize(3);
      assertThat(second.items()).hasSize(3);
      assertThat(second.items()).doesNotContainAnyElementsOf(first.items());

      WorkflowExecution rerun = keel.rerunWorkflow("bk-2", "ship", "bk-2-c");
      assertThat(rerun.rerunOf()).isEqualTo("bk-2");
      assertThat(keel.awaitWorkflow("bk-2-c", java.time.Duration.ofSeconds(30)).isCompleted())
          .isTrue();
      assertThat(keel.getWorkflow("bk-2").reruns()).containsExactly("bk-2-c");
      assertThatThrownBy(() -> keel.retryWorkflow("bk-2", null))
          .isInstanceOfSatisfying(
              KeelApiException.class, e -> assertThat(e.status()).isEqualTo(409));
      assertThat(keel.workflowHistory("co-1").findValuesAsText("type")).contains("WorkflowRetried");

      Map<String, Object> waits =
          Map.of(
              "steps", List.of(Map.of("name", "approval", "signal", "approve", "timeout", "P3D")));
      keel.startWorkflow("http-sequence", "sig-1", waits);
      keel.startWorkflow("http-sequence", "sig-2", waits);
      assertThat(keel.pauseWorkflow("sig-1").status()).isEqualTo("paused");
      assertThat(keel.resumeWorkflow("sig-1").status()).isNotEqualTo("paused");
      keel.signalWorkflow("sig-1", "approve", Map.of("by", "ops"));
      assertThat(keel.awaitWorkflow("sig-1", java.time.Duration.ofSeconds(30)).isCompleted())
          .isTrue();
      WorkflowExecution cancelled = keel.cancelWorkflow("sig-2", "not needed");
      assertThat(cancelled.status()).isEqualTo("cancelled");
      assertThat(cancelled.error()).isEqualTo("not needed");
      assertThat(keel.retryWorkflow("sig-2", "needed after all").status())
          .isNotEqualTo("cancelled");
    }
  }

  /** Bulk retry by filter: a tenant's reaches its own failed executions only, the admin's all. */
  private void bulk(NodeHttp api, DatabaseSettings dbSettings, String tenantKey, String tenantId)
      throws Exception {
    decline.set(true);
    for (String id : List.of("bk-1", "bk-2")) {
      String start =
          "{\"workflow\":\"it-checkout\",\"id\":\"" + id + "\",\"input\":{\"customer\":\"b\"}}";
      assertThat(api.send("POST", "/api/v1/workflows?wait=PT30S", start).statusCode())
          .isEqualTo(201);
    }
    String own = "{\"workflow\":\"it-checkout\",\"id\":\"bk-t\",\"input\":{\"customer\":\"b\"}}";
    assertThat(api.sendAuth("POST", "/api/v1/workflows?wait=PT30S", own, tenantKey).statusCode())
        .isEqualTo(201);
    api.await(
        "/api/v1/workflows?status=failed&workflow=it-checkout",
        n ->
            n.get("items")
                .findValuesAsText("id")
                .containsAll(List.of("co-t", "bk-1", "bk-2", "bk-t")),
        "listed the failed executions");

    long before = NodeHttp.journalEvents(dbSettings, "workflow");
    assertProblem(api.send("POST", "/api/v1/workflows/bulk/delete", "{\"filter\":{}}"), 404);
    assertProblem(api.send("POST", "/api/v1/workflows/bulk/retry", "{}"), 400, "filter");
    assertProblem(
        api.send(
            "POST",
            "/api/v1/workflows/bulk/retry",
            "{\"filter\":{\"status\":\"broken\",\"createdAfter\":\"yesterday\",\"x\":1}}"),
        400,
        "filter.status",
        "filter.createdAfter",
        "filter.x");
    assertProblem(
        api.sendAuth(
            "POST",
            "/api/v1/workflows/bulk/retry",
            "{\"filter\":{\"tenantId\":\"tsomeoneelse\"}}",
            tenantKey),
        400,
        "filter.tenantId");
    // The bulk workflow is started by its route only: not by a tenant through the start route.
    assertProblem(
        api.sendAuth(
            "POST",
            "/api/v1/workflows",
            "{\"workflow\":\"workflows-bulk\",\"input\":{\"action\":\"cancel\",\"filter\":{}}}",
            tenantKey),
        403);
    assertThat(NodeHttp.journalEvents(dbSettings, "workflow")).isEqualTo(before);

    decline.set(false);
    HttpResponse<String> tenantBulk =
        api.sendAuth(
            "POST",
            "/api/v1/workflows/bulk/retry",
            "{\"filter\":{\"status\":\"failed\"},\"reason\":\"card processor back\"}",
            tenantKey);
    assertThat(tenantBulk.statusCode()).as(tenantBulk.body()).isEqualTo(202);
    String bulkId = JSON.readTree(tenantBulk.body()).get("id").asText();
    assertThat(JSON.readTree(tenantBulk.body()).get("tenantId").asText()).isEqualTo(tenantId);
    JsonNode tenantDone =
        JSON.readTree(
            api.sendAuth("GET", "/api/v1/workflows/" + bulkId + "?wait=PT30S", null, tenantKey)
                .body());
    assertThat(tenantDone.get("status").asText()).as(tenantDone.toString()).isEqualTo("completed");
    assertThat(tenantDone.get("output").toString())
        .isEqualTo("{\"action\":\"retry\",\"matched\":2,\"done\":2,\"failed\":0}");
    for (String id : List.of("co-t", "bk-t")) {
      JsonNode v =
          JSON.readTree(api.send("GET", "/api/v1/workflows/" + id + "?wait=PT30S", null).body());
      assertThat(v.get("status").asText()).as(id).isEqualTo("completed");
    }
    JsonNode untouched = JSON.readTree(api.send("GET", "/api/v1/workflows/bk-1", null).body());
    assertThat(untouched.get("status").asText()).isEqualTo("failed");

    // The admin's: once the list shows only bk-1 and bk-2 failed, a retry of all failed ones.
    api.await(
        "/api/v1/workflows?status=failed&workflow=it-checkout",
        n -> n.get("items").findValuesAsText("id").equals(List.of("bk-2", "bk-1")),
        "listed only bk-1 and bk-2 as failed");
    HttpResponse<String> adminBulk =
        api.send(
            "POST",
            "/api/v1/workflows/bulk/retry",
            "{\"filter\":{\"status\":\"failed\",\"workflow\":\"it-checkout\"}}");
    assertThat(adminBulk.statusCode()).as(adminBulk.body()).isEqualTo(202);
    String adminBulkId = JSON.readTree(adminBulk.body()).get("id").asText();
    JsonNode adminDone =
        JSON.readTree(
            api.send("GET", "/api/v1/workflows/" + adminBulkId + "?wait=PT30S", null).body());
    assertThat(adminDone.get("output").toString())
        .isEqualTo("{\"action\":\"retry\",\"matched\":2,\"done\":2,\"failed\":0}");
    assertThat(adminDone.get("steps").get(0).get("name").asText()).isEqualTo("page-1");
    JsonNode retried =
        JSON.readTree(api.send("GET", "/api/v1/workflows/bk-1?wait=PT30S", null).body());
    assertThat(retried.get("status").asText()).isEqualTo("completed");
    assertThat(runsOf("bk-1")).containsExactly(1, 2, 1);
  }
}
