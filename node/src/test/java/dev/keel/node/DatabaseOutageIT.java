package dev.keel.node;

import static dev.keel.node.NodeHttp.JSON;
import static dev.keel.node.NodeHttp.TOKEN;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.ConfigFactory;
import dev.keel.persistence.DatabaseSettings;
import dev.keel.persistence.TestDatabases;
import dev.keel.workflow.execution.NodeWorkflowRegistry;
import dev.keel.workflow.execution.WorkflowExecution;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.sharding.ShardRegion;
import org.apache.pekko.cluster.sharding.typed.ClusterShardingQuery;
import org.apache.pekko.cluster.sharding.typed.GetClusterShardingStats;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The journal database goes away under a running node and comes back (PostgreSQL only): the node's
 * database URL points at a {@link TcpProxy} in front of the server, and the test cuts it for about
 * 12 s, which from the node's side looks like PostgreSQL restarting (connections reset, new ones
 * refused).
 *
 * <ul>
 *   <li>During the outage {@code /ready}, writes and reads that need the database answer 503
 *       problems with {@code Retry-After}, never a 500 nor a stack trace; reads an entity can
 *       answer from memory may still answer 200.
 *   <li>After it, {@code /ready} is 200 again by itself, and once it is, new starts (on several
 *       shards) are accepted at once with 201 and complete; the start refused during the outage,
 *       retried with the same id, answers 201 or 200 and completes; an execution that was
 *       mid-flight (its durable timer fell due during the outage) finishes without any request
 *       touching it, as its journal, read directly, shows.
 * </ul>
 *
 * <p>Breaches are collected rather than failing at the first, so that one run reports them all.
 * Timings, breaches and the node's WARN/ERROR lines since the cut are printed as {@code [outage]}
 * lines in the test output ({@code
 * target/failsafe-reports/dev.keel.node.DatabaseOutageIT-output.txt}).
 */
class DatabaseOutageIT {

  /** How long the database stays away. */
  private static final Duration OUTAGE = Duration.ofSeconds(12);

  private static final Duration ASK_TIMEOUT = Duration.ofSeconds(3);
  private static final int NEW_STARTS = 8;
  private static final Pattern PG_URL =
      Pattern.compile("^jdbc:postgresql://([^/:?]+)(?::(\\d+))?/(.*)$");

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private String base;

  /** Contract breaches seen along the way; reported together at the end, after the timings. */
  private final List<String> violations = new ArrayList<>();

  private final Map<String, String> timings = new LinkedHashMap<>();

  @Test
  void theNodeAnswers503DuringAJournalOutageAndRecoversByItselfAfterIt() throws Exception {
    try (TestDatabases.FreshPostgres pg = TestDatabases.freshPostgres()) {
      Matcher m = PG_URL.matcher(pg.settings().url());
      assertThat(m.matches())
          .as("a PostgreSQL JDBC URL with host and database: " + pg.settings().url())
          .isTrue();
      String host = m.group(1);
      int pgPort = m.group(2) == null ? 5432 : Integer.parseInt(m.group(2));
      CapturedLog captured = CapturedLog.attach();
      TcpProxy proxy = new TcpProxy(host, pgPort);
      KeelNode node = null;
      try {
        String proxiedUrl = "jdbc:postgresql://127.0.0.1:" + proxy.port() + "/" + m.group(3);
        Path dir = Files.createTempDirectory("keel-it-outage");
        Map<String, Object> overrides = new HashMap<>();
        overrides.put("keel.node.data-dir", dir.toString());
        overrides.put("keel.database.url", proxiedUrl);
        overrides.put("keel.database.user", pg.settings().user());
        if (!pg.settings().password().isEmpty())
          overrides.put("keel.database.password", pg.settings().password());
        overrides.put("keel.http.port", 0);
        overrides.put("keel.cluster.port", 0);
        overrides.put("keel.node.admin-token", TOKEN);
        overrides.put("keel.workflows.ask-timeout", ASK_TIMEOUT.toSeconds() + "s");
        node = KeelNode.start(ConfigFactory.parseMap(overrides), new NodeWorkflowRegistry());
        NodeHttp.ready(node);
        base = "http://127.0.0.1:" + node.httpPort();
        exercise(node, proxy, pg.settings(), captured);
      } finally {
        report(captured);
        proxy.close();
        if (node != null) node.close();
        captured.detach();
      }
      assertThat(violations)
          .as(
              "contract breaches during and after a journal outage (see [outage] lines in the test"
                  + " output)")
          .isEmpty();
    }
  }

