package dev.keel.client;

/**
 * A call to Keel did not succeed. Either Keel answered with an error ({@link KeelApiException}) or
 * it could not be reached or was not ready ({@link KeelUnavailableException}). Unchecked, so that
 * calls fit in lambdas; messages never contain the token.
 */
public abstract class KeelException extends RuntimeException {

  KeelException(String message, Throwable cause) {
    super(message, cause);
  }
}
