package dev.keel.pipeline;

import dev.keel.cli.HumanTime;
import dev.keel.cli.TextTable;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Renders the live status: a pure function from a snapshot to lines, so that tests read it
 * directly.
 */
final class StatusView {

  private StatusView() {}

  /** The table the terminal redraws: a heading line, then one row per component in start order. */
  static List<String> table(
      String pipeline, String pipelineStatus, List<ComponentStatus> components, Instant now) {
    TextTable t = new TextTable("COMPONENT", "STATUS", "RESTARTS", "LAST HEARTBEAT", "METRIC");
    for (ComponentStatus c : components) {
      t.row(
          c.id(),
          c.state(),
          String.valueOf(c.restarts()),
          HumanTime.ago(c.lastHeartbeatAt(), now),
          c.keyMetric());
    }
    String heading = "pipeline " + pipeline + ": " + pipelineStatus;
    return Stream.concat(Stream.of(heading), t.toString().lines()).toList();
  }

  /** The line printed for a changed component when output is not a terminal. */
  static String changeLine(ComponentStatus c) {
    return "status "
        + c.id()
        + " "
        + c.state()
        + " restarts="
        + c.restarts()
        + (c.keyMetric() == null ? "" : " " + c.keyMetric());
  }

  /** {@code name=value} of the component's first metric by name, or null when it reports none. */
  static String keyMetric(Map<String, Double> metrics) {
    if (metrics == null || metrics.isEmpty()) return null;
    String name = new TreeMap<>(metrics).firstKey();
    return name + "=" + HumanTime.number(metrics.get(name));
  }
}
