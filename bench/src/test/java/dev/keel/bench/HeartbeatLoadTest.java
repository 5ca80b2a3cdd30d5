package dev.keel.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.bench.StubNode.Run;
import java.io.IOException;
import java.time.Instant;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

/** Drives the heartbeat load against a stub registry on loopback that follows the API contract. */
class HeartbeatLoadTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** Service id → its last heartbeat (or registration); ttl in seconds by id. */
  private final Map<String, Instant> lastHeard = new ConcurrentHashMap<>();

  private final Map<String, Integer> ttls = new ConcurrentHashMap<>();
  private final Queue<JsonNode> heartbeatBodies = new ConcurrentLinkedQueue<>();
  private final AtomicInteger deletes = new AtomicInteger();
  private final AtomicInteger badAuth = new AtomicInteger();
  @AutoClose private StubNode node;

  @Test
  void registersHeartbeatsSeesSilencedServicesGoStaleAndDeregisters() throws Exception {
    startStub(201);

    Run run =
        run(
            "--services",
            "10",
            "--interval",
            "PT0.5S",
            "--warmup",
            "PT0S",
            "--duration",
            "PT1S",
            "--ttl",
            "1",
            "--stale-probe",
            "2");

    assertThat(run.exitCode()).as(run.log()).isZero();
    JsonNode report = run.report();
    assertThat(report.get("registration").get("services").asInt()).isEqualTo(10);
    // 10 services every 0.5 s for 1 s: 20 heartbeats due in the window.
    assertThat(report.get("offered").asLong()).isEqualTo(20);
    assertThat(report.get("ok").asLong()).as(run.out()).isEqualTo(20);
    assertThat(report.get("latencyMs").get("sent").get("count").asInt()).isEqualTo(20);
    assertThat(report.get("journal").isNull()).isTrue();
    JsonNode stale = report.get("staleDetection");
    assertThat(stale.get("probed").asInt()).isEqualTo(2);
    assertThat(stale.get("neverStale").asInt()).isZero();
    assertThat(stale.get("delayBeyondTtlMs").get("count").asInt()).isEqualTo(2);
    assertThat(report.get("deregistered").asInt()).isEqualTo(10);
    assertThat(deletes.get()).isEqualTo(10);
    assertThat(badAuth.get()).isZero();

    JsonNode first = heartbeatBodies.peek();
    assertThat(first.get("status").asText()).isEqualTo("healthy");
    assertThat(first.get("metrics").get("lag_seconds").isNumber()).isTrue();
    assertThat(ttls.values()).containsOnly(1);
    assertThat(ttls.keySet()).allMatch(id -> id.matches("^bench-[a-z0-9]+-\\d+$"));
  }

  @Test
  void aRefusedRegistrationStopsTheRunBeforeAnyHeartbeat() throws Exception {
    startStub(401);

    Run run =
        run(
            "--services",
            "50",
            "--interval",
            "PT1S",
            "--duration",
            "PT1S",
            "--ttl",
            "2",
            "--connections",
            "2");

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.log()).contains("registration failed").contains("401");
    assertThat(heartbeatBodies).isEmpty();
  }

  // ---- stub registry ----

  private void startStub(int registerStatus) throws IOException {
    node =
        StubNode.start()
            .route(
                "/api/v1/services/",
                exchange -> {
                  if (!StubNode.authorized(exchange)) {
                    badAuth.incrementAndGet();
                  }
                  String[] path =
                      exchange
                          .getRequestURI()
                          .getPath()
                          .substring("/api/v1/services/".length())
                          .split("/");
                  String id = path[0];
                  String method = exchange.getRequestMethod();
                  if (path.length == 1 && "PUT".equals(method)) {
                    JsonNode body = JSON.readTree(exchange.getRequestBody());
                    if (registerStatus != 201) {
                      StubNode.reply(
                          exchange,
                          registerStatus,
                          "{\"status\": " + registerStatus + ", \"title\": \"no\"}");
                      return;
                    }
                    ttls.put(id, body.get("ttlSeconds").asInt());
                    StubNode.reply(exchange, 201, ack(id, Instant.now()));
                  } else if (path.length == 1 && "DELETE".equals(method)) {
                    deletes.incrementAndGet();
                    lastHeard.remove(id);
                    StubNode.reply(exchange, 204, null);
                  } else if (path.length == 2
                      && path[1].equals("heartbeat")
                      && "POST".equals(method)) {
                    heartbeatBodies.add(JSON.readTree(exchange.getRequestBody()));
                    StubNode.reply(exchange, 200, ack(id, Instant.now()));
                  } else if (path.length == 2 && path[1].equals("health") && "GET".equals(method)) {
                    Instant last = lastHeard.get(id);
                    boolean stale = Instant.now().isAfter(last.plusSeconds(ttls.get(id)));
                    StubNode.reply(
                        exchange,
                        stale ? 503 : 200,
                        "{\"id\": \""
                            + id
                            + "\", \"status\": \""
                            + (stale ? "stale" : "healthy")
                            + "\"}");
                  } else {
                    StubNode.reply(exchange, 405, "{}");
                  }
                });
  }

  private String ack(String id, Instant now) {
    lastHeard.put(id, now);
    return "{\"status\": \"healthy\", \"nextHeartbeatBefore\": \""
        + now.plusSeconds(ttls.get(id))
        + "\"}";
  }

  private Run run(String... extra) throws Exception {
    return Run.of(new HeartbeatLoad(HeartbeatOptions.parse(node.args(extra), Map.of()))::run);
  }
}
