package dev.keel.tenant;

import java.util.Locale;
import java.util.Optional;

/**
 * What a named API key may do, each role all that the one before may: {@code viewer} reads, {@code
 * operator} also signals, cancels, pauses, resumes, retries and reruns, {@code admin} also changes
 * every resource of its tenant and its keys. The policy table ({@code AccessPolicy} in http-api)
 * says which route needs which.
 */
public enum Role {
  VIEWER,
  OPERATOR,
  ADMIN;

  /** As JSON and the README spell it. */
  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static Optional<Role> parse(String s) {
    for (Role r : values()) if (r.wire().equals(s)) return Optional.of(r);
    return Optional.empty();
  }

  public boolean atLeast(Role other) {
    return compareTo(other) >= 0;
  }
}
