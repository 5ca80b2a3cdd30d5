package dev.keel.bench;

import static dev.keel.bench.LoadReport.line;
import static dev.keel.bench.LoadReport.ms;
import static dev.keel.bench.LoadReport.round;
import static dev.keel.bench.LoadReport.seconds;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The figures of one {@link HeartbeatLoad} run, as text and as the one-line JSON object printed
 * last, and what in them makes the run fail.
 */
record HeartbeatSummary(
    String runId,
    HeartbeatOptions options,
    Registration registration,
    long measuredNanos,
    HeartbeatTally tally,
    CpuUse cpu,
    Optional<JournalGrowth> journal,
    Optional<StaleDetection> stale,
    int deregistered,
    int deregisterFailed) {

  /**
   * How long registering every service took, why registrations were retried, and how long after
   * registration the heartbeat schedule caught up (sent on time again).
   */
  record Registration(int services, long nanos, Map<String, Long> retried, long catchUpNanos) {}

  /**
   * CPU time spent during the measured phase, in clock ticks: the node's (when its pid was given
   * and it could be read at both ends), the load generator's own, and the whole machine's.
   */
  record CpuUse(
      long ticksPerSecond,
      OptionalLong nodeTicks,
      OptionalLong generatorTicks,
      Optional<ProcStat.MachineTicks> machine) {}

  /**
   * The journal's size at the start and end of the measured phase, and the types of the events
   * written in it.
   */
  record JournalGrowth(
      String unit, String where, long before, long after, Map<String, Long> newEventTypes) {
    long growth() {
      return after - before;
    }
  }

  /**
   * Stale detection: for each silenced service, when {@code /health} first said {@code stale},
   * minus its last heartbeat's {@code nextHeartbeatBefore} (last heartbeat + TTL), in µs; negative
   * means stale too early.
   */
  record StaleDetection(
      int probed, Percentiles delayMicros, int neverStale, Map<String, Long> errors) {}

  /** Why the run counts as failed (exit 1); empty when it passed. */
  List<String> problems() {
    List<String> problems = new ArrayList<>();
    long notOk = tally.offered() - tally.ok();
    if (notOk > 0) {
      problems.add(notOk + " of " + tally.offered() + " measured heartbeats were not answered 200");
    }
    journal.ifPresent(
        j -> {
          if ("events".equals(j.unit()) && j.growth() > 0) {
            problems.add(
                "the journal grew by "
                    + j.growth()
                    + " events during the measured phase "
                    + j.newEventTypes());
          }
        });
    stale.ifPresent(
        s -> {
          if (s.neverStale() > 0) {
            problems.add(
                s.neverStale() + " of " + s.probed() + " silenced services were never seen stale");
          }
        });
    return problems;
  }

  int exitCode() {
    return problems().isEmpty() ? 0 : 1;
  }

  double measuredSeconds() {
    return seconds(measuredNanos);
  }

  ObjectNode json() {
    ObjectNode r = LoadReport.start("heartbeat-load", runId);
    ObjectNode p = r.putObject("parameters");
    p.put("endpoint", options.endpoint().toString());
    p.put("services", options.services());
    p.put("interval", options.interval().toString());
    p.put("duration", options.duration().toString());
    p.put("warmup", options.warmup().toString());
    p.put("ttlSeconds", options.ttlSeconds());
    p.put("connections", options.connections());
    p.put("staleProbe", options.staleProbe());
    if (options.nodePid().isPresent()) {
      p.put("nodePid", options.nodePid().getAsLong());
    } else {
      p.putNull("nodePid");
    }
    p.put("journal", options.journalSource());
    p.put("lateAfterMs", HeartbeatTally.LATE_AFTER_NANOS / 1_000_000);

    ObjectNode reg = r.putObject("registration");
    reg.put("services", registration.services());
    reg.put("seconds", round(seconds(registration.nanos()), 3));
    reg.put("perSecond", perSecond(registration.services(), registration.nanos()));
    reg.set("retried", LoadReport.counts(registration.retried()));
    reg.put("catchUpSeconds", round(seconds(registration.catchUpNanos()), 3));

    r.put("measuredSeconds", round(measuredSeconds(), 3));
    r.put("offeredPerSecond", perSecond(tally.offered(), measuredNanos));
    r.put("heartbeatsPerSecond", perSecond(tally.okInWindow(), measuredNanos));
    r.put("offered", tally.offered());
    r.put("sent", tally.sent());
    r.put("ok", tally.ok());
    r.put("unanswered", tally.offered() - tally.done());
    r.put("late", tally.late());
    r.put("maxSendLagMs", round(tally.maxSendLagNanos() / 1e6, 3));
    ObjectNode latency = r.putObject("latencyMs");
    latency.set("sent", LoadReport.latencyMs(tally.sentLatencyMicros()));
    latency.set("due", LoadReport.latencyMs(tally.dueLatencyMicros()));
    r.set("nonSuccessResponses", LoadReport.counts(tally.nonSuccess()));
    r.set("errors", LoadReport.counts(tally.errors()));

    ObjectNode c = r.putObject("cpu");
    c.put("availableProcessors", r.get("machine").get("availableProcessors").asInt());
    c.put("clockTicksPerSecond", cpu.ticksPerSecond());
    double node = corePercent(cpu.nodeTicks());
    putPercent(c, "nodePercentOfOneCore", node);
    double generator = corePercent(cpu.generatorTicks());
    putPercent(c, "generatorPercentOfOneCore", generator);
    if (cpu.machine().isPresent()) {
      ProcStat.MachineTicks m = cpu.machine().get();
      putPercent(c, "machineBusyPercent", m.total() > 0 ? 100.0 * m.busy() / m.total() : 0);
      // NaN (unknown) unless both the node's and the generator's share are known.
      putPercent(
          c,
          "otherProcessesPercentOfOneCore",
          Math.max(0, corePercent(m.busy()) - generator - node));
    } else {
      c.putNull("machineBusyPercent");
      c.putNull("otherProcessesPercentOfOneCore");
    }

    if (journal.isPresent()) {
      JournalGrowth j = journal.get();
      ObjectNode jn = r.putObject("journal");
      jn.put("unit", j.unit());
      jn.put("where", j.where());
      jn.put("before", j.before());
      jn.put("after", j.after());
      jn.put("growth", j.growth());
      jn.set("newEventTypes", LoadReport.counts(j.newEventTypes()));
    } else {
      r.putNull("journal");
    }

    if (stale.isPresent()) {
      StaleDetection s = stale.get();
      ObjectNode sn = r.putObject("staleDetection");
      sn.put("probed", s.probed());
      sn.put("ttlSeconds", options.ttlSeconds());
      sn.put("neverStale", s.neverStale());
      sn.set("delayBeyondTtlMs", LoadReport.latencyMs(s.delayMicros()));
      sn.set("errors", LoadReport.counts(s.errors()));
    } else {
      r.putNull("staleDetection");
    }

    r.put("deregistered", deregistered);
    r.put("deregisterFailed", deregisterFailed);
    ArrayNode problems = r.putArray("problems");
    problems().forEach(problems::add);
    return r;
  }

  /** The text report; {@code r} is {@link #json()}. */
  static void print(PrintStream out, JsonNode r) {
    JsonNode p = r.get("parameters");
    LoadReport.printHeading(out, "Keel heartbeat load", r);
    line(
        out,
        "parameters",
        "endpoint=%s services=%d interval=%s duration=%s warmup=%s ttl=%ds connections=%d"
            + " staleProbe=%d nodePid=%s",
        p.get("endpoint").asText(),
        p.get("services").asInt(),
        p.get("interval").asText(),
        p.get("duration").asText(),
        p.get("warmup").asText(),
        p.get("ttlSeconds").asInt(),
        p.get("connections").asInt(),
        p.get("staleProbe").asInt(),
        p.get("nodePid").isNull() ? "-" : p.get("nodePid").asText());
    JsonNode reg = r.get("registration");
    line(
        out,
        "registration",
        "%d services in %.1f s (%.0f/s, not measured), heartbeats on time %.1f s later%s",
        reg.get("services").asInt(),
        reg.get("seconds").asDouble(),
        reg.get("perSecond").asDouble(),
        reg.get("catchUpSeconds").asDouble(),
        reg.get("retried").isEmpty() ? "" : ", retried " + reg.get("retried"));
    line(
        out,
        "throughput",
        "%.1f heartbeats/s answered 200 (offered %.1f/s over %.1f s)",
        r.get("heartbeatsPerSecond").asDouble(),
        r.get("offeredPerSecond").asDouble(),
        r.get("measuredSeconds").asDouble());
    line(
        out,
        "heartbeats",
        "%d due, %d sent, %d ok, %d unanswered; %d late (sent > %d ms after due), worst %.1f ms"
            + " behind",
        r.get("offered").asLong(),
        r.get("sent").asLong(),
        r.get("ok").asLong(),
        r.get("unanswered").asLong(),
        r.get("late").asLong(),
        p.get("lateAfterMs").asLong(),
        r.get("maxSendLagMs").asDouble());
    LoadReport.printLatencyHeader(out);
    LoadReport.printLatencyRow(out, "sent", r.get("latencyMs").get("sent"));
    LoadReport.printLatencyRow(out, "due", r.get("latencyMs").get("due"));
    out.println(
        "  (sent: request sent -> answer; due: heartbeat's slot -> answer, includes waiting for a"
            + " connection)");
    LoadReport.countsLine(out, "non-200", r.get("nonSuccessResponses"));
    LoadReport.countsLine(out, "errors", r.get("errors"));
    JsonNode c = r.get("cpu");
    line(
        out,
        "cpu",
        "node %s, load generator %s, other processes %s (%% of one core; %d cores, machine %s"
            + " busy)",
        percent(c.get("nodePercentOfOneCore")),
        percent(c.get("generatorPercentOfOneCore")),
        percent(c.get("otherProcessesPercentOfOneCore")),
        c.get("availableProcessors").asInt(),
        percent(c.get("machineBusyPercent")));
    JsonNode j = r.get("journal");
    if (j.isNull()) {
      line(out, "journal", "not measured (give --database-url, or --data-dir for H2)");
    } else {
      line(
          out,
          "journal",
          "%+d %s during the measured phase (%d -> %d, %s)%s",
          j.get("growth").asLong(),
          j.get("unit").asText(),
          j.get("before").asLong(),
          j.get("after").asLong(),
          j.get("where").asText(),
          j.get("newEventTypes").isEmpty() ? "" : " " + j.get("newEventTypes"));
    }
    JsonNode s = r.get("staleDetection");
    if (s.isNull()) {
      line(out, "stale", "not probed");
    } else {
      JsonNode d = s.get("delayBeyondTtlMs");
      line(
          out,
          "stale",
          "%d silenced, %d seen stale, %d never; beyond TTL %d s: p50 %s ms, max %s ms%s",
          s.get("probed").asInt(),
          d.get("count").asInt(),
          s.get("neverStale").asInt(),
          s.get("ttlSeconds").asInt(),
          ms(d.get("p50")),
          ms(d.get("max")),
          s.get("errors").isEmpty() ? "" : ", errors " + s.get("errors"));
    }
    line(
        out,
        "deregistered",
        "%d (%d failed)",
        r.get("deregistered").asInt(),
        r.get("deregisterFailed").asInt());
    JsonNode problems = r.get("problems");
    line(
        out,
        "result",
        "%s",
        problems.isEmpty() ? "ok" : "FAILED: " + String.join("; ", texts(problems)));
  }

  /** NaN when the ticks are unknown. */
  private double corePercent(OptionalLong ticks) {
    return ticks.isPresent() ? corePercent(ticks.getAsLong()) : Double.NaN;
  }

  private double corePercent(long ticks) {
    return ProcStat.percentOfOneCore(ticks, cpu.ticksPerSecond(), measuredNanos);
  }

  private static double perSecond(long count, long nanos) {
    return nanos > 0 ? round(count / seconds(nanos), 2) : 0;
  }

  private static void putPercent(ObjectNode node, String field, double value) {
    if (Double.isNaN(value)) {
      node.putNull(field);
    } else {
      node.put(field, round(value, 1));
    }
  }

  private static String percent(JsonNode value) {
    return value == null || value.isNull()
        ? "-"
        : String.format(Locale.ROOT, "%.1f %%", value.asDouble());
  }

  private static List<String> texts(JsonNode array) {
    List<String> texts = new ArrayList<>();
    array.forEach(t -> texts.add(t.asText()));
    return texts;
  }
}
