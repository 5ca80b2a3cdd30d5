package dev.keel.node;

import static dev.keel.node.NodeHttp.JSON;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.keel.persistence.DatabaseSettings;
import dev.keel.persistence.GoldenJournal;
import dev.keel.tenant.domain.FakeDnsServer;
import dev.keel.workflow.execution.NodeWorkflowRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Writes the golden journals ({@link GoldenJournal}): drives a real node on H2 through a short life
 * of each entity type, snapshotting each on demand before its last change, then exports the rows of
 * those entities into {@code <module>/src/test/resources/golden/<type>/<label>-<name>.json}. Runs
 * only when asked, and never overwrites a file:
 *
 * <pre>{@code
 * mvn -pl node -am verify -Dtest=GoldenJournalExport -Dit.test=NoSuchIT \
 *     -Dsurefire.failIfNoSpecifiedTests=false -Dfailsafe.failIfNoSpecifiedTests=false -Dkeel.golden.write=2026-11-22
 * }</pre>
 */
class GoldenJournalExport {

  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

  private record Target(String module, String type, String id, String name) {}

  @Test
  void writeGoldenJournals() throws Exception {
    String label = System.getProperty("keel.golden.write");
    Assumptions.assumeTrue(
        label != null && !label.isBlank(),
        "writes golden journals only with -Dkeel.golden.write=<label>");
    Path dir = Files.createTempDirectory("keel-golden");
    List<Target> targets = new ArrayList<>();
    DecliningCheckout checkout = new DecliningCheckout("golden-checkout");
    try (FakeDnsServer dns = FakeDnsServer.start()) {
      Map<String, String> config =
          new HashMap<>(
              Map.of(
                  "keel.node.data-dir",
                  dir.toString(),
                  "keel.tenants.dns-server",
                  dns.hostAndPort(),
                  "keel.tenants.domains.check-backoff",
                  "1h",
                  "keel.tenants.domains.check-every",
                  "1h"));
      try (KeelNode node =
          NodeHttp.start(
              config,
              new NodeWorkflowRegistry()
                  .register(new AuditIT.ApprovalWorkflow())
                  .register(checkout))) {
        NodeHttp api = NodeHttp.ready(node);

        // Tenant: created, active, key rotated, [snapshot], suspended; and its slug.
        String tenantId =
            created(
                    api,
                    "POST",
                    "/api/v1/tenants",
                    "{\"slug\":\"golden\",\"name\":\"Golden Inc\",\"plan\":\"pro\"}")
                .get("id")
                .asText();
        String tenant = "/api/v1/tenants/" + tenantId;
        api.await(tenant, t -> t.get("status").asText().equals("active"), "became active");
        created(api, "POST", tenant + "/api-keys", null);
        snapshot(api, "tenant", tenantId);
        ok(api, "POST", tenant + "/suspend", "{\"reason\":\"unpaid invoice\"}");
        targets.add(
            new Target("tenant-actors", "tenant", tenantId, "suspended-after-key-rotation"));
        targets.add(new Target("tenant-actors", "slug", "golden", "confirmed"));

        // Hostname: claimed, a failed check, certificate pending, [snapshot], certificate issued.
        String domain = tenant + "/domains/shop.golden.example";
        created(api, "POST", tenant + "/domains", "{\"hostname\":\"shop.golden.example\"}");
        ok(api, "POST", domain + "/verify", null);
        ok(api, "PUT", domain + "/certificate", "{\"status\":\"pending\"}");
        snapshot(api, "hostname", "shop.golden.example");
        ok(
            api,
            "PUT",
            domain + "/certificate",
            "{\"status\":\"issued\",\"expiresAt\":\"2027-02-20T09:00:00.000Z\"}");
        targets.add(
            new Target("tenant-actors", "hostname", "shop.golden.example", "certificate-issued"));

        // Schedule: defined, [snapshot], redefined paused.
        created(
            api,
            "PUT",
            "/api/v1/schedules/golden-s",
            "{\"workflow\":\"example\",\"cron\":\"0 3 1 1 *\",\"input\":{\"userId\":\"u-1\"}}");
        snapshot(api, "schedule", "golden-s");
        ok(
            api,
            "PUT",
            "/api/v1/schedules/golden-s",
            "{\"workflow\":\"example\",\"cron\":\"30 4 * *"
                + " 1\",\"timezone\":\"Europe/Paris\",\"paused\":true,\"input\":{\"userId\":\"u-1\"}}");
        targets.add(new Target("workflow-actors", "schedule", "golden-s", "redefined-paused"));

        // Workflows: one completed, one failed, one waiting for a signal, paused, [snapshot],
        // resumed, signalled.
        created(
            api,
            "POST",
            "/api/v1/workflows",
            "{\"workflow\":\"example\",\"id\":\"golden-ok\",\"input\":{\"userId\":\"u-42\",\"action\":\"onboard\"}}");
        api.await(
            "/api/v1/workflows/golden-ok",
            w -> w.get("status").asText().equals("completed"),
            "completed");
        snapshot(api, "workflow", "golden-ok");
        targets.add(new Target("workflow-actors", "workflow", "golden-ok", "example-completed"));
        created(
            api,
            "POST",
            "/api/v1/workflows",
            "{\"workflow\":\"example\",\"id\":\"golden-failed\",\"input\":{\"userId\":\"\"}}");
        api.await(
            "/api/v1/workflows/golden-failed",
            w -> w.get("status").asText().equals("failed"),
            "failed");
        targets.add(new Target("workflow-actors", "workflow", "golden-failed", "example-failed"));
        String approval = "/api/v1/workflows/golden-approval";
        created(
            api,
            "POST",
            "/api/v1/workflows",
            "{\"workflow\":\"audit-approval\",\"id\":\"golden-approval\",\"input\":{}}");
        api.await(
            approval, w -> w.get("status").asText().equals("waiting"), "waited for the signal");
        api.send("POST", approval + "/pause", null);
        api.await(approval, w -> w.get("status").asText().equals("paused"), "paused");
        snapshot(api, "workflow", "golden-approval");
        api.send("POST", approval + "/resume", null);
        api.send("POST", approval + "/signals/approve", "{\"by\":\"ops\"}");
        api.await(approval, w -> w.get("status").asText().equals("completed"), "completed");
        targets.add(
            new Target("workflow-actors", "workflow", "golden-approval", "signal-pause-resume"));

        // Service: registered, degraded, [snapshot], updated. Alert: defined, fired on it,
        // [snapshot], redefined.
        created(
            api,
            "PUT",
            "/api/v1/alerts/golden-a",
            "{\"service\":\"golden-svc\",\"condition\":\"status !="
                + " healthy\",\"webhook\":\"http://127.0.0.1:9/hook\",\"cooldownSeconds\":60}");
        created(
            api,
            "PUT",
            "/api/v1/services/golden-svc",
            "{\"name\":\"Golden\",\"type\":\"processor\",\"endpoint\":\"10.0.0.7:8080\",\"metadata\":{\"zone\":\"a\"},\"ttlSeconds\":3600}");
        api.await("/api/v1/alerts", l -> l.get("items").size() == 1, "listed the rule");
        ok(
            api,
            "POST",
            "/api/v1/services/golden-svc/heartbeat",
            "{\"status\":\"degraded\",\"metrics\":{\"lag\":7.5}}");
        api.await("/api/v1/alerts/golden-a", a -> a.get("firings").size() == 1, "fired");
        snapshot(api, "service", "golden-svc");
        ok(
            api,
            "PUT",
            "/api/v1/services/golden-svc",
            "{\"name\":\"Golden"
                + " v2\",\"type\":\"processor\",\"endpoint\":\"10.0.0.8:8080\",\"metadata\":{\"zone\":\"b\"},\"ttlSeconds\":3600}");
        targets.add(
            new Target("registry-actors", "service", "golden-svc", "degraded-then-updated"));
        snapshot(api, "alert", "golden-a");
        ok(
            api,
            "PUT",
            "/api/v1/alerts/golden-a",
            "{\"service\":\"golden-svc\",\"condition\":\"status =="
                + " stale\",\"webhook\":\"http://127.0.0.1:9/hook\",\"cooldownSeconds\":120}");
        targets.add(new Target("registry-actors", "alert", "golden-a", "fired-then-redefined"));

        // Named keys (since 2026-12-08): a viewer with an expiry, an operator revoked, [snapshot],
        // an admin.
        String keys = tenant + "/keys";
        created(
            api,
            "POST",
            keys,
            "{\"name\":\"dashboards\",\"role\":\"viewer\",\"expiresAt\":\"2027-06-01T00:00:00Z\"}");
        String ci =
            created(api, "POST", keys, "{\"name\":\"ci\",\"role\":\"operator\"}")
                .get("id")
                .asText();
        var revoked = api.send("DELETE", keys + "/" + ci, null);
        assertThat(revoked.statusCode()).as(revoked.body()).isEqualTo(204);
        snapshot(api, "keyring", tenantId);
        created(api, "POST", keys, "{\"name\":\"ops\",\"role\":\"admin\"}");
        targets.add(new Target("tenant-actors", "keyring", tenantId, "named-keys-one-revoked"));

        // Repair (since 2026-12-08): failed at charge, [snapshot], retried in place, completed;
        // another failed, rerun from charge as a new execution that copies reserve.
        checkout.decline.set(true);
        for (String id : List.of("golden-retried", "golden-rerun-source")) {
          created(
              api,
              "POST",
              "/api/v1/workflows",
              "{\"workflow\":\"golden-checkout\",\"id\":\"" + id + "\",\"input\":{}}");
          api.await(
              "/api/v1/workflows/" + id,
              w -> w.get("status").asText().equals("failed"),
              "failed at charge");
        }
        snapshot(api, "workflow", "golden-retried");
        checkout.decline.set(false);
        var retried =
            api.send(
                "POST", "/api/v1/workflows/golden-retried/retry", "{\"reason\":\"card back\"}");
        assertThat(retried.statusCode()).as(retried.body()).isEqualTo(202);
        api.await(
            "/api/v1/workflows/golden-retried",
            w -> w.get("status").asText().equals("completed"),
            "completed after the retry");
        targets.add(
            new Target("workflow-actors", "workflow", "golden-retried", "retried-in-place"));
        created(
            api,
            "POST",
            "/api/v1/workflows/golden-rerun-source/rerun",
            "{\"fromStep\":\"charge\",\"id\":\"golden-rerun\"}");
        api.await(
            "/api/v1/workflows/golden-rerun",
            w -> w.get("status").asText().equals("completed"),
            "the rerun completed");
        targets.add(
            new Target("workflow-actors", "workflow", "golden-rerun-source", "failed-then-rerun"));
        targets.add(new Target("workflow-actors", "workflow", "golden-rerun", "rerun-from-charge"));
      }
    }
    DatabaseSettings db = DatabaseSettings.embedded(dir);
    for (Target t : targets) write(db, t, label);
  }

