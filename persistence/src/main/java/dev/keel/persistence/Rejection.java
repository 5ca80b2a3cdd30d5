package dev.keel.persistence;

import java.util.Optional;
import org.apache.pekko.pattern.StatusReply;

/**
 * Why an entity refused a command. Carried as the text of a {@link StatusReply} error so that it
 * crosses nodes with Pekko's built-in serializer ({@code <kind>: <detail>}); façades turn it back
 * into a kind and routes into 404, 409 or 400.
 */
public record Rejection(Kind kind, String detail) {

  public enum Kind {
    NOT_FOUND,
    CONFLICT,
    INVALID,
    UNAVAILABLE;

    String code() {
      return name().toLowerCase();
    }
  }

  /** This rejection as a command's answer. */
  public <T> StatusReply<T> toReply() {
    return StatusReply.error(kind.code() + ": " + detail);
  }

  public static <T> StatusReply<T> notFound(String detail) {
    return StatusReply.error(Kind.NOT_FOUND.code() + ": " + detail);
  }

  public static <T> StatusReply<T> conflict(String detail) {
    return StatusReply.error(Kind.CONFLICT.code() + ": " + detail);
  }

  public static <T> StatusReply<T> invalid(String detail) {
    return StatusReply.error(Kind.INVALID.code() + ": " + detail);
  }

  public static <T> StatusReply<T> unavailable(String detail) {
    return StatusReply.error(Kind.UNAVAILABLE.code() + ": " + detail);
  }

  /**
   * A not-found rejection as the failure of an ask, for façades that know the answer without
   * asking.
   */
  public static RuntimeException notFoundFailure(String detail) {
    return new StatusReply.ErrorMessage(Kind.NOT_FOUND.code() + ": " + detail);
  }

  /** An invalid-request rejection as the failure of an ask, for façades that refuse at once. */
  public static RuntimeException invalidFailure(String detail) {
    return new StatusReply.ErrorMessage(Kind.INVALID.code() + ": " + detail);
  }

  /** The rejection inside a failed ask, if that is what the failure is. */
  public static Optional<Rejection> of(Throwable failure) {
    Throwable t = failure;
    while (t != null && !(t instanceof StatusReply.ErrorMessage)) {
      t = t.getCause();
    }
    if (t == null || t.getMessage() == null) return Optional.empty();
    String message = t.getMessage();
    for (Kind kind : Kind.values()) {
      String prefix = kind.code() + ": ";
      if (message.startsWith(prefix)) {
        return Optional.of(new Rejection(kind, message.substring(prefix.length())));
      }
    }
    return Optional.empty();
  }
}
