package dev.keel.tenant.quota;

import com.typesafe.config.Config;
import dev.keel.tenant.TenantSettings.SettingProblem;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.Optional;

/**
 * The {@code quota-*} settings of {@code keel.tenants}; see {@code keel-tenants.conf}. The webhook
 * URL is a secret (a Slack incoming webhook's path is its credential): never logged or shown.
 */
public record QuotaSettings(
    boolean monthlySchedule,
    Optional<URI> webhookUrl,
    Duration webhookTimeout,
    Duration webhookInitialBackoff,
    Duration webhookMaxBackoff,
    int webhookMaxAttempts,
    QuotaLedger.Reconciliation reconciliation) {

  public static QuotaSettings fromConfig(Config tenants) {
    String url = tenants.getString("quota-webhook-url").trim();
    Optional<URI> webhook = Optional.empty();
    if (!url.isEmpty()) {
      URI uri;
      try {
        uri = new URI(url);
      } catch (URISyntaxException e) {
        throw new SettingProblem("KEEL_QUOTA_WEBHOOK_URL", "is not a URL");
      }
      if (uri.getHost() == null
          || !("http".equals(uri.getScheme()) || "https".equals(uri.getScheme()))) {
        throw new SettingProblem("KEEL_QUOTA_WEBHOOK_URL", "must be an absolute http(s) URL");
      }
      webhook = Optional.of(uri);
    }
    return new QuotaSettings(
        tenants.getBoolean("quota-check-schedule"),
        webhook,
        tenants.getDuration("quota-webhook-timeout"),
        tenants.getDuration("quota-webhook-initial-backoff"),
        tenants.getDuration("quota-webhook-max-backoff"),
        tenants.getInt("quota-webhook-max-attempts"),
        new QuotaLedger.Reconciliation(
            tenants.getDuration("quota-reconcile-interval"),
            tenants.getDuration("quota-reconcile-grace")));
  }
}
