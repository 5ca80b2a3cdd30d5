package dev.keel.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.http.AccessPolicy.Permission;
import dev.keel.tenant.Role;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The policy table against the route table and the README: every route has a rule (a route added
 * without one fails here), the README's table says exactly what the code enforces, and each kind of
 * caller gets exactly its role's rows.
 */
class AccessPolicyTest {

  private static final Caller VIEWER = new Caller("tabcdefghijklmnopqrstuvwxyz", Role.VIEWER);
  private static final Caller OPERATOR = new Caller("tabcdefghijklmnopqrstuvwxyz", Role.OPERATOR);
  private static final Caller TENANT_ADMIN = new Caller("tabcdefghijklmnopqrstuvwxyz");
  private static final Caller CLUSTER_VIEWER = new Caller(null, Role.VIEWER);
  private static final Caller CLUSTER_OPERATOR = new Caller(null, Role.OPERATOR);

  @Test
  void everyRouteOfTheRouteTable_hasExactlyItsRule() {
    List<String> missing = new ArrayList<>();
    for (RouteTable.Endpoint e : RouteTable.ENDPOINTS) {
      String route = e.method() + " " + e.template();
      if (!AccessPolicy.RULES.containsKey(route)) missing.add(route);
      // The matcher finds this rule for a concrete path of the template, not a neighbour's.
      String path = e.template().replaceAll("\\{[^}]+}", "x1");
      assertThat(AccessPolicy.ruleFor(e.method(), path))
          .as(route)
          .isEqualTo(java.util.Optional.ofNullable(AccessPolicy.RULES.get(route)));
    }
    assertThat(missing).as("routes without an access rule (add them to AccessPolicy)").isEmpty();
  }

  @Test
  void aRequestThatIsNoRoute_hasNoRule() {
    assertThat(AccessPolicy.ruleFor("GET", "/api/v1/not-a-route")).isEmpty();
    assertThat(AccessPolicy.ruleFor("PATCH", "/api/v1/workflows/w1")).isEmpty();
  }

  @Test
  void literalSegmentsWin_soBulkIsNotAnExecutionId() {
    assertThat(AccessPolicy.ruleFor("POST", "/api/v1/workflows/bulk/cancel"))
        .contains(Permission.OPERATE);
    assertThat(AccessPolicy.ruleFor("GET", "/api/v1/services/events")).contains(Permission.READ);
  }

  @Test
  void eachCaller_getsExactlyItsRolesRows() {
    Map<Caller, List<Permission>> granted = new LinkedHashMap<>();
    granted.put(VIEWER, List.of(Permission.PUBLIC, Permission.CALLER, Permission.READ));
    granted.put(
        OPERATOR,
        List.of(Permission.PUBLIC, Permission.CALLER, Permission.READ, Permission.OPERATE));
    granted.put(
        TENANT_ADMIN,
        List.of(
            Permission.PUBLIC,
            Permission.CALLER,
            Permission.READ,
            Permission.OPERATE,
            Permission.MANAGE));
    granted.put(CLUSTER_VIEWER, granted.get(VIEWER));
    granted.put(CLUSTER_OPERATOR, granted.get(OPERATOR));
    granted.put(Caller.ADMIN, List.of(Permission.values()));
    granted.forEach(
        (caller, allowed) -> {
          for (Map.Entry<String, Permission> rule : AccessPolicy.RULES.entrySet()) {
            assertThat(AccessPolicy.allows(caller, rule.getValue()))
                .as(caller + " on " + rule.getKey())
                .isEqualTo(allowed.contains(rule.getValue()));
          }
        });
    // A few rows spelled out, as an operator reads the README.
    assertThat(AccessPolicy.allows(VIEWER, rule("POST /api/v1/workflows/{id}/cancel"))).isFalse();
    assertThat(AccessPolicy.allows(OPERATOR, rule("POST /api/v1/workflows/{id}/cancel"))).isTrue();
    assertThat(AccessPolicy.allows(OPERATOR, rule("PUT /api/v1/services/{id}"))).isFalse();
    assertThat(AccessPolicy.allows(TENANT_ADMIN, rule("POST /api/v1/tenants/{id}/keys"))).isTrue();
    assertThat(AccessPolicy.allows(TENANT_ADMIN, rule("POST /api/v1/tenants"))).isFalse();
    assertThat(AccessPolicy.allows(CLUSTER_OPERATOR, rule("POST /api/v1/workflows/{id}/pause")))
        .isTrue();
    assertThat(AccessPolicy.allows(CLUSTER_OPERATOR, rule("POST /api/v1/cluster-keys"))).isFalse();
  }

  @Test
  void theReadmesTable_isThePolicy() throws Exception {
    String readme = Files.readString(repositoryRoot().resolve("README.md"));
    int start = readme.indexOf("<!-- access-policy:start -->");
    int end = readme.indexOf("<!-- access-policy:end -->");
    assertThat(start).as("the README's policy table markers").isNotNegative();
    assertThat(end).isGreaterThan(start);
    Map<String, Permission> documented = new LinkedHashMap<>();
    Matcher row =
        Pattern.compile("(?m)^\\| `([A-Z]+ [^`]+)` \\| `([a-z-]+)` \\|")
            .matcher(readme.substring(start, end));
    while (row.find()) {
      documented.put(
          row.group(1), Permission.valueOf(row.group(2).toUpperCase().replace('-', '_')));
    }
    assertThat(documented).isEqualTo(AccessPolicy.RULES);
  }

  private static Permission rule(String route) {
    return AccessPolicy.RULES.get(route);
  }

  private static Path repositoryRoot() {
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      if (Files.isRegularFile(p.resolve("README.md")) && Files.isDirectory(p.resolve("http-api")))
        return p;
    }
    throw new AssertionError("no repository root above " + Path.of("").toAbsolutePath());
  }
}