  private void exercise(
      KeelNode node, TcpProxy proxy, DatabaseSettings direct, CapturedLog captured)
      throws Exception {
    String health = base + "/health";
    // Before: one execution finished, one parked on a 3 s durable timer whose firing falls inside
    // the outage.
    HttpResponse<String> done =
        start("outage-done", "example", "{\"userId\":\"u-1\",\"action\":\"before\"}");
    assertThat(done.statusCode()).as(done.body()).isEqualTo(201);
    assertThat(status(send("GET", "/api/v1/workflows/outage-done?wait=PT20S", null, 30)))
        .isEqualTo("completed");
    HttpResponse<String> mid =
        start(
            "outage-mid",
            "http-sequence",
            "{\"steps\":[{\"name\":\"nap\",\"sleep\":\"PT3S\"},"
                + "{\"name\":\"health\",\"request\":{\"method\":\"GET\",\"url\":\""
                + health
                + "\"}}]}");
    assertThat(mid.statusCode()).as(mid.body()).isEqualTo(201);
    awaitStatus("outage-mid", "sleeping", Duration.ofSeconds(5));

    // ------------------------------------------------------------ the outage
    captured.mark();
    Instant cutAt = Instant.now();
    proxy.cut();
    System.out.println("[outage] database cut at " + cutAt);

    // /ready notices within ~10 s.
    HttpResponse<String> notReady = null;
    List<Long> readyLatencies = new ArrayList<>();
    while (since(cutAt).compareTo(Duration.ofSeconds(10)) < 0) {
      Instant asked = Instant.now();
      HttpResponse<String> r = send("GET", "/ready", null, 15);
      readyLatencies.add(since(asked).toMillis());
      check("GET /ready during the outage", r, Duration.ZERO);
      if (r.statusCode() == 503) {
        notReady = r;
        break;
      }
      Thread.sleep(200);
    }
    timings.put("/ready 503 after cut", notReady == null ? "never within 10 s" : ms(since(cutAt)));
    if (notReady == null)
      violations.add("/ready still answered 200 10 s after the database went away");
    else expect503("GET /ready during the outage", notReady);

    // All at once, so that the outage stays short: each must answer 503 with Retry-After (or, for
    // reads an entity can answer from memory, 200) within about the ask or pool timeout.
    String duringStart = "{\"userId\":\"u-2\",\"action\":\"during\"}";
    Map<String, String[]> requests = new LinkedHashMap<>();
    // A write: nothing can be journaled.
    requests.put(
        "POST new start",
        new String[] {
          "POST", "/api/v1/workflows", startBody("outage-during", "example", duringStart), "503"
        });
    // A start without a client id: Keel chooses the id, and a client never learns it from a 503.
    requests.put(
        "POST new start without id",
        new String[] {
          "POST",
          "/api/v1/workflows",
          "{\"workflow\":\"example\",\"input\":{\"userId\":\"u-4\",\"action\":\"anonymous\"}}",
          "503"
        });
    // Entity reads: from memory (200) or 503.
    requests.put(
        "GET completed execution",
        new String[] {"GET", "/api/v1/workflows/outage-done", null, "200|503"});
    requests.put(
        "GET mid-flight execution",
        new String[] {"GET", "/api/v1/workflows/outage-mid", null, "200|503"});
    // Reads served by the database (read models, journal): 503 while it is away.
    requests.put(
        "GET workflow list",
        new String[] {"GET", "/api/v1/workflows?workflow=example", null, "503"});
    requests.put(
        "GET history", new String[] {"GET", "/api/v1/workflows/outage-done/history", null, "503"});
    requests.put("GET schedule list", new String[] {"GET", "/api/v1/schedules", null, "503"});
    requests.put("GET /ready", new String[] {"GET", "/ready", null, "503"});
    Map<String, CompletableFuture<HttpResponse<String>>> pending = new LinkedHashMap<>();
    Map<String, Instant> sentAt = new HashMap<>();
    Map<String, Instant> answeredAt = new ConcurrentHashMap<>();
    for (Map.Entry<String, String[]> e : requests.entrySet()) {
      sentAt.put(e.getKey(), Instant.now());
      pending.put(
          e.getKey(),
          sendAsync(e.getValue()[0], e.getValue()[1], e.getValue()[2], 20)
              .whenComplete((r, t) -> answeredAt.put(e.getKey(), Instant.now())));
    }
    for (Map.Entry<String, String[]> e : requests.entrySet()) {
      String what = e.getKey() + " during the outage";
      HttpResponse<String> r;
      try {
        r = pending.get(e.getKey()).get(25, TimeUnit.SECONDS);
      } catch (ExecutionException | TimeoutException x) {
        violations.add(what + " got no answer: " + x);
        continue;
      }
      Duration took =
          Duration.between(
              sentAt.get(e.getKey()), answeredAt.getOrDefault(e.getKey(), Instant.now()));
      String extra =
          e.getKey().startsWith("GET mid") && r.statusCode() == 200
              ? " " + JSON.readTree(r.body()).path("status").asText()
              : "";
      timings.put(
          e.getKey() + " during outage",
          r.statusCode()
              + extra
              + " after "
              + ms(took)
              + " (sent "
              + ms(Duration.between(cutAt, sentAt.get(e.getKey())))
              + " after cut)");
      check(what, r, took);
      if (!(e.getValue()[3].contains("200") && r.statusCode() == 200)) expect503(what, r);
    }

    // Keep the database away for the whole outage, retrying the write once more and watching /ready
    // (which may take the read-model pool's connection timeout to answer).
    boolean retried = false;
    while (since(cutAt).compareTo(OUTAGE) < 0) {
      Duration left = OUTAGE.minus(since(cutAt));
      if (!retried && left.compareTo(Duration.ofSeconds(4)) <= 0) {
        retried = true;
        Instant again = Instant.now();
        HttpResponse<String> r2 = start("outage-during", "example", duringStart);
        timings.put(
            "POST new start retried late in outage",
            r2.statusCode()
                + " after "
                + ms(since(again))
                + " (sent "
                + ms(Duration.between(cutAt, again))
                + " after cut)");
        check("POST /api/v1/workflows retried during the outage", r2, since(again));
        expect503("POST /api/v1/workflows retried during the outage", r2);
      } else if (!retried && left.compareTo(Duration.ofMillis(9500)) > 0) {
        Instant asked = Instant.now();
        HttpResponse<String> r = send("GET", "/ready", null, 15);
        readyLatencies.add(since(asked).toMillis());
        check("GET /ready during the outage", r, Duration.ZERO);
        if (r.statusCode() == 200)
          violations.add("/ready answered 200 at " + ms(since(cutAt)) + " into the outage");
        else expect503("GET /ready during the outage", r);
      } else {
        Thread.sleep(Math.min(250, Math.max(1, left.toMillis())));
      }
    }

    timings.put("/ready answer times during outage (ms)", readyLatencies.toString());

    // ------------------------------------------------------------ back
    proxy.restore();
    Instant restoredAt = Instant.now();
    timings.put("outage length", ms(Duration.between(cutAt, restoredAt)));
    System.out.println("[outage] database back at " + restoredAt);

    // The mid-flight execution: no request touches it; only its journal (read directly, not through
    // the node) says when it finished, watched from now on in the background.
    CompletableFuture<Instant> midFinal =
        CompletableFuture.supplyAsync(
            () -> {
              Instant deadline = restoredAt.plusSeconds(60);
              while (Instant.now().isBefore(deadline)) {
                List<String> ev = events(direct, "outage-mid");
                if (ev.contains("WorkflowCompleted") || ev.contains("WorkflowFailed"))
                  return Instant.now();
                try {
                  Thread.sleep(250);
                } catch (InterruptedException e) {
                  return null;
                }
              }
              return null;
            });

    Instant readyAgain = null;
    while (since(restoredAt).compareTo(Duration.ofSeconds(30)) < 0) {
      HttpResponse<String> r = send("GET", "/ready", null, 15);
      check("GET /ready after the outage", r, Duration.ZERO);
      if (r.statusCode() == 200) {
        readyAgain = Instant.now();
        break;
      }
      Thread.sleep(200);
    }
    timings.put(
        "/ready 200 after restore",
        readyAgain == null ? "never within 30 s" : ms(Duration.between(restoredAt, readyAgain)));
    if (readyAgain == null)
      violations.add("/ready never answered 200 within 30 s after the database came back");

    // A client that sees /ready 200 sends writes: new starts on several shards at once must be
    // accepted (201).
    // Diagnosis alongside: does the workflow shard region know a coordinator yet (needed to
    // allocate new shards)?
    if (readyAgain != null) {
      Instant ready = readyAgain;
      timings.put(
          "workflow shard coordinator known when /ready turned 200",
          String.valueOf(coordinatorKnown(node)));
      CompletableFuture<String> coordinatorBack =
          CompletableFuture.supplyAsync(
              () -> {
                Instant deadline = Instant.now().plusSeconds(60);
                while (Instant.now().isBefore(deadline)) {
                  if (coordinatorKnown(node))
                    return "at ready+" + ms(Duration.between(ready, Instant.now()));
                  try {
                    Thread.sleep(100);
                  } catch (InterruptedException e) {
                    return "interrupted";
                  }
                }
                return "not within 60 s";
              });
      newStartsAfterReady(readyAgain, direct);
      timings.put(
          "workflow shard coordinator known again", coordinatorBack.get(70, TimeUnit.SECONDS));
    }

    Instant midCompletedSeenAt = midFinal.get(70, TimeUnit.SECONDS);
    List<String> midEvents = events(direct, "outage-mid");
    timings.put(
        "mid-flight final in its journal (untouched), after restore",
        midCompletedSeenAt == null
            ? "not within 60 s"
            : ms(Duration.between(restoredAt, midCompletedSeenAt)));
    timings.put("mid-flight journal", String.join(",", midEvents));
    if (midCompletedSeenAt == null) {
      violations.add(
          "the mid-flight execution did not finish by itself within 60 s after the database came"
              + " back; journal: "
              + midEvents);
    }

    // The start refused during the outage, retried with the same id: 201 (nothing was journaled)
    // or 200 (it was after all), and then it completes.
    HttpResponse<String> retry = null;
    Instant retryDeadline = Instant.now().plusSeconds(30);
    List<Integer> retryStatuses = new ArrayList<>();
    while (Instant.now().isBefore(retryDeadline)) {
      retry = start("outage-during", "example", duringStart);
      retryStatuses.add(retry.statusCode());
      check("POST /api/v1/workflows retried after the outage", retry, Duration.ZERO);
      if (retry.statusCode() != 503) break;
      Thread.sleep(500);
    }
    timings.put("POST retried after restore", retryStatuses.toString());
    if (retry == null || (retry.statusCode() != 201 && retry.statusCode() != 200)) {
      violations.add(
          "retrying the refused start after the outage answered "
              + retryStatuses
              + ": "
              + (retry == null ? "" : retry.body()));
    } else if (retryStatuses.size() > 1) {
      violations.add(
          "retrying the refused start after the outage (node already ready) first answered "
              + retryStatuses);
    }
    String duringFinal = longPollFinal("outage-during", Duration.ofSeconds(40));
    timings.put("refused-then-retried start final status", duringFinal);
    List<String> duringEvents = events(direct, "outage-during");
    timings.put("refused-then-retried start journal", String.join(",", duringEvents));
    if (duringEvents.stream().filter("WorkflowStarted"::equals).count() != 1) {
      violations.add(
          "outage-during was started "
              + duringEvents.stream().filter("WorkflowStarted"::equals).count()
              + " times: "
              + duringEvents);
    }
    HttpResponse<String> duringView = send("GET", "/api/v1/workflows/outage-during", null, 15);
    if (duringView.statusCode() == 200) {
      Instant createdAt = Instant.parse(JSON.readTree(duringView.body()).get("createdAt").asText());
      timings.put(
          "refused start journaled at (createdAt)",
          "cut+"
              + ms(Duration.between(cutAt, createdAt))
              + " = restore+"
              + ms(Duration.between(restoredAt, createdAt)));
    }
    if (!"completed".equals(duringFinal))
      violations.add("outage-during ended as " + duringFinal + ", expected completed");

    // Now look at the mid-flight execution over HTTP too.
    HttpResponse<String> midView = send("GET", "/api/v1/workflows/outage-mid?wait=PT20S", null, 30);
    check("GET of the mid-flight execution after the outage", midView, Duration.ZERO);
    if (midView.statusCode() == 200) {
      JsonNode v = JSON.readTree(midView.body());
      timings.put(
          "mid-flight final view",
          v.path("status").asText()
              + " completedAt="
              + v.path("completedAt").asText()
              + " steps="
              + v.path("steps").size());
      if (!v.path("status").asText().equals("completed"))
        violations.add("outage-mid is " + v.path("status").asText() + ": " + midView.body());
      else {
        Instant completedAt = Instant.parse(v.get("completedAt").asText());
        timings.put(
            "mid-flight completedAt - restore", ms(Duration.between(restoredAt, completedAt)));
        assertThat(v.get("output").get("nap").get("slept").asText()).isEqualTo("PT3S");
        assertThat(v.get("output").get("health").get("status").asInt()).isEqualTo(200);
      }
    } else {
      violations.add(
          "GET outage-mid after the outage answered "
              + midView.statusCode()
              + ": "
              + midView.body());
    }
    HttpResponse<String> doneView = send("GET", "/api/v1/workflows/outage-done", null, 15);
    if (doneView.statusCode() != 200
        || !"completed".equals(JSON.readTree(doneView.body()).path("status").asText())) {
      violations.add(
          "outage-done after the outage: " + doneView.statusCode() + " " + doneView.body());
    }

    // Observation, not (yet) an assertion: did the start without a client id that got 503 run after
    // all?
    List<String> anonymous = anonymousStarts(direct);
    timings.put("starts without client id journaled (503 during outage)", anonymous.toString());
  }

