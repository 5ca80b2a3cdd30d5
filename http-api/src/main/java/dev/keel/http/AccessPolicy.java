package dev.keel.http;

import dev.keel.tenant.Role;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Who may call what: one rule per route (method and path template), checked in one place for every
 * request ({@link HttpApi#authorized}). The README's "Access control" table is this table; {@code
 * AccessPolicyTest} keeps the two equal and fails for a route of {@link RouteTable} without a rule.
 *
 * <p>Roles: a {@code viewer} key reads, an {@code operator} key also operates executions (signal,
 * cancel, pause, resume, retry, rerun), an {@code admin} key (and a tenant's first key) also
 * changes its tenant's resources and keys. Keys belong to a tenant (its resources only) or to the
 * cluster (every tenant's; {@code viewer} or {@code operator}). The admin token may do everything,
 * and it alone what concerns the cluster itself.
 */
public final class AccessPolicy {

  /** What a route needs, from least to most. */
  public enum Permission {
    /** No token at all (health, metrics, documents, console files). */
    PUBLIC,
    /** Any valid token. */
    CALLER,
    /** Viewer and up. */
    READ,
    /** Operator and up. */
    OPERATE,
    /** Admin keys (a tenant's) and the admin token. */
    MANAGE,
    /** The admin token only. */
    CLUSTER_ADMIN
  }

  /** "METHOD template" → permission, in the README's order. */
  public static final Map<String, Permission> RULES = rules();

  private static Map<String, Permission> rules() {
    Map<String, Permission> r = new LinkedHashMap<>();
    for (String route :
        List.of(
            "GET /health",
            "GET /ready",
            "GET /metrics",
            "GET /ui",
            "GET /ui/{file}",
            "GET /ui/vendor/{file}",
            "GET /api/v1/openapi.json",
            "GET /api/docs",
            "GET /api/docs/{asset}")) r.put(route, Permission.PUBLIC);
    r.put("GET /api/v1/caller", Permission.CALLER);
    for (String route :
        List.of(
            "GET /api/v1/workflow-definitions",
            "GET /api/v1/workflow-counts",
            "GET /api/v1/workflows",
            "GET /api/v1/workflows/{id}",
            "GET /api/v1/workflows/{id}/history",
            "GET /api/v1/schedules",
            "GET /api/v1/schedules/{id}",
            "GET /api/v1/services",
            "GET /api/v1/service-counts",
            "GET /api/v1/services/events",
            "GET /api/v1/services/{id}",
            "GET /api/v1/services/{id}/health",
            "GET /api/v1/services/{id}/metrics",
            "GET /api/v1/alerts",
            "GET /api/v1/alerts/{id}",
            "GET /api/v1/tenants/{id}",
            "GET /api/v1/tenants/{id}/domains",
            "GET /api/v1/tenants/{id}/domains/{hostname}")) r.put(route, Permission.READ);
    for (String route :
        List.of(
            "POST /api/v1/workflows/{id}/cancel",
            "POST /api/v1/workflows/{id}/pause",
            "POST /api/v1/workflows/{id}/resume",
            "POST /api/v1/workflows/{id}/signals/{name}",
            "POST /api/v1/workflows/{id}/retry",
            "POST /api/v1/workflows/{id}/rerun",
            "POST /api/v1/workflows/bulk/{action}")) r.put(route, Permission.OPERATE);
    for (String route :
        List.of(
            "POST /api/v1/workflows",
            "PUT /api/v1/schedules/{id}",
            "DELETE /api/v1/schedules/{id}",
            "PUT /api/v1/services/{id}",
            "DELETE /api/v1/services/{id}",
            "POST /api/v1/services/{id}/heartbeat",
            "PUT /api/v1/alerts/{id}",
            "DELETE /api/v1/alerts/{id}",
            "POST /api/v1/tenants/{id}/api-keys",
            "GET /api/v1/tenants/{id}/keys",
            "POST /api/v1/tenants/{id}/keys",
            "DELETE /api/v1/tenants/{id}/keys/{keyId}",
            "POST /api/v1/tenants/{id}/domains",
            "DELETE /api/v1/tenants/{id}/domains/{hostname}",
            "POST /api/v1/tenants/{id}/domains/{hostname}/verify",
            "PUT /api/v1/tenants/{id}/domains/{hostname}/certificate"))
      r.put(route, Permission.MANAGE);
    for (String route :
        List.of(
            "GET /api/v1/metrics",
            "GET /api/v1/cluster",
            "POST /api/v1/tenants",
            "GET /api/v1/tenants",
            "DELETE /api/v1/tenants/{id}",
            "POST /api/v1/tenants/{id}/suspend",
            "POST /api/v1/tenants/{id}/reactivate",
            "GET /api/v1/cluster-keys",
            "POST /api/v1/cluster-keys",
            "DELETE /api/v1/cluster-keys/{keyId}",
            "GET /api/v1/audit/{entityType}/{id}/events",
            "GET /api/v1/audit/{entityType}/{id}/state",
            "POST /api/v1/admin/snapshots")) r.put(route, Permission.CLUSTER_ADMIN);
    return java.util.Collections.unmodifiableMap(r);
  }

  /** A rule's template as a pattern; literal segments first, so bulk/{action} beats {id}/cancel. */
  private record Compiled(String method, Pattern path, int literals, Permission permission) {}

  private static final List<Compiled> COMPILED = compile();

  private static List<Compiled> compile() {
    List<Compiled> l = new ArrayList<>();
    RULES.forEach(
        (route, permission) -> {
          String method = route.substring(0, route.indexOf(' '));
          String template = route.substring(route.indexOf(' ') + 1);
          StringBuilder regex = new StringBuilder("^");
          int literals = 0;
          for (String segment : template.substring(1).split("/", -1)) {
            regex.append('/');
            if (segment.startsWith("{")) {
              regex.append("[^/]+");
            } else {
              regex.append(Pattern.quote(segment));
              literals++;
            }
          }
          l.add(
              new Compiled(
                  method, Pattern.compile(regex.append('$').toString()), literals, permission));
        });
    l.sort(Comparator.comparingInt(Compiled::literals).reversed());
    return List.copyOf(l);
  }

  private AccessPolicy() {}

  /** The rule for a request; empty for a request that is no route (it answers 404 or 405). */
  public static Optional<Permission> ruleFor(String method, String path) {
    for (Compiled c : COMPILED) {
      if (c.method().equals(method) && c.path().matcher(path).matches())
        return Optional.of(c.permission());
    }
    return Optional.empty();
  }

  /** Whether {@code caller} holds {@code permission}. */
  public static boolean allows(Caller caller, Permission permission) {
    return switch (permission) {
      case PUBLIC, CALLER, READ -> true;
      case OPERATE -> caller.role().atLeast(Role.OPERATOR);
      case MANAGE -> caller.role().atLeast(Role.ADMIN);
      case CLUSTER_ADMIN -> caller.admin();
    };
  }
}
