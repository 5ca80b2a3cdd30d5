package dev.keel.persistence;

import java.util.Optional;
import java.util.function.BiFunction;

/**
 * How audit rebuilds one entity type's past state: its empty state, its own pure event handler (the
 * same function the live entity uses, never a second copy of the logic) and the view the API shows
 * for a state. Each entity module declares one; {@link AuditLog} folds journals through it.
 *
 * @param view the live resource's JSON shape for {@code (id, state)}; empty while the entity does
 *     not exist in that state (never created, or deleted)
 */
public record EntityAudit<S, E>(
    String entityType,
    Class<E> eventType,
    S emptyState,
    BiFunction<S, E, S> apply,
    BiFunction<String, S, Optional<Object>> view) {

  /** The state after {@code event}, which must be one of this entity type's events. */
  S applyAny(S state, Object event) {
    return apply.apply(state, eventType.cast(event));
  }
}