  /**
   * Timings, the node's WARN/ERROR lines since the cut, and the breaches, for the lead's report.
   */
  private void report(CapturedLog captured) {
    System.out.println(
        "[outage] timings (from cut for the outage, from restore for the recovery):");
    timings.forEach((k, v) -> System.out.println("[outage]   " + k + ": " + v));
    List<String[]> log = captured.since();
    Map<String, String> distinct = new LinkedHashMap<>();
    Map<String, Integer> counts = new HashMap<>();
    for (String[] l : log) {
      distinct.putIfAbsent(l[1], l[0]);
      counts.merge(l[1], 1, Integer::sum);
    }
    System.out.println(
        "[outage] WARN/ERROR log lines from the cut on ("
            + log.size()
            + "; distinct, first seen, x count; first 80):");
    distinct.entrySet().stream()
        .limit(80)
        .forEach(
            e ->
                System.out.println(
                    "[outage]   +"
                        + e.getValue()
                        + " x"
                        + counts.get(e.getKey())
                        + " "
                        + e.getKey()));
    if (!violations.isEmpty()) {
      System.out.println("[outage] VIOLATIONS:");
      violations.forEach(v -> System.out.println("[outage]   " + v));
    }
  }

  /**
   * Right after {@code /ready} turned 200: {@value #NEW_STARTS} new starts at once (their ids fall
   * on several shards). Each must answer 201; those that do not are retried after their Retry-After
   * until accepted, to measure how long after "ready" writes were really possible, and all must
   * then complete, each started exactly once.
   */
  private void newStartsAfterReady(Instant readyAgain, DatabaseSettings direct) throws Exception {
    Map<String, CompletableFuture<HttpResponse<String>>> sent = new LinkedHashMap<>();
    for (int i = 0; i < NEW_STARTS; i++) {
      String id = "outage-after-" + i;
      String body =
          "{\"workflow\":\"example\",\"id\":\""
              + id
              + "\",\"input\":{\"userId\":\"u-"
              + i
              + "\",\"action\":\"after\"}}";
      sent.put(id, sendAsync("POST", "/api/v1/workflows", body, 20));
    }
    Map<String, String> firstAnswers = new LinkedHashMap<>();
    List<String> refused = new ArrayList<>();
    for (Map.Entry<String, CompletableFuture<HttpResponse<String>>> e : sent.entrySet()) {
      HttpResponse<String> r = e.getValue().get(25, TimeUnit.SECONDS);
      check("POST /api/v1/workflows right after /ready turned 200", r, Duration.ZERO);
      firstAnswers.put(e.getKey(), String.valueOf(r.statusCode()));
      if (r.statusCode() != 201) {
        refused.add(e.getKey());
        if (r.statusCode() == 503)
          expect503("POST /api/v1/workflows right after /ready turned 200", r);
      }
    }
    timings.put(
        "new starts right after ready (first answers)",
        firstAnswers + " answered by " + ms(Duration.between(readyAgain, Instant.now())));
    if (!refused.isEmpty()) {
      violations.add(
          refused.size()
              + " of "
              + NEW_STARTS
              + " new starts sent right after /ready turned 200 were not accepted: "
              + firstAnswers);
      // Retry as a client would, to see when writes really work.
      Map<String, String> retries = new LinkedHashMap<>();
      Instant deadline = Instant.now().plusSeconds(30);
      for (String id : refused) {
        String body =
            "{\"userId\":\"u-" + id.substring(id.lastIndexOf('-') + 1) + "\",\"action\":\"after\"}";
        List<Integer> statuses = new ArrayList<>();
        HttpResponse<String> r = null;
        while (Instant.now().isBefore(deadline)) {
          r = start(id, "example", body);
          statuses.add(r.statusCode());
          if (r.statusCode() != 503) break;
          Thread.sleep(
              1000L
                  * Math.max(
                      1,
                      Math.min(
                          2, Long.parseLong(r.headers().firstValue("Retry-After").orElse("1")))));
        }
        boolean accepted = r != null && (r.statusCode() == 201 || r.statusCode() == 200);
        retries.put(
            id,
            statuses
                + (accepted ? " accepted" : " NOT accepted")
                + " at ready+"
                + ms(Duration.between(readyAgain, Instant.now())));
      }
      timings.put("new starts retried after ready", retries.toString());
    }
    Instant finalDeadline = Instant.now().plusSeconds(60);
    for (String id : sent.keySet()) {
      String fin =
          longPollFinal(
              id,
              Duration.between(Instant.now(), finalDeadline).compareTo(Duration.ofSeconds(1)) > 0
                  ? Duration.between(Instant.now(), finalDeadline)
                  : Duration.ofSeconds(1));
      long started = events(direct, id).stream().filter("WorkflowStarted"::equals).count();
      if (!fin.startsWith("completed") || started != 1)
        violations.add(id + " ended as " + fin + " with " + started + " WorkflowStarted events");
    }
    timings.put(
        "new starts after ready all final",
        "at ready+" + ms(Duration.between(readyAgain, Instant.now())));
  }

