package dev.keel.persistence;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Any entity's history and its state as of a past instant, rebuilt by replaying its journal up to
 * that instant through the entity type's own event handler ({@link EntityAudit}).
 */
public final class AuditLog {

  /** An entity type this node does not know (404). */
  public static final class UnknownEntityTypeException extends IllegalArgumentException {
    public UnknownEntityTypeException(String type, java.util.Set<String> known) {
      super(
          "no entity type '"
              + type
              + "'; known: "
              + String.join(", ", new java.util.TreeSet<>(known)));
    }
  }

  /** What an entity was at an instant: its view, and the last event applied (0: none yet). */
  public record PastState(
      String entityType, String id, Instant asOf, long seq, Optional<Object> state) {}

  private final JournalReader journal;
  private final Map<String, EntityAudit<?, ?>> types;

  public AuditLog(JournalReader journal, List<EntityAudit<?, ?>> types) {
    this.journal = journal;
    this.types =
        types.stream()
            .collect(Collectors.toUnmodifiableMap(EntityAudit::entityType, Function.identity()));
  }

  public java.util.Set<String> entityTypes() {
    return types.keySet();
  }

  private EntityAudit<?, ?> type(String entityType) {
    EntityAudit<?, ?> audit = types.get(entityType);
    if (audit == null) throw new UnknownEntityTypeException(entityType, types.keySet());
    return audit;
  }

  /**
   * The journal of {@code entityType}/{@code id} with timestamps in [from, to] (either may be
   * null).
   *
   * @throws UnknownEntityTypeException at once, for a type this node does not know
   */
  public CompletionStage<List<JournalReader.JournalEntry>> events(
      String entityType, String id, Instant from, Instant to) {
    type(entityType);
    return journal
        .events(entityType + "|" + id, 0L, Long.MAX_VALUE)
        .thenApply(
            entries ->
                entries.stream()
                    .filter(
                        e ->
                            (from == null || !e.at().isBefore(from))
                                && (to == null || !e.at().isAfter(to)))
                    .toList());
  }

  /**
   * The entity as it was at {@code asOf}: every event journaled at or before it, in order, through
   * the type's own handler. Journal timestamps have millisecond precision, like the API's instants.
   *
   * @throws UnknownEntityTypeException at once, for a type this node does not know
   */
  public CompletionStage<PastState> stateAsOf(String entityType, String id, Instant asOf) {
    EntityAudit<?, ?> audit = type(entityType);
    return journal
        .events(entityType + "|" + id, 0L, Long.MAX_VALUE)
        .thenApply(entries -> replay(audit, id, asOf, entries));
  }

  private static <S, E> PastState replay(
      EntityAudit<S, E> audit, String id, Instant asOf, List<JournalReader.JournalEntry> entries) {
    S state = audit.emptyState();
    long seq = 0;
    for (JournalReader.JournalEntry e : entries) {
      if (e.at().isAfter(asOf)) break;
      state = audit.applyAny(state, e.event());
      seq = e.seq();
    }
    return new PastState(audit.entityType(), id, asOf, seq, audit.view().apply(id, state));
  }
}
