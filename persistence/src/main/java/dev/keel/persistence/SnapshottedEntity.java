package dev.keel.persistence;

import java.util.Set;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.SnapshotFailed;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * What every Keel entity does alike: its events carry its type's tag for the read models (the
 * snapshot marker, which changes nothing, carries none), it snapshots by its type's policy and on
 * demand ({@link EntitySnapshots}), and it may pick up its work again after recovery.
 */
public abstract class SnapshottedEntity<C, E, S> extends EventSourcedBehaviorWithEnforcedReplies<C, E, S> {

  protected final EntitySnapshots snapshots;
  // An entity's tag follows from its id and the journal's fixed tag count: computed once.
  private final Set<String> tags;

  protected SnapshottedEntity(ActorSystem<?> system, String entityType, String entityId, PersistenceId persistenceId) {
    super(persistenceId);
    this.snapshots = EntitySnapshots.of(system, entityType, persistenceId);
    this.tags = EventTags.tagSetFor(entityType, entityId, EventTags.tagCount(system));
  }

  @Override
  public final Set<String> tagsFor(E event) {
    return !EntitySnapshots.requested(event) && readSideRelevant(event) ? tags : Set.of();
  }

  /** Whether the read models of this type need {@code event}; every event by default. */
  protected boolean readSideRelevant(E event) {
    return true;
  }

  @Override
  public final RetentionCriteria retentionCriteria() {
    return snapshots.retention();
  }

  @Override
  public final boolean shouldSnapshot(S state, E event, long seqNr) {
    return EntitySnapshots.requested(event);
  }

  @Override
  public final SignalHandler<S> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(SnapshotFailed.class, (state, failed) -> snapshots.failed(failed))
        .onSignal(RecoveryCompleted.instance(), this::onRecovered)
        .build();
  }

  /** Runs once the journal is replayed, before the first command: re-arm timers, resume work. */
  protected void onRecovered(S state) {}
}
