package dev.keel.tenant;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.persistence.EntityAudit;
import dev.keel.persistence.GoldenJournal;
import dev.keel.tenant.domain.CustomDomain;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Journals of tenants, hostnames and slug reservations written by earlier versions
 * (src/test/resources/golden) still read with the node's serialization and replay through today's
 * event handlers to the state they had.
 */
class GoldenJournalsTest {

  /** Slugs are not audited over HTTP; their journal must replay all the same. */
  private static final EntityAudit<SlugReservation.State, SlugReservation.Event> SLUGS =
      new EntityAudit<>(
          SlugReservation.ENTITY_TYPE,
          SlugReservation.Event.class,
          new SlugReservation.Free(),
          SlugReservation::apply,
          (id, s) -> Optional.of(s));

  private final GoldenJournal golden = GoldenJournal.get();

  @Test
  void everyGoldenJournalReplays() {
    assertThat(golden.replayAll(Tenant.AUDIT)).allSatisfy(r -> assertThat(r.view()).isPresent());
    assertThat(golden.replayAll(CustomDomain.AUDIT))
        .allSatisfy(r -> assertThat(r.view()).isPresent());
    assertThat(golden.replayAll(SLUGS)).isNotEmpty();
    assertThat(golden.replayAll(KeyRing.AUDIT)).allSatisfy(r -> assertThat(r.view()).isPresent());
  }

  @Test
  void namedKeysOneRevoked_fromTheSnapshotTakenAfterTheRevocation() {
    GoldenJournal.Replayed<KeyRing.State> r =
        golden.replay(KeyRing.AUDIT, "2026-12-08-named-keys-one-revoked");
    List<KeyRing.NamedKey> keys = ((KeyRing.Ring) r.state()).keys();
    assertThat(keys).extracting(KeyRing.NamedKey::name).containsExactly("dashboards", "ci", "ops");
    assertThat(keys)
        .extracting(KeyRing.NamedKey::role)
        .containsExactly("viewer", "operator", "admin");
    assertThat(keys.get(0).expiresAt()).isEqualTo(Instant.parse("2027-06-01T00:00:00Z"));
    assertThat(keys.get(0).revokedAt()).isNull();
    assertThat(keys.get(1).revokedAt()).isNotNull();
    assertThat(keys.get(2).revokedAt()).isNull();
    // Hashes at rest: SHA-256 in hex, never the secret.
    assertThat(keys).allSatisfy(k -> assertThat(k.keyHash()).matches("[0-9a-f]{64}"));
  }

  @Test
  void suspendedTenantAfterAKeyRotation() {
    GoldenJournal.Replayed<Tenant.State> r =
        golden.replay(Tenant.AUDIT, "2026-11-22-suspended-after-key-rotation");
    Tenant.TenantView v = (Tenant.TenantView) r.view().orElseThrow();
    assertThat(v.id()).isEqualTo("thdlggv5wmimyplxklag3zqjgki");
    assertThat(v.slug()).isEqualTo("golden");
    assertThat(v.name()).isEqualTo("Golden Inc");
    assertThat(v.plan()).isEqualTo("pro");
    assertThat(v.status()).isEqualTo("suspended");
    assertThat(v.suspendedReason()).isEqualTo("unpaid invoice");
    assertThat(v.defaultDomain()).isEqualTo("golden.keel.localhost");
    assertThat(v.keyRotatedAt()).isEqualTo(Instant.parse("2026-11-22T16:21:46.301862476Z"));
    assertThat(((Tenant.Suspended) r.state()).tenant().keyHash())
        .isEqualTo("f7a371b6da610c962028856f314ec74fe8494922ada4113892d6797ab14c4d87");
  }

  @Test
  void hostnameWithAFailedCheckAndAnIssuedCertificate() {
    CustomDomain.DomainView v =
        (CustomDomain.DomainView)
            golden.replay(CustomDomain.AUDIT, "2026-11-22-certificate-issued").view().orElseThrow();
    assertThat(v.hostname()).isEqualTo("shop.golden.example");
    assertThat(v.tenantId()).isEqualTo("thdlggv5wmimyplxklag3zqjgki");
    assertThat(v.status()).isEqualTo("pending_verification");
    assertThat(v.verification().name()).isEqualTo("_keel-challenge.shop.golden.example");
    assertThat(v.verification().value()).isEqualTo("VenYDWkssDdii_kEKjrexomoHOn6eC0pWdLflj5Nbd8");
    assertThat(v.verificationErrors())
        .singleElement()
        .satisfies(e -> assertThat(e.code()).isEqualTo("nxdomain"));
    assertThat(v.certificate().status()).isEqualTo("issued");
    assertThat(v.certificate().expiresAt()).isEqualTo(Instant.parse("2027-02-20T09:00:00Z"));
  }

  @Test
  void confirmedSlug() {
    assertThat(golden.replay(SLUGS, "2026-11-22-confirmed").state())
        .isEqualTo(
            new SlugReservation.Reserved(
                "thdlggv5wmimyplxklag3zqjgki",
                Instant.parse("2026-11-22T16:21:45.467059072Z"),
                true));
  }
}
