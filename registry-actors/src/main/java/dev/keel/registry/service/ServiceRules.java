package dev.keel.registry.service;

import dev.keel.persistence.grammar.Ids;
import dev.keel.persistence.grammar.Texts;
import dev.keel.registry.service.RegisteredService.HeartbeatReport;
import dev.keel.registry.service.RegisteredService.ServiceDefinition;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What a registration and a heartbeat may hold. Routes call these to list every bad field in one
 * 400; the entity calls them again so that nothing invalid is journaled whoever asks.
 *
 * <p>The limits keep one service's memory and journal bounded: a heartbeat is held in memory by its
 * entity, so a client must not be able to park megabytes there. Names, metadata and tenant ids
 * follow the grammar of {@code dev.keel.persistence.grammar}, whose limits are the registry read
 * model's columns.
 */
public final class ServiceRules {

  public static final int MIN_TTL_SECONDS = 1;
  public static final int MAX_TTL_SECONDS = 86_400;
  public static final int MIN_DEREGISTER_AFTER_SECONDS = 1;
  public static final int MAX_DEREGISTER_AFTER_SECONDS = 30 * 86_400;
  public static final int MAX_NAME = Texts.MAX_SERVICE_NAME_LENGTH;
  public static final int MAX_ENDPOINT = 2048;
  public static final int MAX_ENTRIES = 64;
  public static final int MAX_METRICS = 256;
  public static final int MAX_KEY = Texts.MAX_METADATA_KEY_LENGTH;
  public static final int MAX_VALUE = Texts.MAX_METADATA_VALUE_LENGTH;

  /**
   * The status words a heartbeat may report; {@code stale} is Keel's own verdict, never reported.
   */
  public static final Set<String> REPORTED_STATUSES = Set.of("healthy", "degraded", "unhealthy");

  /** Every status a service can have. */
  public static final Set<String> STATUSES = Set.of("healthy", "degraded", "unhealthy", "stale");

  /**
   * Types are free words (source, processor, sink, pipeline, api …) so that lists can filter by
   * them.
   */
  private static final Pattern TYPE = Pattern.compile("^[a-z][a-z0-9_-]{0,63}$");

  private static final Pattern METRIC_NAME =
      Pattern.compile("^[A-Za-z_][A-Za-z0-9_.]{0," + (MAX_KEY - 1) + "}$");

  private ServiceRules() {}

  public static List<FieldProblem> problems(ServiceDefinition def) {
    List<FieldProblem> problems = new ArrayList<>();
    Texts.nameProblem(def.name(), MAX_NAME)
        .ifPresent(p -> problems.add(new FieldProblem("name", p)));
    if (def.type() == null || def.type().isBlank())
      problems.add(new FieldProblem("type", "is required"));
    else if (!TYPE.matcher(def.type()).matches()) {
      problems.add(
          new FieldProblem(
              "type",
              "must be a lower-case word (letters, digits, '-' or '_', at most 64), such as source,"
                  + " processor, sink or pipeline"));
    }
    if (def.endpoint() != null
        && (def.endpoint().length() > MAX_ENDPOINT || def.endpoint().isBlank())) {
      problems.add(
          new FieldProblem(
              "endpoint", "must be a host:port or URL of at most " + MAX_ENDPOINT + " characters"));
    } else if (def.endpoint() != null) {
      Texts.characterProblem(def.endpoint(), false)
          .ifPresent(p -> problems.add(new FieldProblem("endpoint", p)));
    }
    stringMap("metadata", def.metadata(), problems);
    if (def.ttlSeconds() < MIN_TTL_SECONDS || def.ttlSeconds() > MAX_TTL_SECONDS) {
      problems.add(
          new FieldProblem(
              "ttlSeconds", "must be between " + MIN_TTL_SECONDS + " and " + MAX_TTL_SECONDS));
    }
    Integer after = def.deregisterAfterSeconds();
    if (after != null
        && (after < MIN_DEREGISTER_AFTER_SECONDS || after > MAX_DEREGISTER_AFTER_SECONDS)) {
      problems.add(
          new FieldProblem(
              "deregisterAfterSeconds",
              "must be between "
                  + MIN_DEREGISTER_AFTER_SECONDS
                  + " and "
                  + MAX_DEREGISTER_AFTER_SECONDS
                  + " when given"));
    }
    if (def.tenantId() != null)
      Ids.tenantIdProblem(def.tenantId())
          .ifPresent(p -> problems.add(new FieldProblem("tenantId", p)));
    return problems;
  }

  public static List<FieldProblem> problems(HeartbeatReport report) {
    List<FieldProblem> problems = new ArrayList<>();
    if (report.status() != null && !REPORTED_STATUSES.contains(report.status())) {
      problems.add(
          new FieldProblem(
              "status",
              "must be one of healthy, degraded, unhealthy (or absent, meaning healthy)"));
    }
    Map<String, Double> metrics = report.metrics();
    if (metrics != null) {
      if (metrics.size() > MAX_METRICS)
        problems.add(new FieldProblem("metrics", "has more than " + MAX_METRICS + " entries"));
      for (Map.Entry<String, Double> e : metrics.entrySet()) {
        if (!METRIC_NAME.matcher(e.getKey()).matches()) {
          problems.add(
              new FieldProblem(
                  "metrics." + e.getKey(),
                  "is not a metric name (a letter or '_', then letters, digits, '_' or '.', at most"
                      + " "
                      + MAX_KEY
                      + ")"));
        } else if (e.getValue() == null || e.getValue().isNaN() || e.getValue().isInfinite()) {
          problems.add(new FieldProblem("metrics." + e.getKey(), "must be a finite number"));
        }
      }
    }
    stringMap("details", report.details(), problems);
    return problems;
  }

  private static void stringMap(
      String field, Map<String, String> map, List<FieldProblem> problems) {
    if (map == null) return;
    if (map.size() > MAX_ENTRIES)
      problems.add(new FieldProblem(field, "has more than " + MAX_ENTRIES + " entries"));
    for (Map.Entry<String, String> e : map.entrySet()) {
      var keyProblem = Texts.metadataKeyProblem(e.getKey());
      if (keyProblem.isPresent()) {
        // A bad key is not echoed as a field name: it may be long or hold control characters.
        problems.add(new FieldProblem(field, keyProblem.get()));
      } else {
        Texts.metadataValueProblem(e.getValue())
            .ifPresent(p -> problems.add(new FieldProblem(field + "." + e.getKey(), p)));
      }
    }
  }

  /** The problems as one line, for a rejection that reaches a client without a route's checks. */
  static String describe(List<FieldProblem> problems) {
    StringBuilder sb = new StringBuilder();
    for (FieldProblem p : problems) {
      if (!sb.isEmpty()) sb.append("; ");
      sb.append(p.field()).append(' ').append(p.message());
    }
    return sb.toString();
  }
}
