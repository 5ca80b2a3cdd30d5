package dev.keel.workflow.builtin;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.keel.persistence.grammar.Durations;
import dev.keel.persistence.grammar.Ids;
import dev.keel.persistence.grammar.InvalidValueException;
import dev.keel.workflow.outbound.OutboundHttp;
import dev.keel.workflow.outbound.OutboundRefusedException;
import dev.keel.workflow.sdk.InputProblem;
import dev.keel.workflow.sdk.RetryPolicy;
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
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * A workflow defined in its input, with no Java: a sequence of HTTP calls, sleeps and waits for a
 * signal, run in order. Each step runs once per execution; its result is journaled like any step.
 *
 * <pre>{@code
 * POST /api/v1/workflows
 * {"workflow": "http-sequence", "id": "order-1234", "input": {"steps": [
 *   {"name": "charge", "request": {"method": "POST", "url": "https://billing.example.com/charges",
 *                                   "headers": {"X-Tenant": "acme"}, "body": {"amount": 42},
 *                                   "timeoutSeconds": 10},
 *                      "retry": {"maxAttempts": 5, "initialBackoff": "PT1S", "maxBackoff": "PT1M",
 *                                "multiplier": 2.0, "jitter": 0.2}},
 *   {"name": "cool-off", "sleep": "PT30S"},
 *   {"name": "approval", "signal": "approve", "timeout": "P3D"}]}}
 * → output {"charge":   {"status": 201, "body": {"id": "ch_1"}},
 *           "cool-off": {"slept": "PT30S"},
 *           "approval": {"signal": "approve", "payload": {"by": "ops"}}}
 * }</pre>
 *
 * <p><b>Request steps.</b> Every attempt sends the given headers plus {@code Idempotency-Key:
 * <workflowId>/<stepName>}, the same on every retry, so a server that deduplicates sees one logical
 * call (a definition may not set that header, nor the ones the HTTP client owns, such as {@code
 * Host}); {@code Content-Type: application/json} is added when there is a body and no {@code
 * Content-Type} header was given. {@code timeoutSeconds} (1 to 300, default {@value
 * #DEFAULT_TIMEOUT_SECONDS}) bounds each attempt. A 2xx answer completes the step with {@code
 * {"status", "body"}}, the body as JSON when it parses, as a JSON string when it does not, and null
 * when empty. Anything else fails the attempt: timeouts, connection errors, 5xx, 408, 429 and 3xx
 * are retried per {@code retry} ({@link RetryPolicy#defaults()} when absent, each absent field
 * taking its default); any other 4xx throws {@link RequestRejectedException}, which every step's
 * policy lists in {@link RetryPolicy#withNonRetryable}, so the step fails at once, as sending the
 * same request again cannot help. A step that fails for good fails the execution.
 *
 * <p><b>Sleep steps</b> are durable timers ({@code "sleep": "PT30S"}). <b>Signal steps</b> wait for
 * {@code POST /api/v1/workflows/{id}/signals/{signal}} and put its body in the output as {@code
 * payload}; when {@code timeout} passes first, the execution fails. Sleeps and timeouts are at most
 * {@link Durations#MAX_TIMER} (3650 days). Step names and signal names share one namespace within
 * an execution, so a signal may not be named like another step.
 *
 * <p>{@link #validate} lists every problem of a definition with its path ({@code steps[1].sleep})
 * before anything starts.
 */
public final class HttpSequenceWorkflow
    implements Workflow<HttpSequenceWorkflow.Input, ObjectNode> {

  public static final String NAME = "http-sequence";
  public static final String IDEMPOTENCY_KEY_HEADER = "Idempotency-Key";

  static final int DEFAULT_TIMEOUT_SECONDS = 30;
  static final int MAX_TIMEOUT_SECONDS = 300;
  static final int MAX_ATTEMPTS = 100;
  static final Duration MAX_BACKOFF = Duration.ofDays(1);
  static final double MAX_MULTIPLIER = 10.0;

  private static final Pattern NAME_PATTERN = Ids.PATTERN;
  private static final Pattern HEADER_NAME = Pattern.compile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$");
  private static final List<String> METHODS =
      List.of("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD");

  /** Headers the JDK client refuses to take from callers. */
  private static final Set<String> RESERVED_HEADERS =
      Set.of("connection", "content-length", "expect", "host", "upgrade");

  private static final int ERROR_BODY_CHARS = 200;
  private static final ObjectMapper JSON =
      JsonMapper.builder().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).build();

  /** The definition: the steps, run in order. */
  public record Input(List<Step> steps) {}

  /** One step: {@code name} and exactly one of {@code request}, {@code sleep}, {@code signal}. */
  public record Step(
      String name, Request request, Retry retry, String sleep, String signal, String timeout) {}

  /** An HTTP call; {@code body} is any JSON, sent as is. */
  public record Request(
      String method,
      String url,
      Map<String, String> headers,
      JsonNode body,
      Integer timeoutSeconds) {}

  /** Overrides of {@link RetryPolicy#defaults()}; durations in ISO-8601. */
  public record Retry(
      Integer maxAttempts,
      String initialBackoff,
      String maxBackoff,
      Double multiplier,
      Double jitter) {}

  /** The journaled result of a request step; {@code body} is null when the answer had none. */
  public record StepResult(int status, JsonNode body) {}

  /** A non-2xx answer worth another attempt: 5xx, 408, 429, 3xx. */
  public static class UnexpectedStatusException extends IOException {
    private final int status;

    public UnexpectedStatusException(int status, String message) {
      super(message);
      this.status = status;
    }

    public int status() {
      return status;
    }
  }

  /** A 4xx other than 408 and 429: the request itself is wrong, so the step is not retried. */
  public static final class RequestRejectedException extends UnexpectedStatusException {
    public RequestRejectedException(int status, String message) {
      super(status, message);
    }
  }

  private final OutboundHttp http;

  public HttpSequenceWorkflow(OutboundHttp http) {
    this.http = Objects.requireNonNull(http, "http");
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String description() {
    return "HTTP calls, sleeps and signal waits defined in the input, run in order with retries";
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
  public ObjectNode run(WorkflowContext ctx, Input input) throws Exception {
    ObjectNode output = JsonNodeFactory.instance.objectNode();
    for (Step step : input.steps()) {
      if (step.request() != null) {
        StepResult result = runRequest(ctx, step);
        ObjectNode node = output.putObject(step.name());
        node.put("status", result.status());
        node.set("body", result.body());
      } else if (step.sleep() != null) {
        ctx.sleep(step.name(), Duration.parse(step.sleep()));
        output.putObject(step.name()).put("slept", step.sleep());
      } else {
        JsonNode payload =
            ctx.awaitSignal(step.signal(), JsonNode.class, Duration.parse(step.timeout()));
        ObjectNode node = output.putObject(step.name());
        node.put("signal", step.signal());
        node.set("payload", payload);
      }
    }
    return output;
  }

  private StepResult runRequest(WorkflowContext ctx, Step step) throws JsonProcessingException {
    Request spec = step.request();
    URI url = URI.create(spec.url());
    String where = spec.method() + " " + withoutSecrets(url);
    byte[] body = isAbsent(spec.body()) ? null : JSON.writeValueAsBytes(spec.body());
    Duration timeout =
        Duration.ofSeconds(
            spec.timeoutSeconds() == null ? DEFAULT_TIMEOUT_SECONDS : spec.timeoutSeconds());
    // A tenant's definition says where Keel connects: the outbound rule holds for it.
    OutboundHttp.Requester requester =
        ctx.tenantId().isPresent()
            ? OutboundHttp.Requester.TENANT
            : OutboundHttp.Requester.OPERATOR;
    return ctx.step(
        step.name(),
        StepResult.class,
        retryPolicy(step.retry()),
        () -> {
          Map<String, String> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
          if (body != null) headers.put("Content-Type", "application/json");
          if (spec.headers() != null) headers.putAll(spec.headers());
          headers.put(IDEMPOTENCY_KEY_HEADER, ctx.idempotencyKey());
          OutboundHttp.Response response =
              send(
                  new OutboundHttp.Request(spec.method(), url, headers, body, timeout, requester),
                  where);
          int status = response.status();
          if (status >= 200 && status < 300)
            return new StepResult(status, parseBody(response.body()));
          String message = where + " answered " + status + excerpt(response.body());
          if (status >= 400 && status < 500 && status != 408 && status != 429) {
            throw new RequestRejectedException(status, message);
          }
          throw new UnexpectedStatusException(status, message);
        });
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
      HttpTimeoutException timedOut =
          new HttpTimeoutException(
              where
                  + " timed out after "
                  + request.timeout().toSeconds()
                  + " s ("
                  + e.getMessage()
                  + ")");
      timedOut.initCause(e);
      throw timedOut;
    } catch (IOException e) {
      throw new IOException(where + " failed: " + e, e);
    }
  }

  /**
   * The policy of a request step; absent fields keep their {@link RetryPolicy#defaults()} value.
   */
  static RetryPolicy retryPolicy(Retry retry) {
    RetryPolicy defaults = RetryPolicy.defaults();
    if (retry == null)
      return defaults.withNonRetryable(
          RequestRejectedException.class, OutboundRefusedException.class);
    Duration initial =
        retry.initialBackoff() == null
            ? defaults.initialBackoff()
            : Duration.parse(retry.initialBackoff());
    Duration max =
        retry.maxBackoff() == null
            ? later(defaults.maxBackoff(), initial)
            : Duration.parse(retry.maxBackoff());
    return new RetryPolicy(
        retry.maxAttempts() == null ? defaults.maxAttempts() : retry.maxAttempts(),
        initial,
        max,
        retry.multiplier() == null ? defaults.multiplier() : retry.multiplier(),
        retry.jitter() == null ? defaults.jitter() : retry.jitter(),
        List.of(RequestRejectedException.class, OutboundRefusedException.class));
  }

  private static JsonNode parseBody(byte[] body) {
    if (body.length == 0) return null;
    try {
      JsonNode parsed = JSON.readTree(body);
      if (parsed != null && !parsed.isMissingNode()) return parsed;
    } catch (IOException notJson) {
      // Not JSON: kept as text below.
    }
    return TextNode.valueOf(new String(body, StandardCharsets.UTF_8));
  }

  private static String excerpt(byte[] body) {
    if (body.length == 0) return "";
    String text = new String(body, StandardCharsets.UTF_8).strip();
    return ": "
        + (text.length() > ERROR_BODY_CHARS ? text.substring(0, ERROR_BODY_CHARS) + "…" : text);
  }

  /** The URL for error messages, without user info, query or fragment, which may carry secrets. */
  private static String withoutSecrets(URI url) {
    return url.getScheme()
        + "://"
        + url.getHost()
        + (url.getPort() == -1 ? "" : ":" + url.getPort())
        + (url.getRawPath() == null ? "" : url.getRawPath());
  }

  private static boolean isAbsent(JsonNode node) {
    return node == null || node.isNull() || node.isMissingNode();
  }

  private static Duration later(Duration a, Duration b) {
    return a.compareTo(b) >= 0 ? a : b;
  }

  // ---- validation --------------------------------------------------------------------------

  /** Every problem of the definition, each with its path relative to {@code input}. */
  @Override
  public List<InputProblem> validate(Input input) {
    List<InputProblem> problems = new ArrayList<>();
    if (input == null) {
      problems.add(new InputProblem("input", "required: {\"steps\": [...]}"));
      return problems;
    }
    if (input.steps() == null || input.steps().isEmpty()) {
      problems.add(new InputProblem("steps", "must list at least one step"));
      return problems;
    }
    List<Step> steps = input.steps();
    Map<String, Integer> stepNames = new HashMap<>();
    for (int i = 0; i < steps.size(); i++) {
      Step step = steps.get(i);
      String at = "steps[" + i + "]";
      if (step == null) {
        problems.add(new InputProblem(at, "must be an object"));
        continue;
      }
      String name = step.name();
      if (name == null || name.isEmpty()) {
        problems.add(new InputProblem(at + ".name", "required"));
      } else if (!NAME_PATTERN.matcher(name).matches()) {
        problems.add(new InputProblem(at + ".name", "must match " + NAME_PATTERN.pattern()));
      } else if (stepNames.containsKey(name)) {
        problems.add(
            new InputProblem(
                at + ".name",
                "'" + name + "' is already the name of steps[" + stepNames.get(name) + "]"));
      } else {
        stepNames.put(name, i);
      }
    }
    Map<String, Integer> signalNames = new HashMap<>();
    for (int i = 0; i < steps.size(); i++) {
      Step step = steps.get(i);
      if (step == null) continue;
      String at = "steps[" + i + "]";
      int kinds =
          (step.request() != null ? 1 : 0)
              + (step.sleep() != null ? 1 : 0)
              + (step.signal() != null ? 1 : 0);
      if (kinds != 1) {
        problems.add(
            new InputProblem(
                at,
                kinds == 0
                    ? "needs one of request, sleep, signal"
                    : "must have exactly one of request, sleep, signal"));
      }
      if (step.request() != null) validateRequest(at + ".request", step.request(), problems);
      if (step.retry() != null) {
        if (step.request() == null)
          problems.add(new InputProblem(at + ".retry", "only for a request step"));
        validateRetry(at + ".retry", step.retry(), problems);
      }
      if (step.sleep() != null)
        parseDuration(at + ".sleep", step.sleep(), Durations.MAX_TIMER, false, problems);
      if (step.signal() != null) {
        validateSignal(at, step, i, stepNames, signalNames, problems);
      } else if (step.timeout() != null) {
        problems.add(new InputProblem(at + ".timeout", "only for a signal step"));
      }
    }
    return problems;
  }

  /**
   * For a tenant's execution, also refuses a request step whose URL is an address the outbound rule
   * never lets a tenant reach ({@code http://127.0.0.1/}, {@code http://[::1]/}, {@code
   * http://0x7f000001/}), so that the start is a 400 rather than a step that fails later. Host
   * names are judged when the step connects.
   */
  @Override
  public List<InputProblem> validateStart(Input input, String tenantId) {
    List<InputProblem> problems = validate(input);
    if (tenantId == null || !problems.isEmpty()) return problems;
    for (int i = 0; i < input.steps().size(); i++) {
      Request request = input.steps().get(i).request();
      if (request == null) continue;
      String field = "steps[" + i + "].request.url";
      http.refusalOf(URI.create(request.url()), OutboundHttp.Requester.TENANT)
          .ifPresent(
              reason ->
                  problems.add(
                      new InputProblem(
                          field, "may not be reached from a tenant's workflow: " + reason)));
    }
    return problems;
  }

  private static void validateRequest(String at, Request request, List<InputProblem> problems) {
    if (request.method() == null || request.method().isEmpty()) {
      problems.add(
          new InputProblem(at + ".method", "required, one of " + String.join(", ", METHODS)));
    } else if (!METHODS.contains(request.method())) {
      problems.add(
          new InputProblem(at + ".method", "must be one of " + String.join(", ", METHODS)));
    }
    if (request.url() == null || request.url().isEmpty()) {
      problems.add(new InputProblem(at + ".url", "required"));
    } else if (!isHttpUrl(request.url())) {
      problems.add(
          new InputProblem(at + ".url", "must be an absolute http or https URL with a host"));
    }
    Integer timeout = request.timeoutSeconds();
    if (timeout != null && (timeout < 1 || timeout > MAX_TIMEOUT_SECONDS)) {
      problems.add(
          new InputProblem(at + ".timeoutSeconds", "must be between 1 and " + MAX_TIMEOUT_SECONDS));
    }
    if (request.headers() != null) {
      for (Map.Entry<String, String> header : request.headers().entrySet()) {
        String name = header.getKey();
        String field = at + ".headers." + name;
        if (!HEADER_NAME.matcher(name).matches()) {
          problems.add(new InputProblem(field, "not a valid header name"));
        } else if (RESERVED_HEADERS.contains(name.toLowerCase(Locale.ROOT))) {
          problems.add(new InputProblem(field, "set by the HTTP client, not by a definition"));
        } else if (name.equalsIgnoreCase(IDEMPOTENCY_KEY_HEADER)) {
          problems.add(new InputProblem(field, "set by Keel to <workflowId>/<stepName>"));
        }
        if (header.getValue() == null) {
          problems.add(new InputProblem(field, "must be a string"));
        } else if (header.getValue().chars().anyMatch(c -> (c < 0x20 && c != '\t') || c == 0x7f)) {
          problems.add(new InputProblem(field, "must not contain control characters"));
        }
      }
    }
  }

  private static boolean isHttpUrl(String text) {
    try {
      URI url = new URI(text);
      String scheme = url.getScheme();
      return url.isAbsolute()
          && ("http".equals(scheme) || "https".equals(scheme))
          && url.getHost() != null;
    } catch (URISyntaxException e) {
      return false;
    }
  }

  private static void validateRetry(String at, Retry retry, List<InputProblem> problems) {
    if (retry.maxAttempts() != null
        && (retry.maxAttempts() < 1 || retry.maxAttempts() > MAX_ATTEMPTS)) {
      problems.add(new InputProblem(at + ".maxAttempts", "must be between 1 and " + MAX_ATTEMPTS));
    }
    Duration initial =
        retry.initialBackoff() == null
            ? RetryPolicy.defaults().initialBackoff()
            : parseBackoff(at + ".initialBackoff", retry.initialBackoff(), problems);
    if (retry.maxBackoff() != null) {
      Duration max = parseBackoff(at + ".maxBackoff", retry.maxBackoff(), problems);
      if (max != null && initial != null && max.compareTo(initial) < 0) {
        problems.add(
            new InputProblem(
                at + ".maxBackoff", "must be at least initialBackoff (" + initial + ")"));
      }
    }
    Double multiplier = retry.multiplier();
    if (multiplier != null && !(multiplier >= 1.0 && multiplier <= MAX_MULTIPLIER)) {
      problems.add(new InputProblem(at + ".multiplier", "must be between 1 and " + MAX_MULTIPLIER));
    }
    Double jitter = retry.jitter();
    if (jitter != null && !(jitter >= 0.0 && jitter <= 1.0)) {
      problems.add(new InputProblem(at + ".jitter", "must be between 0 and 1"));
    }
  }

  private static Duration parseBackoff(String at, String text, List<InputProblem> problems) {
    return parseDuration(at, text, MAX_BACKOFF, false, problems);
  }

  private static void validateSignal(
      String at,
      Step step,
      int index,
      Map<String, Integer> stepNames,
      Map<String, Integer> signalNames,
      List<InputProblem> problems) {
    String signal = step.signal();
    if (!NAME_PATTERN.matcher(signal).matches()) {
      problems.add(new InputProblem(at + ".signal", "must match " + NAME_PATTERN.pattern()));
    } else if (signalNames.containsKey(signal)) {
      problems.add(
          new InputProblem(
              at + ".signal",
              "'" + signal + "' is already awaited by steps[" + signalNames.get(signal) + "]"));
    } else if (stepNames.containsKey(signal) && stepNames.get(signal) != index) {
      problems.add(
          new InputProblem(
              at + ".signal",
              "'"
                  + signal
                  + "' is the name of steps["
                  + stepNames.get(signal)
                  + "]; step and signal names share one namespace"));
    } else {
      signalNames.put(signal, index);
    }
    if (step.timeout() == null) {
      problems.add(new InputProblem(at + ".timeout", "required for a signal step, e.g. P3D"));
    } else {
      parseDuration(at + ".timeout", step.timeout(), Durations.MAX_TIMER, true, problems);
    }
  }

  /**
   * The duration, from zero ({@code positive}: above zero) to {@code max}, or null after adding the
   * problem.
   */
  private static Duration parseDuration(
      String at, String text, Duration max, boolean positive, List<InputProblem> problems) {
    try {
      return Durations.parse(text, max, positive);
    } catch (InvalidValueException e) {
      problems.add(new InputProblem(at, e.getMessage()));
      return null;
    }
  }
}
