package dev.keel.registry.alert;

/**
 * An alert condition that does not parse. The message names the 1-based position and what was
 * expected there, e.g. {@code at 10: expected a number after '>' but found 'abc'}, and is meant to
 * be shown to the client as is.
 */
public final class InvalidConditionException extends IllegalArgumentException {

  private final int position;

  public InvalidConditionException(int position, String message) {
    super(position > 0 ? "at " + position + ": " + message : message);
    this.position = position;
  }

  /** 1-based character position of the problem; 0 when it concerns the whole text. */
  public int position() {
    return position;
  }
}
