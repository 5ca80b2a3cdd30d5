package dev.keel.tenant;

import dev.keel.persistence.JournaledEntities;
import dev.keel.persistence.RequestScope;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;

/**
 * Named API keys for routes and auth: create (the secret returned once), list, revoke, and check a
 * presented key against its owner's {@link KeyRing}. An owner is a tenant id or {@link
 * NamedKeys#CLUSTER}; whether the caller may manage that owner's keys is the routes' and the
 * policy's business.
 */
public final class KeyRingService {

  /** A created key with its secret: the only time the secret is shown. */
  public record CreatedKey(KeyRing.KeyView key, String apiKey) {}

  private final ClusterSharding sharding;
  private final NamedKeys keys;
  private final Duration askTimeout;
  private final JournaledEntities journaled;

  public KeyRingService(ActorSystem<?> system, NamedKeys keys, Duration askTimeout) {
    this.sharding = ClusterSharding.get(system);
    this.keys = keys;
    this.askTimeout = askTimeout;
    this.journaled = new JournaledEntities(system);
  }

  private EntityRef<KeyRing.Command> ring(String owner) {
    return sharding.entityRefFor(KeyRing.ENTITY_KEY, owner);
  }

  public CompletionStage<CreatedKey> create(
      String owner, String name, Role role, Instant expiresAt) {
    String keyId = keys.newKeyId();
    String apiKey = keys.newKey(owner, keyId);
    return ring(owner)
        .<KeyRing.KeyView>askWithStatus(
            r ->
                RequestScope.<KeyRing.Command>onBehalf(
                    new KeyRing.CreateKey(keyId, name, role, expiresAt, ApiKeys.hash(apiKey), r),
                    KeyRing.Traced::new),
            askTimeout)
        .thenApply(
            view -> {
              journaled.created(KeyRing.persistenceId(owner).id());
              return new CreatedKey(view, apiKey);
            });
  }

  /** The owner's keys in creation order; none when it never had one. */
  public CompletionStage<List<KeyRing.KeyView>> list(String owner) {
    return journaled
        .<KeyRing.Command, KeyRing.KeyList>askIfJournaled(
            ring(owner),
            KeyRing.persistenceId(owner).id(),
            () -> "no keys",
            KeyRing.ListKeys::new,
            askTimeout)
        .thenApply(KeyRing.KeyList::keys)
        .exceptionally(
            failure -> {
              if (dev.keel.persistence.Rejection.of(failure)
                  .filter(r -> r.kind() == dev.keel.persistence.Rejection.Kind.NOT_FOUND)
                  .isPresent()) return List.of();
              throw failure instanceof RuntimeException re
                  ? re
                  : new java.util.concurrent.CompletionException(failure);
            });
  }

  public CompletionStage<KeyRing.KeyView> revoke(String owner, String keyId) {
    if (!NamedKeys.isKeyId(keyId))
      return CompletableFuture.failedFuture(
          dev.keel.persistence.Rejection.notFoundFailure("no key '" + keyId + "'"));
    return journaled.askIfJournaled(
        ring(owner),
        KeyRing.persistenceId(owner).id(),
        () -> "no key '" + keyId + "'",
        r ->
            RequestScope.<KeyRing.Command>onBehalf(
                new KeyRing.RevokeKey(keyId, r), KeyRing.Traced::new),
        askTimeout);
  }

  /**
   * The role of a presented named key, or empty with why not; an owner without keys is answered
   * without waking an entity.
   */
  public CompletionStage<KeyRing.KeyCheck> check(NamedKeys.Parsed parsed, String presentedKey) {
    String hash = ApiKeys.hash(presentedKey);
    return journaled.ifJournaled(
        KeyRing.persistenceId(parsed.owner()).id(),
        () -> "unknown key",
        () ->
            ring(parsed.owner())
                .<KeyRing.KeyCheck>ask(
                    r -> new KeyRing.CheckKey(parsed.keyId(), hash, r), askTimeout));
  }
}
