package dev.keel.http;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Every endpoint the node answers: method, path template and whether it reads a body. The route
 * tree is the truth; this list says the same, and {@code HostileInputIT} checks that against a real
 * node (every listed endpoint exists with exactly its listed methods, and no other path answers).
 * Tests walk it instead of a hand-picked list, and the parser's 405 names its methods in {@code
 * Allow}. In templates, {@code {...}} is one path segment.
 */
public final class RouteTable {

  /** What an endpoint does with a request body. */
  public enum Body {
    NONE,
    OPTIONAL,
    REQUIRED
  }

  public record Endpoint(String method, String template, Body body) {}

  public static final List<Endpoint> ENDPOINTS =
      List.of(
          new Endpoint("GET", "/health", Body.NONE),
          new Endpoint("GET", "/ready", Body.NONE),
          new Endpoint("GET", "/metrics", Body.NONE),
          new Endpoint("GET", "/ui", Body.NONE),
          new Endpoint("GET", "/ui/{file}", Body.NONE),
          new Endpoint("GET", "/ui/vendor/{file}", Body.NONE),
          new Endpoint("GET", "/api/v1/caller", Body.NONE),
          new Endpoint("GET", "/api/v1/metrics", Body.NONE),
          new Endpoint("GET", "/api/v1/cluster", Body.NONE),
          new Endpoint("GET", "/api/v1/workflow-definitions", Body.NONE),
          new Endpoint("GET", "/api/v1/workflow-counts", Body.NONE),
          new Endpoint("POST", "/api/v1/workflows", Body.REQUIRED),
          new Endpoint("GET", "/api/v1/workflows", Body.NONE),
          new Endpoint("POST", "/api/v1/workflows/bulk/{action}", Body.REQUIRED),
          new Endpoint("GET", "/api/v1/workflows/{id}", Body.NONE),
          new Endpoint("POST", "/api/v1/workflows/{id}/cancel", Body.OPTIONAL),
          new Endpoint("POST", "/api/v1/workflows/{id}/retry", Body.OPTIONAL),
          new Endpoint("POST", "/api/v1/workflows/{id}/rerun", Body.REQUIRED),
          new Endpoint("POST", "/api/v1/workflows/{id}/pause", Body.NONE),
          new Endpoint("POST", "/api/v1/workflows/{id}/resume", Body.NONE),
          new Endpoint("POST", "/api/v1/workflows/{id}/signals/{name}", Body.OPTIONAL),
          new Endpoint("GET", "/api/v1/workflows/{id}/history", Body.NONE),
          new Endpoint("GET", "/api/v1/schedules", Body.NONE),
          new Endpoint("PUT", "/api/v1/schedules/{id}", Body.REQUIRED),
          new Endpoint("GET", "/api/v1/schedules/{id}", Body.NONE),
          new Endpoint("DELETE", "/api/v1/schedules/{id}", Body.NONE),
          new Endpoint("GET", "/api/v1/services", Body.NONE),
          new Endpoint("GET", "/api/v1/services/events", Body.NONE),
          new Endpoint("GET", "/api/v1/service-counts", Body.NONE),
          new Endpoint("PUT", "/api/v1/services/{id}", Body.REQUIRED),
          new Endpoint("GET", "/api/v1/services/{id}", Body.NONE),
          new Endpoint("DELETE", "/api/v1/services/{id}", Body.NONE),
          new Endpoint("POST", "/api/v1/services/{id}/heartbeat", Body.OPTIONAL),
          new Endpoint("GET", "/api/v1/services/{id}/health", Body.NONE),
          new Endpoint("GET", "/api/v1/services/{id}/metrics", Body.NONE),
          new Endpoint("GET", "/api/v1/alerts", Body.NONE),
          new Endpoint("PUT", "/api/v1/alerts/{id}", Body.REQUIRED),
          new Endpoint("GET", "/api/v1/alerts/{id}", Body.NONE),
          new Endpoint("DELETE", "/api/v1/alerts/{id}", Body.NONE),
          new Endpoint("POST", "/api/v1/tenants", Body.REQUIRED),
          new Endpoint("GET", "/api/v1/tenants", Body.NONE),
          new Endpoint("GET", "/api/v1/tenants/{id}", Body.NONE),
          new Endpoint("DELETE", "/api/v1/tenants/{id}", Body.NONE),
          new Endpoint("POST", "/api/v1/tenants/{id}/suspend", Body.OPTIONAL),
          new Endpoint("POST", "/api/v1/tenants/{id}/reactivate", Body.NONE),
          new Endpoint("POST", "/api/v1/tenants/{id}/api-keys", Body.NONE),
          new Endpoint("GET", "/api/v1/tenants/{id}/keys", Body.NONE),
          new Endpoint("POST", "/api/v1/tenants/{id}/keys", Body.REQUIRED),
          new Endpoint("DELETE", "/api/v1/tenants/{id}/keys/{keyId}", Body.NONE),
          new Endpoint("GET", "/api/v1/cluster-keys", Body.NONE),
          new Endpoint("POST", "/api/v1/cluster-keys", Body.REQUIRED),
          new Endpoint("DELETE", "/api/v1/cluster-keys/{keyId}", Body.NONE),
          new Endpoint("POST", "/api/v1/tenants/{id}/domains", Body.REQUIRED),
          new Endpoint("GET", "/api/v1/tenants/{id}/domains", Body.NONE),
          new Endpoint("GET", "/api/v1/tenants/{id}/domains/{hostname}", Body.NONE),
          new Endpoint("DELETE", "/api/v1/tenants/{id}/domains/{hostname}", Body.NONE),
          new Endpoint("POST", "/api/v1/tenants/{id}/domains/{hostname}/verify", Body.NONE),
          new Endpoint("PUT", "/api/v1/tenants/{id}/domains/{hostname}/certificate", Body.REQUIRED),
          new Endpoint("GET", "/api/v1/audit/{entityType}/{id}/events", Body.NONE),
          new Endpoint("GET", "/api/v1/audit/{entityType}/{id}/state", Body.NONE),
          new Endpoint("POST", "/api/v1/admin/snapshots", Body.REQUIRED),
          new Endpoint("GET", "/api/v1/openapi.json", Body.NONE),
          new Endpoint("GET", "/api/docs", Body.NONE),
          new Endpoint("GET", "/api/docs/{asset}", Body.NONE));

  private RouteTable() {}

  /** Every method some endpoint answers (HEAD is not one: transparent HEAD handling is off). */
  public static Set<String> methods() {
    Set<String> methods = new LinkedHashSet<>();
    for (Endpoint e : ENDPOINTS) methods.add(e.method());
    return methods;
  }
}
