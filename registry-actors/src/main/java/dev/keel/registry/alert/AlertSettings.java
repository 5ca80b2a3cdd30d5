package dev.keel.registry.alert;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * Settings for alert rules, read once from {@code keel.alerts} (defaults in {@code
 * keel-alerts.conf}).
 *
 * @param askTimeout how long a caller waits for a rule entity to answer, and how long a firing
 *     waits for its delivery workflow to be started before the start counts as failed
 * @param startRetryBackoff how long a firing whose delivery could not be started waits before the
 *     rule tries again
 * @param catalogRefresh how often each node reads the rule list for its {@link AlertCatalog}
 * @param catalogLocalGrace how long a rule put or deleted through this node wins over the rule
 *     list, which trails the entities by the projection's lag
 * @param retellAfter how long a node's last word to a rule about a service stands before it is told
 *     again even without a change; zero never tells again
 * @param deliveryFollowWait how long one wait of a rule for a started delivery workflow to end
 *     lasts before it asks again (at most the workflows' long-poll maximum is used)
 */
public record AlertSettings(
    Duration askTimeout,
    Duration startRetryBackoff,
    Duration catalogRefresh,
    Duration catalogLocalGrace,
    Duration retellAfter,
    Duration deliveryFollowWait) {

  public AlertSettings {
    requirePositive("ask-timeout", askTimeout);
    requirePositive("start-retry-backoff", startRetryBackoff);
    requirePositive("catalog-refresh", catalogRefresh);
    requirePositive("catalog-local-grace", catalogLocalGrace);
    requirePositive("delivery-follow-wait", deliveryFollowWait);
    if (retellAfter == null || retellAfter.isNegative()) {
      throw new IllegalArgumentException(
          "keel.alerts.retell-after must be zero or a positive duration, got " + retellAfter);
    }
  }

  /** Reads the {@code keel.alerts} section. */
  public static AlertSettings fromConfig(Config keelAlerts) {
    return new AlertSettings(
        keelAlerts.getDuration("ask-timeout"),
        keelAlerts.getDuration("start-retry-backoff"),
        keelAlerts.getDuration("catalog-refresh"),
        keelAlerts.getDuration("catalog-local-grace"),
        keelAlerts.getDuration("retell-after"),
        keelAlerts.getDuration("delivery-follow-wait"));
  }

  private static void requirePositive(String setting, Duration value) {
    if (value == null || value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException(
          "keel.alerts." + setting + " must be a positive duration, got " + value);
    }
  }
}
