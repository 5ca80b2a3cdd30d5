package dev.keel.workflow.sdk;

import java.time.Duration;

/** Thrown by {@code ctx.awaitSignal} when no signal arrived within the timeout. */
public final class SignalTimeoutException extends RuntimeException {
  public SignalTimeoutException(String signalName, Duration timeout) {
    super("signal '" + signalName + "' did not arrive within " + timeout);
  }
}
