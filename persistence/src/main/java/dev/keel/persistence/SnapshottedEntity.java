package dev.keel.persistence;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.SnapshotFailed;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * What every Keel entity does alike: its events carry its type's tag for the read models (the
 * snapshot marker, which changes nothing, carries none), it snapshots by its type's policy and on
 * demand ({@link EntitySnapshots}), it may pick up its work again after recovery, and what it logs
 * while handling a command sent on behalf of a request carries that request's id ({@link
 * RequestScope}). With traces on, such a command is handled in a span of its own, {@code "<entity
 * type> <Command>"}, under the sender's ({@link KeelTracing}).
 */
public abstract class SnapshottedEntity<C, E, S>
    extends EventSourcedBehaviorWithEnforcedReplies<C, E, S> {

  protected final EntitySnapshots snapshots;
  // An entity's tag follows from its id and the journal's fixed tag count: computed once.
  private final Set<String> tags;
  // The MDC fields (request, span) of the command being handled. A command's side effects (thenRun,
  // thenReply) run when the journal confirms its events, as another message; commands arriving
  // meanwhile are stashed, so until the next command is handled the side effects running are this
  // one's.
  private Map<String, String> requestInProgress = Map.of();
  private final String entityType;
  private final KeelTracing tracing;

  /**
   * Where this instance runs (see {@link EntityPlace}); every entity needs its context and timers.
   */
  protected final ActorContext<C> context;

  protected final TimerScheduler<C> timers;

  /** The shard that holds this instance, asked to passivate it; empty outside sharding. */
  protected final Optional<ActorRef<ClusterSharding.ShardCommand>> shard;

  protected SnapshottedEntity(
      EntityPlace<C> place, String entityType, PersistenceId persistenceId) {
    super(persistenceId);
    ActorSystem<?> system = place.context().getSystem();
    this.context = place.context();
    this.timers = place.timers();
    this.shard = place.shard();
    this.snapshots = EntitySnapshots.of(system, entityType, persistenceId);
    this.tags = EventTags.tagSetFor(entityType, place.entityId(), EventTags.tagCount(system));
    this.entityType = entityType;
    this.tracing = KeelTracing.get(system);
  }

  /**
   * Snapshots now, on {@code SaveSnapshot}: the marker event, then the answer once the snapshot is
   * stored.
   */
  protected final ReplyEffect<E, S> saveSnapshot(
      boolean exists, E marker, ActorRef<StatusReply<Done>> replyTo) {
    return snapshots.save(Effect(), exists, marker, replyTo, () -> lastSequenceNumber(context));
  }

  /** How this type handles its commands, unwrapped from {@link RequestScope.Traced}. */
  protected abstract CommandHandlerWithReply<C, E, S> commands();

  @Override
  @SuppressWarnings("unchecked")
  public final CommandHandlerWithReply<C, E, S> commandHandler() {
    CommandHandlerWithReply<C, E, S> handler = commands();
    return (state, command) -> {
      if (!(command instanceof RequestScope.Traced<?> traced)) {
        requestInProgress = Map.of();
        RequestScope.set(null);
        RequestScope.setSpan(SpanContext.getInvalid());
        return handler.apply(state, command);
      }
      C inner = (C) traced.command();
      RequestScope.set(traced.requestId());
      if (traced.traceParent() == null || !tracing.enabled()) {
        // Traces off here: the sender's span, if any, is passed on as it came.
        RequestScope.setSpan(
            TraceParent.parse(traced.traceParent()).orElse(SpanContext.getInvalid()));
        requestInProgress = RequestScope.fields();
        return handler.apply(state, inner);
      }
      Span span =
          tracing
              .child(entityType + " " + inner.getClass().getSimpleName(), traced.traceParent())
              .setAttribute("keel.entity.id", persistenceId().id())
              .startSpan();
      RequestScope.setSpan(span.getSpanContext());
      requestInProgress = RequestScope.fields();
      try {
        return handler.apply(state, inner);
      } finally {
        span.end();
      }
    };
  }

  /**
   * This entity as sharding should run it: every message it handles, the journal's confirmations
   * included, is handled with the request in progress in the MDC.
   */
  @SuppressWarnings({"unchecked", "rawtypes"})
  public final Behavior<C> inRequestScope() {
    // Object.class: the journal's replies are not commands, and they are what run side effects.
    Behavior<Object> any = (Behavior) this;
    return (Behavior) Behaviors.withMdc(Object.class, message -> requestInProgress, any);
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