  // ------------------------------------------------------------------ checks

  /** Never a 500 (nor any 5xx but 503), never a stack trace or exception name, never the token. */
  private void check(String what, HttpResponse<String> r, Duration took) {
    int s = r.statusCode();
    if (s >= 500 && s != 503)
      violations.add(what + " answered " + s + " (after " + ms(took) + "): " + r.body());
    String body = r.body() == null ? "" : r.body();
    if (body.contains("Exception") || body.contains("\tat ") || body.contains(TOKEN)) {
      violations.add(what + " leaked internals in its body: " + body);
    }
  }

  /** 503 problem document with Retry-After, or a recorded violation saying what it was instead. */
  private void expect503(String what, HttpResponse<String> r) {
    if (r.statusCode() >= 500 && r.statusCode() != 503) return; // check() has recorded it
    if (r.statusCode() != 503) {
      violations.add(what + " answered " + r.statusCode() + " instead of 503: " + r.body());
      return;
    }
    String type = r.headers().firstValue("Content-Type").orElse("");
    if (!type.startsWith("application/problem+json"))
      violations.add(what + ": 503 with Content-Type " + type);
    if (r.headers().firstValue("Retry-After").isEmpty())
      violations.add(what + ": 503 without Retry-After");
    try {
      JsonNode p = JSON.readTree(r.body());
      if (p.path("status").asInt() != 503 || p.path("title").asText().isBlank())
        violations.add(what + ": not a 503 problem: " + r.body());
    } catch (Exception e) {
      violations.add(what + ": 503 body is not JSON: " + r.body());
    }
  }

