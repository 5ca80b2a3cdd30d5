package dev.keel.registry.alert;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import dev.keel.workflow.outbound.OutboundHttp;
import dev.keel.workflow.outbound.OutboundRefusedException;
import dev.keel.workflow.sdk.InputProblem;
import dev.keel.workflow.sdk.RetryPolicy;
import dev.keel.workflow.sdk.StepFailedException;
import dev.keel.workflow.sdk.Workflow;
import dev.keel.workflow.sdk.WorkflowContext;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Delivers one alert firing to a webhook: one durable step that POSTs the JSON {@code payload} to
 * {@code url} with {@code Content-Type: application/json} and {@code Idempotency-Key:
 * <idempotencyKey>} (the same on every attempt, so that a receiver that deduplicates sees one
 * delivery), until the receiver answers 2xx.
 *
 * <pre>{@code
 * POST /api/v1/workflows
 * {"workflow": "webhook-delivery", "id": "alert.disk-full.7",
 *  "input": {"url": "https://hooks.example.com/keel", "idempotencyKey": "alert.disk-full.7",
 *            "payload": {"alert": "disk-full", "service": "ingest-1", ...}}}
 * → output {"status": 204}
 * }</pre>
 *
 * <p>Any other outcome (a non-2xx answer, 4xx included, a timeout, a refused connection) is retried
 * with exponential backoff and jitter per {@link Settings}; once the attempts run out the execution
 * fails with {@link WebhookNotDeliveredException}. How many attempts a delivery took is the {@code
 * attempts} of its {@code deliver} step in the execution. Errors name the URL without its query,
 * user info or fragment, which may carry secrets. A delivery of a tenant's rule may reach only what
 * the outbound rule allows; a refused one fails at once, without retries.
 */
