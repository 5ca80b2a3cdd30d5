package dev.keel.tenant;

import com.typesafe.config.Config;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;

/** {@code keel.tenants}: see {@code keel-tenants.conf} for what each setting means. */
public record TenantSettings(
    String rootDomain,
    Duration askTimeout,
    Duration unconfirmedReservationExpiry,
    Map<String, Plan> plans,
    java.util.List<Downstream> downstream,
    DownstreamRetry downstreamRetry) {

  /**
   * A bad setting, named the way an operator sets it ({@code KEEL_ROOT_DOMAIN}, {@code
   * KEEL_TENANTS_DOWNSTREAM}).
   */
  public static final class SettingProblem extends IllegalArgumentException {
    private final String setting;

    public SettingProblem(String setting, String message) {
      super(message);
      this.setting = setting;
    }

    public String setting() {
      return setting;
    }
  }

  /** A service every tenant is provisioned in. */
  public record Downstream(String name, java.net.URI url) {}

  public record DownstreamRetry(
      Duration initialBackoff, Duration maxBackoff, int maxAttempts, Duration timeout) {}

  /** A plan's quotas; {@code -1} is unlimited. */
  public record Plan(String name, int services, int workflowStartsPerMonth, int domains) {}

  public TenantSettings {
    if (rootDomain == null
        || rootDomain.isBlank()
        || rootDomain.startsWith(".")
        || rootDomain.endsWith(".")) {
      throw new SettingProblem(
          "KEEL_ROOT_DOMAIN", "must be a domain name such as tenants.example.com");
    }
    if (plans.isEmpty())
      throw new IllegalArgumentException("keel.tenants.plans must define at least one plan");
    plans = Map.copyOf(plans);
    downstream = java.util.List.copyOf(downstream);
  }

  /** {@code name=url,name=url}; each url absolute http(s). */
  static java.util.List<Downstream> parseDownstream(String text) {
    java.util.List<Downstream> out = new java.util.ArrayList<>();
    if (text == null || text.isBlank()) return out;
    for (String part : text.split(",")) {
      int eq = part.indexOf('=');
      String name = eq < 0 ? "" : part.substring(0, eq).trim();
      String url = eq < 0 ? "" : part.substring(eq + 1).trim();
      if (!name.matches("[a-z][a-z0-9-]{0,62}")) {
        throw new SettingProblem(
            "KEEL_TENANTS_DOWNSTREAM",
            "'" + part.trim() + "' is not name=url with a lower-case name");
      }
      java.net.URI uri;
      try {
        uri = new java.net.URI(url);
      } catch (java.net.URISyntaxException e) {
        throw new SettingProblem("KEEL_TENANTS_DOWNSTREAM", "the url of " + name + " is not a URL");
      }
      if (uri.getHost() == null
          || !("http".equals(uri.getScheme()) || "https".equals(uri.getScheme()))) {
        throw new SettingProblem(
            "KEEL_TENANTS_DOWNSTREAM", "the url of " + name + " must be an absolute http(s) URL");
      }
      if (out.stream().anyMatch(d -> d.name().equals(name))) {
        throw new SettingProblem("KEEL_TENANTS_DOWNSTREAM", "" + name + " appears twice");
      }
      out.add(new Downstream(name, uri));
    }
    return out;
  }

  public static TenantSettings fromConfig(Config tenants) {
    Map<String, Plan> plans = new TreeMap<>();
    Config p = tenants.getConfig("plans");
    for (String name : p.root().keySet()) {
      Config plan = p.getConfig(name);
      plans.put(
          name,
          new Plan(
              name,
              plan.getInt("services"),
              plan.getInt("workflow-starts-per-month"),
              plan.getInt("domains")));
    }
    return new TenantSettings(
        tenants.getString("root-domain").toLowerCase(java.util.Locale.ROOT),
        tenants.getDuration("ask-timeout"),
        tenants.getDuration("unconfirmed-reservation-expiry"),
        plans,
        parseDownstream(tenants.getString("downstream")),
        new DownstreamRetry(
            tenants.getDuration("downstream-initial-backoff"),
            tenants.getDuration("downstream-max-backoff"),
            tenants.getInt("downstream-max-attempts"),
            tenants.getDuration("downstream-timeout")));
  }
}