  private static JsonNode created(NodeHttp api, String method, String path, String body)
      throws Exception {
    var r = api.send(method, path, body);
    assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(201);
    return JSON.readTree(r.body());
  }

  private static void ok(NodeHttp api, String method, String path, String body) throws Exception {
    var r = api.send(method, path, body);
    assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(200);
  }

  private static void snapshot(NodeHttp api, String type, String id) throws Exception {
    var r =
        api.send(
            "POST",
            "/api/v1/admin/snapshots",
            "{\"entityType\":\"" + type + "\",\"id\":\"" + id + "\"}");
    assertThat(r.statusCode()).as(type + " " + id + ": " + r.body()).isEqualTo(202);
  }

  private static void write(DatabaseSettings db, Target t, String label) throws Exception {
    String pid = t.type() + "|" + t.id();
    List<GoldenJournal.Row> events =
        rows(
            db,
            "SELECT \"sequence_number\", \"write_timestamp\", \"event_ser_id\","
                + " \"event_ser_manifest\", \"event_payload\" FROM \"event_journal\" WHERE"
                + " \"persistence_id\" = ? ORDER BY \"sequence_number\"",
            pid);
    List<GoldenJournal.Row> snapshots =
        rows(
            db,
            "SELECT \"sequence_number\", \"created\", \"snapshot_ser_id\","
                + " \"snapshot_ser_manifest\", \"snapshot_payload\" FROM \"snapshot\" WHERE"
                + " \"persistence_id\" = ? ORDER BY \"sequence_number\" DESC",
            pid);
    assertThat(events).as(pid).isNotEmpty();
    Path out =
        ROOT.resolve(t.module())
            .resolve("src/test/resources/golden")
            .resolve(t.type())
            .resolve(label + "-" + t.name() + ".json");
    GoldenJournal.Journal journal =
        new GoldenJournal.Journal(
            pid, "Keel " + label, events, snapshots.isEmpty() ? null : snapshots.get(0));
    if (Files.exists(out))
      throw new AssertionError(
          out + " exists: golden journals are never rewritten; pick another label");
    Files.createDirectories(out.getParent());
    Files.writeString(
        out, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(journal) + "\n");
  }

  private static List<GoldenJournal.Row> rows(DatabaseSettings db, String sql, String pid)
      throws Exception {
    List<GoldenJournal.Row> rows = new ArrayList<>();
    try (Connection c = DriverManager.getConnection(db.url(), db.user(), db.password());
        PreparedStatement st = c.prepareStatement(sql)) {
      st.setString(1, pid);
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          rows.add(
              new GoldenJournal.Row(
                  rs.getLong(1),
                  rs.getLong(2),
                  rs.getInt(3),
                  rs.getString(4),
                  Base64.getEncoder().encodeToString(rs.getBytes(5))));
        }
      }
    }
    return rows;
  }
}
