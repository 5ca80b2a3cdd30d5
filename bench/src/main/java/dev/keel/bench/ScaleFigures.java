package dev.keel.bench;

import static dev.keel.bench.LoadReport.round;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * What {@link ScaleBench} found: one row per cluster size, one per node joining or leaving under
 * load.
 */
public final class ScaleFigures {

  /** The goal of a join or a leave: completions never stop for longer. */
  public static final long GAP_GOAL_MILLIS = 2000;

  /**
   * One cluster size, over its measured run. CPU is per completed workflow, from the CPU groups;
   * {@code *QuotaUse} is the share of the group's quota it used (1.0: held at its quota); {@code
   * nodeThrottledShare}: of the nodes' CFS periods, those in which the quota held them back.
   */
  public record Size(
      int nodes,
      double completedPerSecond,
      int completed,
      int failed,
      double nodeCpuMs,
      double nodeQuotaUse,
      double nodeThrottledShare,
      double postgresCpuMs,
      double postgresQuotaUse,
      double loadCpuMs,
      double machineBusy,
      double crossedShare,
      double p50Ms,
      double p99Ms,
      int heartbeatsOffered,
      double heartbeatsHeld,
      double heartbeatP99Ms,
      double idleNodeCores,
      double idlePostgresCores) {}

  /**
   * A node joining ({@code joined}) or leaving under a fixed start rate: the longest time without a
   * completion from the signal until the shards were even again ({@code evenAfterSeconds}, or the
   * deadline: then {@code even} is false).
   */
  public record Move(
      boolean joined,
      int nodesBefore,
      int nodesAfter,
      double offeredPerSecond,
      long longestGapMillis,
      double evenAfterSeconds,
      boolean even,
      int completed,
      int failed,
      String problems) {
    public String label() {
      return (joined ? "join " : "leave ") + nodesBefore + " -> " + nodesAfter;
    }
  }

  private ScaleFigures() {}

  static void print(PrintStream out, Size s, Size first, double nodeCpu) {
    String heartbeats =
        s.heartbeatsOffered() == 0
            ? "not measured"
            : String.format(
                Locale.ROOT,
                "%d/s offered, %.0f/s held (p99 %.0f ms)",
                s.heartbeatsOffered(),
                s.heartbeatsHeld(),
                s.heartbeatP99Ms());
    out.printf(
        Locale.ROOT,
        "%d node%s: %.1f completed/s (%.2fx one node, %d completed, %d failed, p50 %.0f ms, p99"
            + " %.0f ms)%n    CPU per workflow: nodes %.2f ms (%.0f %% of their quota, throttled in"
            + " %.0f %% of periods), PostgreSQL %.2f ms (%.0f %% of its quota), load program %.2f"
            + " ms; machine %.0f %% busy%n    starts that crossed to another node: %.1f %%;"
            + " heartbeats: %s%n    with no load: each node %.3f cores (%.0f %% of its quota),"
            + " PostgreSQL %.3f cores%n",
        s.nodes(),
        s.nodes() == 1 ? "" : "s",
        s.completedPerSecond(),
        s.completedPerSecond() / first.completedPerSecond(),
        s.completed(),
        s.failed(),
        s.p50Ms(),
        s.p99Ms(),
        s.nodeCpuMs(),
        100 * s.nodeQuotaUse(),
        100 * s.nodeThrottledShare(),
        s.postgresCpuMs(),
        100 * s.postgresQuotaUse(),
        s.loadCpuMs(),
        100 * s.machineBusy(),
        100 * s.crossedShare(),
        heartbeats,
        s.idleNodeCores(),
        100 * s.idleNodeCores() / nodeCpu,
        s.idlePostgresCores());
  }

  static void print(PrintStream out, Move m) {
    out.printf(
        Locale.ROOT,
        "%s under %.0f starts/s: longest time without a completion %d ms (goal: at most %d ms);"
            + " shards %s after %.1f s; %d completed, %d failed%s%n",
        m.label(),
        m.offeredPerSecond(),
        m.longestGapMillis(),
        GAP_GOAL_MILLIS,
        m.even() ? "even" : "not yet even",
        m.evenAfterSeconds(),
        m.completed(),
        m.failed(),
        m.problems().isEmpty() ? "" : " (" + m.problems() + ")");
  }

  /** What limits the curve, in a line: the group that ran at its quota. */
  static String limit(Size s) {
    if (s.postgresQuotaUse() >= 0.9)
      return "PostgreSQL at its quota: adding nodes cannot add throughput here";
    if (s.nodeQuotaUse() >= 0.9) return "the nodes at their quota: each added node adds its CPU";
    if (s.machineBusy() >= 0.9)
      return "the machine itself (other processes took the CPU the groups were allowed)";
    return "none of the quotas (the load, or waits in the nodes)";
  }

