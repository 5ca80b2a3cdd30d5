package dev.keel.tenant.lifecycle;

import dev.keel.tenant.TenantSettings;
import dev.keel.workflow.outbound.OutboundHttp;
import dev.keel.workflow.sdk.RetryPolicy;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/** One call of a lifecycle workflow step to a downstream service, and how such steps retry. */
final class DownstreamCall {

  private DownstreamCall() {}

  /**
   * Every failure is retried: a tenant stays in its state, with the failing step visible, until the
   * call succeeds.
   */
  static RetryPolicy retry(TenantSettings.DownstreamRetry retry) {
    return RetryPolicy.defaults()
        .withMaxAttempts(retry.maxAttempts())
        .withBackoff(retry.initialBackoff(), retry.maxBackoff(), 2.0)
        .withJitter(0.2);
  }

  /** Sends and answers the status; anything but a 2xx throws, so that the step retries. */
  static int send(
      OutboundHttp http,
      String method,
      URI url,
      String jsonBody,
      String idempotencyKey,
      TenantSettings.DownstreamRetry retry)
      throws IOException {
    OutboundHttp.Response response =
        http.send(
            new OutboundHttp.Request(
                method,
                url,
                Map.of("Content-Type", "application/json", "Idempotency-Key", idempotencyKey),
                jsonBody == null ? null : jsonBody.getBytes(StandardCharsets.UTF_8),
                retry.timeout()));
    // A deprovisioning DELETE of something already gone is done too.
    boolean done =
        response.status() / 100 == 2 || ("DELETE".equals(method) && response.status() == 404);
    if (!done) {
      throw new IOException(
          method
              + " "
              + url.getScheme()
              + "://"
              + url.getAuthority()
              + url.getPath()
              + " answered "
              + response.status());
    }
    return response.status();
  }

  /**
   * Waits for a call into Keel itself from inside a step (step bodies run on the runner's own
   * threads).
   */
  static <T> T await(CompletionStage<T> stage) throws Exception {
    try {
      return stage.toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      throw e.getCause() instanceof Exception cause ? cause : e;
    }
  }
}
