package dev.keel.tenant.domain;

import static dev.keel.persistence.ReadModelSql.ts;
import static dev.keel.persistence.ReadModelSql.update;

import dev.keel.tenant.domain.CustomDomain.Event;
import java.sql.Connection;
import java.sql.SQLException;

/**
 * Keeps {@code keel_domains} in step with tagged hostname events: one row per claimed hostname with
 * the statuses of its view. Runs in the projection's transaction, with its offset, so each batch
 * lands exactly once.
 */
public final class DomainProjectionHandler {

  private DomainProjectionHandler() {}

  /** The row changes for one event; the same fields {@link CustomDomain#apply} gives the state. */
  public static void apply(Connection c, String hostname, Event event) throws SQLException {
    if (event instanceof CustomDomain.DomainClaimed e) {
      // Claimed again after a release (maybe by another tenant): a fresh row, as the entity starts
      // afresh.
      update(c, "DELETE FROM keel_domains WHERE hostname = ?", hostname);
      update(
          c,
          "INSERT INTO keel_domains (hostname, tenant_id, status, certificate_status, created_at,"
              + " updated_at, verified_at) VALUES (?, ?, ?, 'none', ?, ?, NULL)",
          hostname,
          e.tenantId(),
          CustomDomain.PENDING,
          ts(e.at()),
          ts(e.at()));
    } else if (event instanceof CustomDomain.VerificationCheckFailed e) {
      update(c, "UPDATE keel_domains SET updated_at = ? WHERE hostname = ?", ts(e.at()), hostname);
    } else if (event instanceof CustomDomain.DomainVerified e) {
      update(
          c,
          "UPDATE keel_domains SET status = ?, verified_at = ?, updated_at = ? WHERE hostname = ?",
          CustomDomain.VERIFIED,
          ts(e.at()),
          ts(e.at()),
          hostname);
    } else if (event instanceof CustomDomain.VerificationGaveUp e) {
      update(
          c,
          "UPDATE keel_domains SET status = ?, updated_at = ? WHERE hostname = ?",
          CustomDomain.FAILED,
          ts(e.at()),
          hostname);
    } else if (event instanceof CustomDomain.VerificationRestarted e) {
      update(
          c,
          "UPDATE keel_domains SET status = ?, updated_at = ? WHERE hostname = ?",
          CustomDomain.PENDING,
          ts(e.at()),
          hostname);
    } else if (event instanceof CustomDomain.CertificateChanged e) {
      update(
          c,
          "UPDATE keel_domains SET certificate_status = ?, updated_at = ? WHERE hostname = ?",
          e.to(),
          ts(e.at()),
          hostname);
    } else if (event instanceof CustomDomain.DomainReleased) {
      update(c, "DELETE FROM keel_domains WHERE hostname = ?", hostname);
    }
  }
}
