package dev.keel.persistence;

import com.typesafe.config.Config;
import java.util.function.LongSupplier;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.SnapshotFailed;
import org.apache.pekko.persistence.typed.javadsl.EffectFactories;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One entity's snapshots: the policy of its type ({@code keel.snapshots.<type>.every} events, the
 * last two kept) and snapshots on demand ({@code POST /api/v1/admin/snapshots}).
 *
 * <p>Typed persistence has no "snapshot now": an entity answers its {@code SaveSnapshot} command by
 * persisting its own {@link Request} marker event (which changes no state), and {@link #requested}
 * makes {@code shouldSnapshot} take a snapshot right after it. Pekko runs a persist's side effects
 * only once the snapshot store has answered, so the reply built by {@link #save} goes out after the
 * snapshot is stored, and says whether it was.
 */
public final class EntitySnapshots {

  /** Implemented by each entity type's snapshot-requested event. */
  public interface Request {}

  private static final Logger log = LoggerFactory.getLogger(EntitySnapshots.class);
  private static final int KEEP = 2;

  private final PersistenceId persistenceId;
  private final int every;
  private long failedSeqNr = -1;
  private String failure;

  private EntitySnapshots(PersistenceId persistenceId, int every) {
    this.persistenceId = persistenceId;
    this.every = every;
  }

  /**
   * The snapshots of {@code persistenceId}, whose type's policy is in {@code system}'s
   * configuration.
   */
  public static EntitySnapshots of(
      ActorSystem<?> system, String entityType, PersistenceId persistenceId) {
    return new EntitySnapshots(
        persistenceId, EntityTypeSettings.get(system).snapshotEvery(entityType));
  }

  /**
   * {@code keel.snapshots.<entityType>.every}.
   *
   * @throws IllegalArgumentException naming the setting, when it is missing or below 1
   */
  public static int every(Config config, String entityType) {
    String path = "keel.snapshots." + entityType + ".every";
    if (!config.hasPath(path)) throw new IllegalArgumentException(path + " is not set");
    int every = config.getInt(path);
    if (every < 1) throw new IllegalArgumentException(path + " must be at least 1, got " + every);
    return every;
  }

  /**
   * A snapshot every {@code every} events; the last two are kept (events are never deleted: audit
   * reads them).
   */
  public RetentionCriteria retention() {
    return RetentionCriteria.snapshotEvery(every, KEEP);
  }

  /** For {@code shouldSnapshot}: a snapshot right after each on-demand request. */
  public static boolean requested(Object event) {
    return event instanceof Request;
  }

  /** For the {@link SnapshotFailed} signal, which comes before the persist's side effects. */
  public void failed(SnapshotFailed signal) {
    failedSeqNr = signal.metadata().sequenceNr();
    failure = String.valueOf(signal.getFailure().getMessage());
  }

  /**
   * Persists {@code marker} and replies once the snapshot after it is stored (or failed); an entity
   * that does not exist writes nothing and answers not found.
   *
   * @param lastSeqNr the entity's last sequence number, read when the reply is built (the marker's)
   */
  public <E, S> ReplyEffect<E, S> save(
      EffectFactories<E, S> effect,
      boolean exists,
      E marker,
      ActorRef<StatusReply<Done>> replyTo,
      LongSupplier lastSeqNr) {
    if (!exists) {
      return effect.reply(
          replyTo,
          Rejection.notFound(
              persistenceId.entityTypeHint()
                  + " '"
                  + persistenceId.entityId()
                  + "' does not exist"));
    }
    return effect.persist(marker).thenReply(replyTo, state -> outcome(lastSeqNr.getAsLong()));
  }

  private StatusReply<Done> outcome(long seqNr) {
    if (seqNr == failedSeqNr) {
      log.warn(
          "snapshot failed persistenceId={} seqNr={} reason={}",
          persistenceId.id(),
          seqNr,
          failure);
      return Rejection.unavailable(
          "the snapshot of " + persistenceId.id() + " was not saved: " + failure);
    }
    log.info("snapshot saved on demand persistenceId={} seqNr={}", persistenceId.id(), seqNr);
    return StatusReply.ack();
  }
}
