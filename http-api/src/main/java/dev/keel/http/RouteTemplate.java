package dev.keel.http;

import java.util.Set;

/**
 * A request path as the route it matched, with ids replaced ({@code
 * /api/v1/workflows/{id}/signals/{id}}), so that metrics get one series per route, not one per
 * workflow. Bounded: a segment stays literal only when it is one of the API's own words and not in
 * an id's position; anything else is {@code {id}}, and paths deeper than {@link #MAX_SEGMENTS} are
 * cut.
 */
public final class RouteTemplate {

  static final int MAX_SEGMENTS = 8;

  /** Segments after which the next one is an id, whatever it is. */
  private static final Set<String> COLLECTIONS =
      Set.of(
          "workflows",
          "schedules",
          "services",
          "alerts",
          "tenants",
          "domains",
          "signals",
          "ui",
          "keys",
          "cluster-keys");

  /** Every literal word of the API's paths (API.md), and audit's entity types. */
  private static final Set<String> WORDS =
      Set.of(
          "api",
          "v1",
          "health",
          "ready",
          "metrics",
          "cluster",
          "admin",
          "snapshots",
          "audit",
          "events",
          "state",
          "workflows",
          "workflow-definitions",
          "workflow-counts",
          "service-counts",
          "caller",
          "ui",
          "schedules",
          "services",
          "alerts",
          "tenants",
          "domains",
          "signals",
          "cancel",
          "pause",
          "resume",
          "retry",
          "rerun",
          "bulk",
          "history",
          "heartbeat",
          "suspend",
          "reactivate",
          "api-keys",
          "keys",
          "cluster-keys",
          "keyring",
          "verify",
          "certificate",
          "workflow",
          "schedule",
          "service",
          "alert",
          "tenant",
          "openapi.json",
          "docs");

  private RouteTemplate() {}

  public static String of(String path) {
    if (path == null || path.isEmpty() || path.equals("/")) return "/";
    StringBuilder template = new StringBuilder(path.length());
    String previous = "";
    int segments = 0;
    int start = path.charAt(0) == '/' ? 1 : 0;
    while (start <= path.length()) {
      int end = path.indexOf('/', start);
      if (end < 0) end = path.length();
      String segment = path.substring(start, end);
      if (++segments > MAX_SEGMENTS) {
        template.append("/...");
        break;
      }
      boolean literal = WORDS.contains(segment) && !COLLECTIONS.contains(previous);
      template.append('/').append(literal ? segment : "{id}");
      previous = literal ? segment : "";
      start = end + 1;
      if (end == path.length()) break;
    }
    return template.toString();
  }
}
