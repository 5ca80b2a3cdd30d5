package dev.keel.persistence;

/**
 * An event that the entity's state cannot take: its command handler never persists it in that
 * state, so the journal and the code disagree. Every entity's event handler answers such an event
 * the same way, by failing its recovery with this, rather than by carrying on with a state that
 * silently differs from what the events say.
 */
public final class UnexpectedEvent extends IllegalStateException {

  public UnexpectedEvent(Object state, Object event) {
    super(
        "unexpected event "
            + event.getClass().getSimpleName()
            + " in state "
            + state.getClass().getSimpleName());
  }
}
