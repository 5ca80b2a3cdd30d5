package dev.keel.persistence;

import java.util.function.Function;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.pattern.StatusReply;

/**
 * One sharded, journaled entity type, declared once by its own file: its sharding key, how audit
 * rebuilds its past states, and the command that snapshots one on demand. The node derives from the
 * one list of these what waits for readiness, what {@code GET /api/v1/cluster} counts, what audit
 * can replay and what can be snapshotted, so that no entity type is in one of those lists and
 * missing from another.
 */
public record EntityKind<C>(
    EntityTypeKey<C> key,
    EntityAudit<?, ?> audit,
    Function<ActorRef<StatusReply<Done>>, C> saveSnapshot) {

  public EntityKind {
    if (!key.name().equals(audit.entityType())) {
      throw new IllegalArgumentException(
          "entity type '" + key.name() + "' audited as '" + audit.entityType() + "'");
    }
  }

  public OnDemandSnapshots.Target<C> snapshots() {
    return new OnDemandSnapshots.Target<>(key, saveSnapshot);
  }
}
