package dev.keel.client;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/** What a service reports about itself in a heartbeat. */
public enum HealthStatus {
  HEALTHY,
  DEGRADED,
  UNHEALTHY;

  /** The word on the wire: {@code healthy}, {@code degraded} or {@code unhealthy}. */
  @JsonValue
  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }
}
