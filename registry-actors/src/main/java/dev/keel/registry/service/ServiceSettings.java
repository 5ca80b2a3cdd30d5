package dev.keel.registry.service;

import com.typesafe.config.Config;
import java.time.Duration;

/** {@code keel.services}: see {@code keel-services.conf} for what each setting means. */
public record ServiceSettings(
    Duration askTimeout, int defaultTtlSeconds, Duration listLiveTimeout) {

  public ServiceSettings {
    if (askTimeout.isNegative() || askTimeout.isZero())
      throw new IllegalArgumentException("keel.services.ask-timeout must be positive");
    if (defaultTtlSeconds < ServiceRules.MIN_TTL_SECONDS
        || defaultTtlSeconds > ServiceRules.MAX_TTL_SECONDS) {
      throw new IllegalArgumentException(
          "keel.services.default-ttl must be between "
              + ServiceRules.MIN_TTL_SECONDS
              + " and "
              + ServiceRules.MAX_TTL_SECONDS
              + " seconds");
    }
  }

  /** Reads the {@code keel.services} block. */
  public static ServiceSettings fromConfig(Config services) {
    return new ServiceSettings(
        services.getDuration("ask-timeout"),
        (int) services.getDuration("default-ttl").toSeconds(),
        services.getDuration("list-live-timeout"));
  }
}
