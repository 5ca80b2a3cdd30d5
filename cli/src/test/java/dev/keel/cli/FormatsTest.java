package dev.keel.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.client.Alert;
import dev.keel.client.ServiceStatus;
import dev.keel.client.ServiceSummary;
import dev.keel.client.ServiceView;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What {@code keel status} and {@code keel alert list} print. */
class FormatsTest {

  private static final Instant NOW = Instant.parse("2026-11-22T12:00:00Z");

  @Test
  void table_alignsColumnsWithoutTrailingBlanks() {
    String table =
        new TextTable("ID", "TYPE", "LAST")
            .row("a", "processor", "x")
            .row("long-id", "", "y z\nw")
            .toString();
    assertThat(table)
        .isEqualTo(
            """
            ID       TYPE       LAST
            a        processor  x
            long-id  -          y z w
            """);
  }

  @Test
  void statusTable_sortedByIdWithUptimeAndLastHeartbeat() {
    List<ServiceSummary> services =
        List.of(
            new ServiceSummary(
                "orders",
                "Orders",
                "processor",
                null,
                Map.of(),
                ServiceStatus.HEALTHY,
                NOW.minusSeconds(3 * 3600 + 12 * 60),
                NOW.minusSeconds(60),
                NOW.minusSeconds(4),
                null),
            new ServiceSummary(
                "ingest",
                "Ingest",
                "source",
                null,
                Map.of(),
                ServiceStatus.STALE,
                NOW.minusSeconds(125),
                NOW.minusSeconds(10),
                null,
                null));
    assertThat(StatusCommand.table(services, NOW))
        .isEqualTo(
            """
            ID      TYPE       STATUS   UPTIME  LAST HEARTBEAT
            ingest  source     stale    2m5s    -
            orders  processor  healthy  3h12m   4s ago
            """);
    assertThat(StatusCommand.table(List.of(), NOW))
        .isEqualTo("ID  TYPE  STATUS  UPTIME  LAST HEARTBEAT\n");
  }

  @Test
  void oneService_fieldsMetricsAndDetails() {
    Map<String, Double> metrics = new LinkedHashMap<>();
    metrics.put("queue_depth", 12.0);
    metrics.put("lag_seconds", 1.5);
    ServiceView view =
        new ServiceView(
            "orders",
            "Orders API",
            "processor",
            "http://10.0.0.5:8080",
            Map.of("zone", "a"),
            ServiceStatus.DEGRADED,
            NOW.minusSeconds(3600),
            NOW.minusSeconds(4),
            metrics,
            Map.of("db", "slow"),
            30,
            null,
            NOW.minusSeconds(90),
            NOW.plusSeconds(26),
            null);
    assertThat(StatusCommand.details(view, NOW))
        .isEqualTo(
            """
            id                orders
            name              Orders API
            type              processor
            endpoint          http://10.0.0.5:8080
            status            degraded for 1m30s (since 2026-11-22T11:58:30Z)
            registered        2026-11-22T11:00:00Z (uptime 1h)
            last heartbeat    4s ago (2026-11-22T11:59:56Z)
            stale after       2026-11-22T12:00:26Z
            ttl               30s
            deregister after  -
            metadata:
              zone  a
            metrics:
              lag_seconds  1.5
              queue_depth  12
            details:
              db  slow
            """);
  }

  @Test
  void oneService_withoutMetrics() {
    ServiceView view =
        new ServiceView(
            "x",
            "x",
            "sink",
            null,
            null,
            ServiceStatus.STALE,
            NOW,
            null,
            null,
            null,
            5,
            60,
            null,
            null,
            "t-1");
    assertThat(StatusCommand.details(view, NOW))
        .contains("last heartbeat    -\n")
        .contains("deregister after  60s stale\n")
        .contains("tenant            t-1\n")
        .contains("metadata: none\n")
        .contains("metrics: none\n")
        .contains("details: none\n");
  }

  @Test
  void alertTable_withLastFiring() {
    // From a GET: the firings; from the list: lastFiredAt.
    Alert a =
        new Alert(
            "down",
            "*",
            "status != healthy",
            "https://h.example/k",
            300,
            null,
            NOW,
            NOW,
            List.of(),
            2L,
            null,
            List.of(
                new Alert.Firing(
                    1L, "orders", "stale", Map.of(), NOW.minusSeconds(600), "wf", "started"),
                new Alert.Firing(
                    2L, "orders", "stale", Map.of(), NOW.minusSeconds(65), "wf2", "pending")));
    Alert b =
        new Alert(
            "lag",
            "orders",
            "metrics.lag > 30",
            "http://x",
            null,
            null,
            NOW,
            NOW,
            List.of(),
            0L,
            null,
            List.of());
    Alert c =
        new Alert(
            "many",
            "*",
            "status == stale",
            "http://y",
            60,
            null,
            NOW,
            NOW,
            List.of(),
            7L,
            NOW.minusSeconds(3600),
            List.of());
    assertThat(AlertCommand.ListRules.table(List.of(b, c, a), NOW))
        .isEqualTo(
            """
            ID    SERVICE  CONDITION          WEBHOOK              COOLDOWN  LAST FIRED
            down  *        status != healthy  https://h.example/k  300s      1m5s ago
            lag   orders   metrics.lag > 30   http://x             -         -
            many  *        status == stale    http://y             60s       1h ago
            """);
  }

  @Test
  void auditEvents_oneRowPerEventWithItsPayloadShortened() throws Exception {
    JsonNode events =
        new ObjectMapper()
            .readTree(
                """
                [{"seq": 1, "at": "2026-11-22T09:00:00.000Z", "type": "TenantCreated", "data": {"profile": {"slug": "acme"}}},
                 {"seq": 2, "at": "2026-11-22T09:00:01.500Z", "type": "TenantSuspended", "data": {"reason": "%s"}}]
                """
                    .formatted("x".repeat(100)));
    String table = AuditCommand.Events.table(events);
    assertThat(table)
        .isEqualTo(
            """
            SEQ  TIME                      TYPE             DATA
            1    2026-11-22T09:00:00.000Z  TenantCreated    {"profile":{"slug":"acme"}}
            2    2026-11-22T09:00:01.500Z  TenantSuspended  {"reason":"%s…
            """
                .formatted("x".repeat(80 - 1 - "{\"reason\":\"".length())));
    assertThat(AuditCommand.Events.table(new ObjectMapper().createArrayNode()))
        .isEqualTo("SEQ  TIME  TYPE  DATA\n");
  }

  @Test
  void auditEntity_isTypeSlashId() {
    assertThat(AuditCommand.entityPath("tenant/t-1")).isEqualTo("/api/v1/audit/tenant/t-1");
    assertThat(AuditCommand.entityPath("hostname/shop.example.com"))
        .isEqualTo("/api/v1/audit/hostname/shop.example.com");
    assertThatThrownBy(() -> AuditCommand.entityPath("t-1"))
        .isInstanceOf(CliFailure.class)
        .hasMessageContaining("'t-1' is not TYPE/ID");
    assertThatThrownBy(() -> AuditCommand.entityPath("Tenant!/t-1"))
        .isInstanceOf(CliFailure.class)
        .hasMessageContaining("entity type 'Tenant!' is not valid");
    assertThatThrownBy(() -> AuditCommand.entityPath("tenant/a b"))
        .isInstanceOf(CliFailure.class)
        .hasMessageContaining("id 'a b' is not valid");
  }
}
