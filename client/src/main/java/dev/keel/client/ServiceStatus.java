package dev.keel.client;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/**
 * A service's status as Keel sees it: what its last heartbeat reported, or {@link #STALE} when no
 * heartbeat came within its TTL. {@link #UNKNOWN} stands for a word this client does not know yet
 * (the contract may grow).
 */
public enum ServiceStatus {
  HEALTHY,
  DEGRADED,
  UNHEALTHY,
  STALE,
  UNKNOWN;

  /** The word on the wire, such as {@code stale}. */
  @JsonValue
  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The status for a wire word; {@link #UNKNOWN} for words this client does not know. */
  @JsonCreator
  public static ServiceStatus fromWire(String word) {
    if (word == null) return UNKNOWN;
    for (ServiceStatus s : values()) {
      if (s != UNKNOWN && s.wire().equals(word)) return s;
    }
    return UNKNOWN;
  }
}
