package dev.keel.tenant;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import dev.keel.persistence.ManualClock;
import dev.keel.tenant.KeyRing.Command;
import dev.keel.tenant.KeyRing.Event;
import dev.keel.tenant.KeyRing.KeyCheck;
import dev.keel.tenant.KeyRing.KeyView;
import dev.keel.tenant.KeyRing.State;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.PersistenceTestKitSnapshotPlugin;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * An owner's key ring: a created key checks with its role until it is revoked or expires, a wrong
 * secret never does, names are unique among active keys, nothing is journaled for a refusal, and
 * the ring recovers. The journal holds the hash, never the key.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KeyRingTest {

  private static final Instant T0 = Instant.parse("2026-12-07T09:00:00Z");
  private static final AtomicInteger owners = new AtomicInteger();
  private final NamedKeys keys = new NamedKeys(new SecureRandom());
  private final ManualClock clock = new ManualClock(T0);
  private ActorTestKit testKit;

  @BeforeAll
  void startSystem() {
    testKit =
        ActorTestKit.create(
            "KeyRingTest",
            EventSourcedBehaviorTestKit.config()
                .withFallback(PersistenceTestKitSnapshotPlugin.config())
                .withFallback(ConfigFactory.load())
                .resolve());
  }

  @AfterAll
  void stopSystem() {
    testKit.shutdownTestKit();
  }

  private EventSourcedBehaviorTestKit<Command, Event, State> ring() {
    return EventSourcedBehaviorTestKit.create(
        testKit.system(),
        KeyRing.create("tring" + owners.incrementAndGet(), clock),
        EventSourcedBehaviorTestKit.enabledSerializationSettings());
  }

  private record Issued(String keyId, String secret, StatusReply<KeyView> reply) {}

  private Issued create(
      EventSourcedBehaviorTestKit<Command, Event, State> kit,
      String name,
      Role role,
      Instant expires) {
    String keyId = keys.newKeyId();
    String secret = keys.newKey("towner", keyId);
    StatusReply<KeyView> reply =
        kit.<StatusReply<KeyView>>runCommand(
                r -> new KeyRing.CreateKey(keyId, name, role, expires, ApiKeys.hash(secret), r))
            .reply();
    return new Issued(keyId, secret, reply);
  }

  private static KeyCheck check(
      EventSourcedBehaviorTestKit<Command, Event, State> kit, String keyId, String secret) {
    return kit.<KeyCheck>runCommand(r -> new KeyRing.CheckKey(keyId, ApiKeys.hash(secret), r))
        .reply();
  }

  @Test
  void aCreatedKey_checksWithItsRole_untilRevoked_andRecovers() {
    var kit = ring();
    Issued viewer = create(kit, "dashboards", Role.VIEWER, null);
    assertThat(viewer.reply().isSuccess()).isTrue();
    assertThat(viewer.reply().getValue().status()).isEqualTo("active");
    assertThat(check(kit, viewer.keyId(), viewer.secret()).granted()).contains(Role.VIEWER);
    assertThat(check(kit, viewer.keyId(), viewer.secret() + "0").granted()).isEmpty();

    var revoked =
        kit.<StatusReply<KeyView>>runCommand(r -> new KeyRing.RevokeKey(viewer.keyId(), r));
    assertThat(revoked.reply().getValue().status()).isEqualTo("revoked");
    assertThat(revoked.event()).isInstanceOf(KeyRing.NamedKeyRevoked.class);
    KeyCheck refused = check(kit, viewer.keyId(), viewer.secret());
    assertThat(refused.granted()).isEmpty();
    assertThat(refused.why()).isEqualTo("the key is revoked");

    kit.restart();
    assertThat(check(kit, viewer.keyId(), viewer.secret()).granted()).isEmpty();
    List<KeyView> listed =
        kit.<StatusReply<KeyRing.KeyList>>runCommand(KeyRing.ListKeys::new)
            .reply()
            .getValue()
            .keys();
    assertThat(listed).extracting(KeyView::status).containsExactly("revoked");
  }

  @Test
  void anExpiredKey_isRefused_theMomentItsExpiryPasses() {
    var kit = ring();
    Instant expires = T0.plus(Duration.ofHours(1));
    clock.set(T0);
    Issued op = create(kit, "ci", Role.OPERATOR, expires);
    assertThat(check(kit, op.keyId(), op.secret()).granted()).contains(Role.OPERATOR);
    clock.set(expires);
    assertThat(check(kit, op.keyId(), op.secret()))
        .isEqualTo(new KeyCheck(null, "the key is expired"));
    clock.set(T0);
  }

  @Test
  void anActiveName_cannotBeTakenTwice_andARefusalJournalsNothing() {
    var kit = ring();
    create(kit, "ops", Role.ADMIN, null);
    var again =
        kit.<StatusReply<KeyView>>runCommand(
            r -> new KeyRing.CreateKey(keys.newKeyId(), "ops", Role.VIEWER, null, "00", r));
    assertThat(again.reply().isError()).isTrue();
    assertThat(again.hasNoEvents()).isTrue();
  }

  @Test
  void theJournal_holdsTheHashNotTheKey() {
    var kit = ring();
    String keyId = keys.newKeyId();
    String secret = keys.newKey("towner", keyId);
    var created =
        kit.<StatusReply<KeyView>>runCommand(
            r -> new KeyRing.CreateKey(keyId, "x", Role.VIEWER, null, ApiKeys.hash(secret), r));
    KeyRing.NamedKeyCreated event = (KeyRing.NamedKeyCreated) created.event();
    assertThat(event.keyHash()).isEqualTo(ApiKeys.hash(secret)).doesNotContain(secret);
    assertThat(event.toString()).doesNotContain(secret);
  }

  @Test
  void namedKeys_parseBackToTheirOwnerAndId() {
    String keyId = keys.newKeyId();
    String secret = keys.newKey(NamedKeys.CLUSTER, keyId);
    assertThat(NamedKeys.parse(secret)).contains(new NamedKeys.Parsed(NamedKeys.CLUSTER, keyId));
    assertThat(ApiKeys.tenantOf(secret)).as("not mistaken for a tenant's first key").isEmpty();
    assertThat(NamedKeys.parse("keel_cluster_kabc_00")).isEmpty();
  }
}
