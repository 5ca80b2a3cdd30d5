package dev.keel.workflow.outbound;

import java.io.IOException;

/**
 * A request on a tenant's behalf that {@link OutboundRule} did not let connect. Sending it again
 * cannot help, so workflow steps list it as not retryable; its message is shown as the step's error
 * as it is, without a class name.
 */
public final class OutboundRefusedException extends IOException {

  public OutboundRefusedException(String message) {
    super(message);
  }
}
