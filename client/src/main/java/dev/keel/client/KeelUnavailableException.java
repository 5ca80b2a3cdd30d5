package dev.keel.client;

import java.time.Duration;
import java.util.Optional;

/**
 * Keel could not be asked: the connection failed or timed out, or Keel answered 503 (not ready,
 * journal unreachable). Worth retrying later; {@link #retryAfter()} says when, if Keel said so.
 */
public final class KeelUnavailableException extends KeelException {

  private final int status;
  private final Duration retryAfter;

  KeelUnavailableException(String message, int status, Duration retryAfter, Throwable cause) {
    super(message, cause);
    this.status = status;
    this.retryAfter = retryAfter;
  }

  /** 503 when Keel answered, 0 when it could not be reached at all. */
  public int status() {
    return status;
  }

  /** Keel's {@code Retry-After}, when it answered 503 with one. */
  public Optional<Duration> retryAfter() {
    return Optional.ofNullable(retryAfter);
  }
}
