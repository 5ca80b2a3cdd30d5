package dev.keel.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintStream;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The parts every load program's report shares: the machine note, latency rows in ms from
 * microsecond samples, counts by kind, and the JSON line printed last.
 */
final class LoadReport {

  static final ObjectMapper JSON = new ObjectMapper();
  private static final String[] PERCENTILES = {"p50", "p90", "p99", "max"};

  private LoadReport() {}

  /** A new report naming the program and the run, with the machine it ran on. */
  static ObjectNode start(String bench, String runId) {
    ObjectNode report = JSON.createObjectNode();
    report.put("bench", bench);
    report.put("runId", runId);
    report.put("at", Instant.now().toString());
    Runtime runtime = Runtime.getRuntime();
    ObjectNode machine = report.putObject("machine");
    machine.put("availableProcessors", runtime.availableProcessors());
    machine.put(
        "os",
        System.getProperty("os.name")
            + " "
            + System.getProperty("os.version")
            + " "
            + System.getProperty("os.arch"));
    machine.put("java", System.getProperty("java.version"));
    machine.put("maxHeapMiB", runtime.maxMemory() / (1024 * 1024));
    return report;
  }

  /** The title and machine lines of the text report. */
  static void printHeading(PrintStream out, String title, JsonNode report) {
    JsonNode m = report.get("machine");
    out.println();
    out.println(title + ", run " + report.get("runId").asText());
    line(
        out,
        "machine",
        "%d available processors, %s, Java %s, max heap %d MiB",
        m.get("availableProcessors").asInt(),
        m.get("os").asText(),
        m.get("java").asText(),
        m.get("maxHeapMiB").asLong());
  }

  /** One line of a text report: the label in a column of its own, then the formatted text. */
  static void line(PrintStream out, String label, String format, Object... args) {
    out.printf(Locale.ROOT, "%-12s %s%n", label, String.format(Locale.ROOT, format, args));
  }

  /** A line of counts by kind, from a {@link #counts} node; {@code none} when there are none. */
  static void countsLine(PrintStream out, String label, JsonNode counts) {
    line(out, label, "%s", counts.isEmpty() ? "none" : counts);
  }

  /**
   * {@code count}, p50, p90, p99 and max in ms (three decimals) of microsecond samples; null where
   * empty.
   */
  static ObjectNode latencyMs(Percentiles micros) {
    ObjectNode node = JSON.createObjectNode();
    node.put("count", micros.count());
    for (String name : PERCENTILES) {
      if (micros.isEmpty()) {
        node.putNull(name);
      } else {
        long value =
            "max".equals(name) ? micros.max() : micros.value(Double.parseDouble(name.substring(1)));
        node.put(name, round(value / 1000.0, 3));
      }
    }
    return node;
  }

  static void printLatencyHeader(PrintStream out) {
    out.println("latency ms        n       p50       p90       p99       max");
  }

  /** One row under {@link #printLatencyHeader}, from a {@link #latencyMs} node. */
  static void printLatencyRow(PrintStream out, String label, JsonNode latency) {
    out.printf(
        Locale.ROOT,
        "  %-9s %7d %9s %9s %9s %9s%n",
        label,
        latency.get("count").asInt(),
        ms(latency.get("p50")),
        ms(latency.get("p90")),
        ms(latency.get("p99")),
        ms(latency.get("max")));
  }

  /** Counts by kind as a JSON object, keys in order. */
  static ObjectNode counts(Map<?, ? extends Number> byKind) {
    ObjectNode node = JSON.createObjectNode();
    new TreeMap<>(byKind).forEach((kind, n) -> node.put(String.valueOf(kind), n.longValue()));
    return node;
  }

  static String toJson(JsonNode node) {
    try {
      return JSON.writeValueAsString(node);
    } catch (IOException e) {
      throw new IllegalStateException("a tree of plain values always serializes", e);
    }
  }

  static String ms(JsonNode value) {
    return value == null || value.isNull()
        ? "-"
        : String.format(Locale.ROOT, "%.1f", value.asDouble());
  }

  static double seconds(long nanos) {
    return nanos / 1e9;
  }

  static double round(double value, int decimals) {
    double scale = Math.pow(10, decimals);
    return Math.round(value * scale) / scale;
  }

  /** {@code text} on one line, cut at 300 characters. */
  static String oneLine(String text) {
    String flat = text.replaceAll("\\s+", " ").trim();
    return flat.length() > 300 ? flat.substring(0, 300) + "…" : flat;
  }
}
