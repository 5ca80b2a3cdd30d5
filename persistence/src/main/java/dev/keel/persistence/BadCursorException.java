package dev.keel.persistence;

/** A list's {@code cursor} is not one a page handed out: the client's mistake (400). */
public final class BadCursorException extends IllegalArgumentException {
  public BadCursorException() {
    super("cursor is not one this server handed out");
  }
}