  static ObjectNode json(ScaleOptions options, List<Size> sizes, List<Move> moves) {
    ObjectNode r = LoadReport.start("scale-bench", Long.toString(System.currentTimeMillis(), 36));
    ObjectNode p = r.putObject("parameters");
    p.put("maxNodes", options.maxNodes());
    p.put("nodeCpu", options.nodeCpu());
    p.put("postgresCpu", options.postgresCpu());
    p.put("loadCpu", options.loadCpu());
    p.put("workflowsPerNode", options.workflowsPerNode());
    p.put("concurrencyPerNode", options.concurrencyPerNode());
    p.put("routeToOwner", options.routeToOwner());
    p.put("short", options.brief());
    ArrayNode rows = r.putArray("sizes");
    for (Size s : sizes) {
      ObjectNode row = rows.addObject();
      row.put("nodes", s.nodes());
      row.put("completedPerSecond", round(s.completedPerSecond(), 1));
      row.put("speedUp", round(s.completedPerSecond() / sizes.get(0).completedPerSecond(), 2));
      row.put("completed", s.completed());
      row.put("failed", s.failed());
      row.put("nodeCpuMsPerWorkflow", round(s.nodeCpuMs(), 3));
      row.put("nodeQuotaUse", round(s.nodeQuotaUse(), 3));
      row.put("nodeThrottledShare", round(s.nodeThrottledShare(), 3));
      row.put("postgresCpuMsPerWorkflow", round(s.postgresCpuMs(), 3));
      row.put("postgresQuotaUse", round(s.postgresQuotaUse(), 3));
      row.put("loadCpuMsPerWorkflow", round(s.loadCpuMs(), 3));
      row.put("machineBusy", round(s.machineBusy(), 3));
      row.put("crossedShare", round(s.crossedShare(), 3));
      row.put("p50Ms", s.p50Ms());
      row.put("p99Ms", s.p99Ms());
      row.put("heartbeatsOffered", s.heartbeatsOffered());
      row.put("heartbeatsHeld", round(s.heartbeatsHeld(), 1));
      row.put("heartbeatP99Ms", s.heartbeatP99Ms());
      row.put("idleNodeCores", round(s.idleNodeCores(), 4));
      row.put("idlePostgresCores", round(s.idlePostgresCores(), 4));
      row.put("limit", limit(s));
    }
    ArrayNode moveRows = r.putArray("moves");
    for (Move m : moves) {
      ObjectNode row = moveRows.addObject();
      row.put("move", m.label());
      row.put("offeredPerSecond", round(m.offeredPerSecond(), 1));
      row.put("longestGapMillis", m.longestGapMillis());
      row.put("shardsEven", m.even());
      row.put("evenAfterSeconds", round(m.evenAfterSeconds(), 1));
      row.put("completed", m.completed());
      row.put("failed", m.failed());
      row.put("problems", m.problems());
    }
    return r;
  }

  /**
   * The curve as an SVG image: completed workflows/s per cluster size, beside the line a perfect
   * scale-out would follow (one node's figure times the nodes).
   */
  static void writePlot(Path file, List<Size> sizes) throws IOException {
    int width = 480;
    int height = 300;
    int left = 60;
    int bottom = 250;
    int top = 30;
    int right = 450;
    double first = sizes.get(0).completedPerSecond();
    int maxNodes = sizes.get(sizes.size() - 1).nodes();
    double maxY = 0;
    for (Size s : sizes) maxY = Math.max(maxY, Math.max(s.completedPerSecond(), first * s.nodes()));
    double yMax = Math.ceil(maxY / 100) * 100;
    StringBuilder svg = new StringBuilder();
    svg.append(
        String.format(
            Locale.ROOT,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\""
                + " font-family=\"sans-serif\" font-size=\"12\">%n",
            width,
            height));
    svg.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
    svg.append(
        String.format(
            Locale.ROOT,
            "<text x=\"%d\" y=\"18\">Completed workflows/s by cluster size (each node its own CPU"
                + " quota)</text>%n",
            left - 40));
    svg.append(
        String.format(
            Locale.ROOT,
            "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>%n",
            left,
            bottom,
            right,
            bottom));
    svg.append(
        String.format(
            Locale.ROOT,
            "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>%n",
            left,
            bottom,
            left,
            top));
    for (int tick = 0; tick <= 4; tick++) {
      double value = yMax * tick / 4;
      double y = bottom - (bottom - top) * tick / 4.0;
      svg.append(
          String.format(
              Locale.ROOT,
              "<text x=\"%d\" y=\"%.0f\" text-anchor=\"end\">%.0f</text>%n",
              left - 6,
              y + 4,
              value));
    }
    StringBuilder measured = new StringBuilder();
    StringBuilder ideal = new StringBuilder();
    for (Size s : sizes) {
      double x = left + (right - left) * (s.nodes() - 0.5) / maxNodes;
      double y = bottom - (bottom - top) * s.completedPerSecond() / yMax;
      double yIdeal = bottom - (bottom - top) * first * s.nodes() / yMax;
      measured.append(String.format(Locale.ROOT, "%.1f,%.1f ", x, y));
      ideal.append(String.format(Locale.ROOT, "%.1f,%.1f ", x, yIdeal));
      svg.append(
          String.format(
              Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"#1f77b4\"/>%n", x, y));
      svg.append(
          String.format(
              Locale.ROOT,
              "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.0f</text>%n",
              x,
              y - 8,
              s.completedPerSecond()));
      svg.append(
          String.format(
              Locale.ROOT,
              "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%d</text>%n",
              x,
              bottom + 16,
              s.nodes()));
    }
    svg.append(
        String.format(
            Locale.ROOT,
            "<polyline points=\"%s\" fill=\"none\" stroke=\"#999\" stroke-dasharray=\"4 4\"/>%n",
            ideal.toString().trim()));
    svg.append(
        String.format(
            Locale.ROOT,
            "<polyline points=\"%s\" fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\"/>%n",
            measured.toString().trim()));
    svg.append(
        String.format(
            Locale.ROOT,
            "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">nodes</text>%n",
            (left + right) / 2,
            bottom + 34));
    svg.append(
        String.format(
            Locale.ROOT,
            "<text x=\"%d\" y=\"%d\" fill=\"#999\">dashed: one node's figure x nodes</text>%n",
            left + 10,
            top + 12));
    svg.append("</svg>\n");
    Files.writeString(file, svg.toString());
  }
}
