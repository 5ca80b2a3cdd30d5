package dev.keel.tenant.domain;

import static dev.keel.tenant.domain.CustomDomain.FAILED;
import static dev.keel.tenant.domain.CustomDomain.PENDING;
import static dev.keel.tenant.domain.CustomDomain.VERIFIED;

import dev.keel.tenant.domain.CustomDomain.Claimed;
import dev.keel.tenant.domain.CustomDomain.DomainView;
import dev.keel.tenant.domain.CustomDomain.Ownership;
import dev.keel.tenant.domain.CustomDomain.Pending;
import dev.keel.tenant.domain.CustomDomain.Verification;
import dev.keel.tenant.domain.CustomDomain.Verified;
import java.time.Instant;

/** A claimed hostname as the API shows it: the answer of GET, of a claim, and of audit's view. */
final class DomainViews {

  private DomainViews() {}

  static DomainView of(String hostname, Claimed s) {
    Ownership o = s.ownership();
    String status = s instanceof Pending ? PENDING : s instanceof Verified ? VERIFIED : FAILED;
    Instant nextCheckAt = s instanceof Pending p ? p.nextCheckAt() : null;
    Instant verifiedAt = s instanceof Verified v ? v.verifiedAt() : null;
    return new DomainView(
        hostname,
        o.tenantId(),
        status,
        new Verification("TXT", CustomDomain.challengeName(hostname), o.challengeToken()),
        s.certificate(),
        s.lastCheckedAt(),
        s.verificationErrors(),
        nextCheckAt,
        verifiedAt,
        o.claimedAt(),
        s.updatedAt());
  }
}