  // ------------------------------------------------------------------ plumbing

  private HttpResponse<String> start(String id, String workflow, String input) throws Exception {
    return send("POST", "/api/v1/workflows", startBody(id, workflow, input), 20);
  }

  private static String startBody(String id, String workflow, String input) {
    return "{\"workflow\":\"" + workflow + "\",\"id\":\"" + id + "\",\"input\":" + input + "}";
  }

  private CompletableFuture<HttpResponse<String>> sendAsync(
      String method, String path, String body, int timeoutSeconds) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(base + path))
            .timeout(Duration.ofSeconds(timeoutSeconds))
            .header("Authorization", "Bearer " + TOKEN)
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
    if (body != null) b.header("Content-Type", "application/json");
    return http.sendAsync(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /**
   * Bounded: a request that gets no answer within {@code timeoutSeconds} fails the test with what
   * it was.
   */
  private HttpResponse<String> send(String method, String path, String body, int timeoutSeconds)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(base + path))
            .timeout(Duration.ofSeconds(timeoutSeconds))
            .header("Authorization", "Bearer " + TOKEN)
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
    if (body != null) b.header("Content-Type", "application/json");
    try {
      return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    } catch (HttpTimeoutException e) {
      throw new AssertionError(
          method + " " + path + " got no answer within " + timeoutSeconds + " s", e);
    }
  }

  private static String status(HttpResponse<String> r) throws Exception {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return JSON.readTree(r.body()).get("status").asText();
  }

  private void awaitStatus(String id, String wanted, Duration within) throws Exception {
    Instant deadline = Instant.now().plus(within);
    String last = null;
    while (Instant.now().isBefore(deadline)) {
      last = status(send("GET", "/api/v1/workflows/" + id, null, 10));
      if (last.equals(wanted)) return;
      Thread.sleep(100);
    }
    throw new AssertionError(id + " never showed " + wanted + "; last " + last);
  }

  /**
   * Long polls until final, tolerating 503 (recorded in the answer) until {@code within} runs out.
   */
  private String longPollFinal(String id, Duration within) throws Exception {
    Instant deadline = Instant.now().plus(within);
    List<String> seen = new ArrayList<>();
    while (Instant.now().isBefore(deadline)) {
      long left = Math.max(1, Math.min(20, Duration.between(Instant.now(), deadline).toSeconds()));
      HttpResponse<String> r =
          send("GET", "/api/v1/workflows/" + id + "?wait=PT" + left + "S", null, (int) left + 15);
      check("long poll of " + id, r, Duration.ZERO);
      if (r.statusCode() == 200) {
        String s = JSON.readTree(r.body()).get("status").asText();
        if (s.equals("completed") || s.equals("failed") || s.equals("cancelled")) {
          return seen.isEmpty() ? s : s + " (after " + seen + ")";
        }
        seen.add("200 " + s);
      } else {
        seen.add(String.valueOf(r.statusCode()));
        Thread.sleep(500);
      }
    }
    return "not final within " + within + ": " + seen;
  }

  /**
   * The simple names of the execution's journaled events, read from the database directly (not
   * through the proxy).
   */
  private static List<String> events(DatabaseSettings db, String id) {
    List<String> names = new ArrayList<>();
    try (Connection c = DriverManager.getConnection(db.url(), db.user(), db.password());
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT event_ser_manifest FROM event_journal WHERE persistence_id = ? ORDER BY"
                    + " sequence_number")) {
      ps.setString(1, "workflow|" + id);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          String manifest = rs.getString(1);
          names.add(
              manifest.substring(
                  Math.max(manifest.lastIndexOf('$'), manifest.lastIndexOf('.')) + 1));
        }
      }
    } catch (Exception e) {
      throw new AssertionError("event_journal: " + e, e);
    }
    return names;
  }

  /**
   * Whether this node's workflow shard region is registered with a shard coordinator: a region
   * without one answers {@code GetClusterShardingStats} with no regions at all (public API, no
   * message reaches any entity).
   */
  private static boolean coordinatorKnown(KeelNode node) {
    ActorSystem<Void> system = node.system();
    try {
      ShardRegion.ClusterShardingStats stats =
          AskPattern.<ClusterShardingQuery, ShardRegion.ClusterShardingStats>ask(
                  ClusterSharding.get(system).shardState(),
                  replyTo ->
                      new GetClusterShardingStats(
                          WorkflowExecution.ENTITY_KEY, Duration.ofSeconds(1), replyTo),
                  Duration.ofSeconds(2),
                  system.scheduler())
              .toCompletableFuture()
              .get(3, TimeUnit.SECONDS);
      return !stats.getRegions().isEmpty();
    } catch (Exception e) {
      return false;
    }
  }

  /** Executions with a Keel-chosen id ({@code wf-...}) in the journal, read directly. */
  private static List<String> anonymousStarts(DatabaseSettings db) {
    List<String> ids = new ArrayList<>();
    try (Connection c = DriverManager.getConnection(db.url(), db.user(), db.password());
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT DISTINCT persistence_id FROM event_journal WHERE persistence_id LIKE"
                    + " 'workflow|wf-%' AND event_ser_manifest LIKE '%WorkflowStarted' ORDER BY 1");
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) ids.add(rs.getString(1));
    } catch (Exception e) {
      throw new AssertionError("event_journal: " + e, e);
    }
    return ids;
  }

  private static Duration since(Instant t) {
    return Duration.between(t, Instant.now());
  }

  private static String ms(Duration d) {
    return d.toMillis() + " ms";
  }

  /** WARN and ERROR lines of the node's log (this JVM), for the report. */
  private static final class CapturedLog extends AppenderBase<ILoggingEvent> {
    private final ConcurrentLinkedQueue<String[]> lines = new ConcurrentLinkedQueue<>();
    private volatile boolean recording;
    private volatile long markedAt;

    static CapturedLog attach() {
      LoggerContext ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
      CapturedLog appender = new CapturedLog();
      appender.setContext(ctx);
      appender.setName("outage-capture");
      appender.start();
      ctx.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).addAppender(appender);
      return appender;
    }

    void mark() {
      lines.clear();
      markedAt = System.currentTimeMillis();
      recording = true;
    }

    List<String[]> since() {
      return new ArrayList<>(lines);
    }

    void detach() {
      LoggerContext ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
      ctx.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).detachAppender(this);
      stop();
    }

    @Override
    protected void append(ILoggingEvent e) {
      if (!recording || !e.getLevel().isGreaterOrEqual(Level.WARN)) return;
      String msg = e.getFormattedMessage();
      if (msg != null && msg.length() > 300) msg = msg.substring(0, 300) + "…";
      String thrown =
          e.getThrowableProxy() == null
              ? ""
              : " ["
                  + e.getThrowableProxy().getClassName()
                  + ": "
                  + abbreviate(e.getThrowableProxy().getMessage())
                  + "]";
      String line =
          e.getLevel()
              + " "
              + e.getLoggerName().substring(e.getLoggerName().lastIndexOf('.') + 1)
              + " - "
              + msg
              + thrown;
      lines.add(new String[] {(e.getTimeStamp() - markedAt) + "ms", line});
    }

    private static String abbreviate(String s) {
      if (s == null) return "";
      return s.length() > 200 ? s.substring(0, 200) + "…" : s;
    }
  }
}
