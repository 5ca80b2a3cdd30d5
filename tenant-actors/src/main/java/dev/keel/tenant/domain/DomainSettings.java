package dev.keel.tenant.domain;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import dev.keel.persistence.grammar.Hostnames;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Optional;

/**
 * Custom hostnames' settings, read once from {@code keel.tenants} (see {@code keel-domains.conf}).
 * Each problem is a {@link SettingProblem} naming the setting the way an operator sets it.
 *
 * @param rootDomain where every tenant's default domain lives ({@code <slug>.<root>}); no custom
 *     hostname may be it or under it
 * @param dnsServer the name server to ask; empty for the system's
 */
public record DomainSettings(
    String rootDomain,
    Optional<InetSocketAddress> dnsServer,
    Duration dnsTimeout,
    Duration askTimeout,
    VerificationSchedule schedule,
    Duration idleTimeout,
    int projectionBatchSize,
    Duration projectionBatchWindow) {

  /** A bad setting: {@code setting} is its {@code KEEL_*} variable or its configuration path. */
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

  public DomainSettings {
    positive(dnsTimeout, "keel.tenants.domains.dns-timeout");
    positive(askTimeout, "keel.tenants.domains.ask-timeout");
    positive(idleTimeout, "keel.tenants.domains.idle-timeout");
    if (askTimeout.compareTo(dnsTimeout) <= 0) {
      // POST .../verify waits for a lookup: a shorter ask would answer 503 for every slow lookup.
      throw new SettingProblem(
          "keel.tenants.domains.ask-timeout",
          "must be longer than dns-timeout (" + dnsTimeout + ")");
    }
    if (projectionBatchSize < 1)
      throw new SettingProblem("keel.tenants.domains.projection-batch-size", "must be positive");
  }

  /** Reads the {@code keel.tenants} block. */
  public static DomainSettings fromConfig(Config tenants) {
    try {
      Config d = tenants.getConfig("domains");
      String root;
      try {
        root = Hostnames.syntax(tenants.getString("root-domain"));
      } catch (Hostnames.InvalidHostnameException e) {
        throw new SettingProblem("KEEL_ROOT_DOMAIN", e.getMessage());
      }
      VerificationSchedule schedule;
      try {
        schedule =
            new VerificationSchedule(
                durations(d, "check-backoff"),
                d.getDuration("check-every"),
                d.getDuration("give-up-after"));
      } catch (IllegalArgumentException e) {
        throw new SettingProblem("keel.tenants.domains", e.getMessage());
      }
      return new DomainSettings(
          root,
          dnsServer(tenants.getString("dns-server")),
          d.getDuration("dns-timeout"),
          d.getDuration("ask-timeout"),
          schedule,
          d.getDuration("idle-timeout"),
          d.getInt("projection-batch-size"),
          d.getDuration("projection-batch-window"));
    } catch (ConfigException e) {
      throw new SettingProblem("keel.tenants.domains", e.getMessage());
    }
  }

  /**
   * A list of durations, or one string of them separated by commas (as an environment variable
   * gives it).
   */
  private static java.util.List<Duration> durations(Config c, String path) {
    if (c.getValue(path).valueType() != com.typesafe.config.ConfigValueType.STRING)
      return c.getDurationList(path);
    java.util.List<Duration> out = new java.util.ArrayList<>();
    for (String part : c.getString(path).split(",")) {
      if (part.isBlank()) continue;
      out.add(com.typesafe.config.ConfigFactory.parseString("d = " + part.trim()).getDuration("d"));
    }
    return out;
  }

  /**
   * {@code host:port}, {@code host} (port 53), {@code [v6]:port}; blank for the system's server.
   */
  public static Optional<InetSocketAddress> dnsServer(String value) {
    if (value == null || value.isBlank()) return Optional.empty();
    String s = value.trim();
    String host;
    String port = "53";
    if (s.startsWith("[")) {
      int close = s.indexOf(']');
      if (close < 0) throw badServer(value);
      host = s.substring(1, close);
      if (close + 1 < s.length()) {
        if (s.charAt(close + 1) != ':') throw badServer(value);
        port = s.substring(close + 2);
      }
    } else {
      int colon = s.lastIndexOf(':');
      if (colon >= 0 && s.indexOf(':') != colon)
        throw badServer(value); // a bare IPv6 address: needs brackets
      host = colon < 0 ? s : s.substring(0, colon);
      if (colon >= 0) port = s.substring(colon + 1);
    }
    int p;
    try {
      p = Integer.parseInt(port);
    } catch (NumberFormatException e) {
      throw badServer(value);
    }
    if (host.isBlank() || p < 1 || p > 65535) throw badServer(value);
    InetSocketAddress address = new InetSocketAddress(host, p);
    if (address.isUnresolved()) {
      throw new SettingProblem("KEEL_DNS_SERVER", "'" + value + "': the host does not resolve");
    }
    return Optional.of(address);
  }

  private static SettingProblem badServer(String value) {
    return new SettingProblem(
        "KEEL_DNS_SERVER", "'" + value + "' is not host:port (IPv6 as [addr]:port)");
  }

  private static void positive(Duration d, String name) {
    if (d.isNegative() || d.isZero()) throw new SettingProblem(name, "must be positive");
  }
}
