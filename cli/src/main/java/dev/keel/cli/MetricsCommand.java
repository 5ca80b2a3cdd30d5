package dev.keel.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.keel.client.KeelClient;
import java.io.PrintWriter;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code keel metrics ID [--duration 1h] [--step 1m] [--name lag] [--json]}: a service's metric
 * history, one row per metric with its range over the span and a text sparkline of its means.
 */
@Command(
    name = "metrics",
    mixinStandardHelpOptions = true,
    description =
        "Print a service's metric history: per metric min, max, last, mean and a sparkline.")
public final class MetricsCommand extends ClientCommand {

  private static final Pattern SHORT = Pattern.compile("^(\\d{1,9})([smhd])$");
  private static final char[] BARS = "▁▂▃▄▅▆▇█".toCharArray();

  @Parameters(paramLabel = "ID", description = "A service id")
  String id;

  @Option(
      names = "--duration",
      defaultValue = "1h",
      description =
          "How far back: 90s, 30m, 1h, 7d or an ISO-8601 duration (default ${DEFAULT-VALUE})")
  String duration;

  @Option(names = "--step", description = "The width of a point (default: about 60 points)")
  String step;

  @Option(names = "--name", description = "Only this metric")
  String name;

  @Option(names = "--json", description = "Print Keel's JSON instead")
  boolean json;

  @Override
  int run(KeelClient keel, PrintWriter out) {
    StringBuilder path =
        new StringBuilder("/api/v1/services/")
            .append(RawJson.requireId("service id", id))
            .append("/metrics?since=")
            .append(iso("--duration", duration));
    if (step != null) path.append("&step=").append(iso("--step", step));
    if (name != null) path.append("&name=").append(URLEncoder.encode(name, StandardCharsets.UTF_8));
    JsonNode history = keel.getJson(path.toString());
    if (json) {
      out.println(RawJson.pretty(history));
      return ExitCode.OK;
    }
    out.print(table(history));
    return ExitCode.OK;
  }

  static String table(JsonNode history) {
    TextTable t = new TextTable("METRIC", "MIN", "MAX", "LAST", "MEAN", "HISTORY");
    for (JsonNode m : history.path("metrics")) {
      JsonNode points = m.path("points");
      if (points.isEmpty()) continue;
      double min = Double.POSITIVE_INFINITY;
      double max = Double.NEGATIVE_INFINITY;
      double meanSum = 0;
      for (JsonNode p : points) {
        min = Math.min(min, p.path("min").asDouble());
        max = Math.max(max, p.path("max").asDouble());
        meanSum += p.path("mean").asDouble();
      }
      t.row(
          m.path("name").asText(),
          number(min),
          number(max),
          number(points.get(points.size() - 1).path("last").asDouble()),
          number(meanSum / points.size()),
          sparkline(points));
    }
    String step = history.path("step").asText();
    return t + "step " + step + ", since " + history.path("since").asText() + "\n";
  }

  /** One bar per point, its mean scaled between the lowest and highest mean. */
  static String sparkline(JsonNode points) {
    double lo = Double.POSITIVE_INFINITY;
    double hi = Double.NEGATIVE_INFINITY;
    for (JsonNode p : points) {
      lo = Math.min(lo, p.path("mean").asDouble());
      hi = Math.max(hi, p.path("mean").asDouble());
    }
    StringBuilder s = new StringBuilder();
    for (JsonNode p : points) {
      double v = p.path("mean").asDouble();
      int i = hi == lo ? 0 : (int) Math.round((v - lo) / (hi - lo) * (BARS.length - 1));
      s.append(BARS[i]);
    }
    return s.toString();
  }

  private static String number(double v) {
    if (v == Math.rint(v) && Math.abs(v) < 1e15) return Long.toString((long) v);
    return String.format(Locale.ROOT, "%.3g", v);
  }

  /** {@code 90s}, {@code 30m}, {@code 1h}, {@code 7d} or ISO-8601, as ISO-8601. */
  static String iso(String option, String value) {
    Matcher m = SHORT.matcher(value.trim().toLowerCase(Locale.ROOT));
    if (m.matches()) {
      long n = Long.parseLong(m.group(1));
      return switch (m.group(2)) {
        case "s" -> Duration.ofSeconds(n).toString();
        case "m" -> Duration.ofMinutes(n).toString();
        case "h" -> Duration.ofHours(n).toString();
        default -> "P" + n + "D";
      };
    }
    try {
      Duration.parse(value.trim());
      return value.trim();
    } catch (DateTimeParseException e) {
      throw new CliFailure(
          ExitCode.TROUBLE, option + ": '" + value + "' is not a duration such as 1h, 30m or PT1H");
    }
  }
}