public final class WebhookDeliveryWorkflow
    implements Workflow<WebhookDeliveryWorkflow.Input, WebhookDeliveryWorkflow.Output> {

  public static final String NAME = "webhook-delivery";
  public static final String IDEMPOTENCY_KEY_HEADER = "Idempotency-Key";
  static final String STEP = "deliver";
  static final int MAX_URL_LENGTH = 2048;
  static final int MAX_KEY_LENGTH = 255;
  private static final int ERROR_BODY_CHARS = 200;

  /** What to deliver where; {@code payload} is sent as is. */
  public record Input(String url, JsonNode payload, String idempotencyKey) {}

  /** The receiver's 2xx status. */
  public record Output(int status) {}

  /**
   * Retry and timeout settings, from {@code keel.alerts.delivery}.
   *
   * @param maxAttempts attempts before the delivery gives up (the first one included)
   * @param initialBackoff wait after the first failed attempt
   * @param maxBackoff the longest wait between two attempts
   * @param multiplier growth of the wait per attempt
   * @param jitter spread of each wait, as a fraction (0 to 1)
   * @param requestTimeout how long one attempt waits for the receiver's answer
   */
  public record Settings(
      int maxAttempts,
      Duration initialBackoff,
      Duration maxBackoff,
      double multiplier,
      double jitter,
      Duration requestTimeout) {

    public Settings {
      if (maxAttempts < 1)
        throw new IllegalArgumentException("keel.alerts.delivery.max-attempts must be at least 1");
      if (requestTimeout == null || requestTimeout.isNegative() || requestTimeout.isZero()) {
        throw new IllegalArgumentException(
            "keel.alerts.delivery.request-timeout must be a positive duration");
      }
      try {
        new RetryPolicy(maxAttempts, initialBackoff, maxBackoff, multiplier, jitter, List.of());
      } catch (IllegalArgumentException | NullPointerException e) {
        throw new IllegalArgumentException("keel.alerts.delivery: " + e.getMessage(), e);
      }
    }

    /**
     * Reads {@code max-attempts}, {@code initial-backoff}, {@code max-backoff}, {@code multiplier},
     * {@code jitter}, {@code request-timeout}.
     */
    public static Settings fromConfig(Config keelAlertsDelivery) {
      return new Settings(
          keelAlertsDelivery.getInt("max-attempts"),
          keelAlertsDelivery.getDuration("initial-backoff"),
          keelAlertsDelivery.getDuration("max-backoff"),
          keelAlertsDelivery.getDouble("multiplier"),
          keelAlertsDelivery.getDouble("jitter"),
          keelAlertsDelivery.getDuration("request-timeout"));
    }

    RetryPolicy retryPolicy() {
      return new RetryPolicy(
          maxAttempts,
          initialBackoff,
          maxBackoff,
          multiplier,
          jitter,
          List.of(OutboundRefusedException.class));
    }
  }

  /**
   * One attempt that did not end in a 2xx: the receiver's status, or 0 when there was no answer.
   */
  public static final class DeliveryAttemptException extends IOException {
    private final int status;

    DeliveryAttemptException(int status, String message, Throwable cause) {
      super(message, cause);
      this.status = status;
    }

    public int status() {
      return status;
    }
  }

  /** Every attempt failed: the execution fails with this. */
  public static final class WebhookNotDeliveredException extends RuntimeException {
    WebhookNotDeliveredException(String message) {
      super(message);
    }
  }

  private static final ObjectMapper JSON = new ObjectMapper();

  private final OutboundHttp http;
  private final Settings settings;

  public WebhookDeliveryWorkflow(OutboundHttp http, Settings settings) {
    this.http = Objects.requireNonNull(http, "http");
    this.settings = Objects.requireNonNull(settings, "settings");
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String description() {
    return "Alert webhook: POSTs a JSON payload with an Idempotency-Key, retried with backoff until"
        + " a 2xx";
  }

  @Override
  public int version() {
    return 1;
  }

  @Override
  public Class<Input> inputType() {
    return Input.class;
  }

  @Override
  public Output run(WorkflowContext ctx, Input input) throws Exception {
    URI url = URI.create(input.url());
    String where = "POST " + withoutSecrets(url);
    byte[] body = JSON.writeValueAsBytes(input.payload());
    Map<String, String> headers =
        Map.of("Content-Type", "application/json", IDEMPOTENCY_KEY_HEADER, input.idempotencyKey());
    // A tenant's alert rule names the URL: the outbound rule holds for its deliveries.
    OutboundHttp.Requester requester =
        ctx.tenantId().isPresent()
            ? OutboundHttp.Requester.TENANT
            : OutboundHttp.Requester.OPERATOR;
    AtomicBoolean refused = new AtomicBoolean();
    try {
      return ctx.step(
          STEP,
          Output.class,
          settings.retryPolicy(),
          () -> {
            OutboundHttp.Response response;
            try {
              response =
                  send(
                      new OutboundHttp.Request(
                          "POST", url, headers, body, settings.requestTimeout(), requester),
                      where);
            } catch (OutboundRefusedException e) {
              refused.set(true);
              throw e;
            }
            int status = response.status();
            if (status >= 200 && status < 300) return new Output(status);
            throw new DeliveryAttemptException(
                status, where + " answered " + status + excerpt(response.body()), null);
          });
    } catch (StepFailedException e) {
      // A refusal is not retried: the execution fails at once with the refusal as its error.
      if (refused.get()) throw e;
      String last =
          e.getMessage()
              .replaceFirst("^step '" + STEP + "' failed: ", "")
              .replaceFirst("^" + DeliveryAttemptException.class.getSimpleName() + ": ", "");
      throw new WebhookNotDeliveredException(
          "gave up after " + settings.maxAttempts() + " attempts; last: " + last);
    }
  }

  private OutboundHttp.Response send(OutboundHttp.Request request, String where)
      throws IOException {
    try {
      return http.send(request);
    } catch (InterruptedIOException e) {
      throw e;
    } catch (OutboundRefusedException e) {
      throw new OutboundRefusedException(where + " refused: " + e.getMessage());
    } catch (HttpTimeoutException e) {
      throw new DeliveryAttemptException(
          0, where + " timed out after " + request.timeout().toMillis() + " ms", e);
    } catch (IOException e) {
      throw new DeliveryAttemptException(0, where + " failed: " + e, e);
    }
  }

  private static String excerpt(byte[] body) {
    if (body.length == 0) return "";
    String text = new String(body, StandardCharsets.UTF_8).strip();
    return ": "
        + (text.length() > ERROR_BODY_CHARS ? text.substring(0, ERROR_BODY_CHARS) + "…" : text);
  }

  /**
   * The URL as logs and errors may show it: scheme, host and port only; no user info, path, query
   * or fragment.
   */
  public static String withoutSecrets(URI url) {
    // Only scheme, host and port: a webhook's path can be its secret (Slack's
    // /services/T…/B…/<token>).
    boolean hasPath =
        url.getRawPath() != null && !url.getRawPath().isEmpty() && !url.getRawPath().equals("/");
    return url.getScheme()
        + "://"
        + url.getHost()
        + (url.getPort() == -1 ? "" : ":" + url.getPort())
        + (hasPath ? "/…" : "");
  }

  /**
   * Whether {@code text} is an absolute http or https URL with a host, of at most {@value
   * #MAX_URL_LENGTH} characters.
   */
  public static boolean isWebhookUrl(String text) {
    if (text == null || text.length() > MAX_URL_LENGTH) return false;
    try {
      URI url = new URI(text);
      String scheme = url.getScheme();
      return url.isAbsolute()
          && ("http".equalsIgnoreCase(scheme) || "https".equalsIgnoreCase(scheme))
          && url.getHost() != null
          && !url.getHost().isEmpty();
    } catch (URISyntaxException e) {
      return false;
    }
  }

  @Override
  public List<InputProblem> validate(Input input) {
    List<InputProblem> problems = new ArrayList<>();
    if (input == null) {
      problems.add(
          new InputProblem(
              "input",
              "required: {\"url\": \"https://...\", \"payload\": {...}, \"idempotencyKey\":"
                  + " \"...\"}"));
      return problems;
    }
    if (input.url() == null || input.url().isEmpty()) {
      problems.add(new InputProblem("url", "required"));
    } else if (!isWebhookUrl(input.url())) {
      problems.add(
          new InputProblem(
              "url",
              "must be an absolute http or https URL with a host, at most "
                  + MAX_URL_LENGTH
                  + " characters"));
    }
    if (input.payload() == null || input.payload().isMissingNode() || input.payload().isNull()) {
      problems.add(new InputProblem("payload", "required: the JSON to POST"));
    }
    String key = input.idempotencyKey();
    if (key == null || key.isEmpty()) {
      problems.add(new InputProblem("idempotencyKey", "required"));
    } else if (key.length() > MAX_KEY_LENGTH || key.chars().anyMatch(c -> c < 0x21 || c > 0x7e)) {
      problems.add(
          new InputProblem(
              "idempotencyKey", "must be 1 to " + MAX_KEY_LENGTH + " visible ASCII characters"));
    }
    return problems;
  }
}
