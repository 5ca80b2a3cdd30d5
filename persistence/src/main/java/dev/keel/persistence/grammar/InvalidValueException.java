package dev.keel.persistence.grammar;

/** A value does not fit its grammar; the message says why, for the field's entry in a 400. */
public final class InvalidValueException extends IllegalArgumentException {

  public InvalidValueException(String message) {
    super(message);
  }
}
