package dev.keel.tenant.domain;

import dev.keel.persistence.Rejection;
import dev.keel.tenant.domain.CustomDomain.Certificate;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A hostname's certificate as a state machine, set by whatever issues certificates: {@code none →
 * pending → issued | failed}, {@code issued → expired}, and back to {@code pending} for a renewal
 * from {@code issued}, {@code failed} or {@code expired}.
 */
final class CertificateTransitions {

  /** Certificate statuses. */
  static final List<String> STATUSES = List.of("none", "pending", "issued", "failed", "expired");

  /** Where each status may go (the same status again changes nothing). */
  private static final Map<String, List<String>> ALLOWED =
      Map.of(
          "none", List.of("pending"),
          "pending", List.of("issued", "failed"),
          "issued", List.of("expired", "pending"),
          "failed", List.of("pending"),
          "expired", List.of("pending"));

  private CertificateTransitions() {}

  /**
   * Why the certificate cannot become {@code to}, with {@code expiresAt} as asked (null: as it is),
   * if it cannot.
   */
  static Optional<Rejection> refusal(Certificate current, String to, Instant expiresAt) {
    if (to == null || !STATUSES.contains(to) || to.equals("none")) {
      return Optional.of(
          new Rejection(
              Rejection.Kind.INVALID, "status must be one of pending, issued, failed, expired"));
    }
    if (to.equals("issued") && expiresAt == null) {
      return Optional.of(
          new Rejection(
              Rejection.Kind.INVALID, "expiresAt is required when the certificate is issued"));
    }
    Instant kept = expiresAt != null ? expiresAt : current.expiresAt();
    if (to.equals(current.status()) && Objects.equals(kept, current.expiresAt()))
      return Optional.empty(); // the same again: nothing changes
    List<String> allowed = ALLOWED.get(current.status());
    if (allowed.contains(to)) return Optional.empty();
    return Optional.of(
        new Rejection(
            Rejection.Kind.CONFLICT,
            "the certificate is "
                + current.status()
                + " and cannot become "
                + to
                + "; from "
                + current.status()
                + " it may become "
                + String.join(" or ", allowed)));
  }
}
