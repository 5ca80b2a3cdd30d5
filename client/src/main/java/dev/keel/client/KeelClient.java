package dev.keel.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * A client of one Keel endpoint, for services that report to Keel and for programs that start
 * workflows. It speaks Keel's HTTP API v1 with the JDK's {@code HttpClient} and Jackson; it is
 * thread-safe, and one instance per process is enough.
 *
 * <p>A service that registers, heartbeats in the background and deregisters when it stops:
 *
 * <pre>{@code
 * try (KeelClient keel = KeelClient.builder()
 *     .endpoint("http://keel.internal:8080")   // or KEEL_ENDPOINT
 *     .token(System.getenv("KEEL_TOKEN"))
 *     .build()) {
 *   keel.register(ServiceInfo.builder("orders-api")
 *       .name("Orders API").type("processor").endpoint("http://10.0.0.5:8080")
 *       .metadata("version", "1.4.2").ttl(Duration.ofSeconds(30))
 *       .build());
 *   keel.startHeartbeats(Duration.ofSeconds(10),
 *       () -> Map.of("queue_depth", (double) queue.size()),
 *       () -> database.isValid(1) ? HealthCheck.healthy() : HealthCheck.of(HealthStatus.DEGRADED));
 *   runTheService();
 * } // close(): stops the heartbeats and deregisters orders-api
 * }</pre>
 *
 * <p>A program that starts a workflow and waits for its result:
 *
 * <pre>{@code
 * try (KeelClient keel = KeelClient.fromEnvironment()) {
 *   WorkflowExecution started =
 *       keel.startWorkflow("example", "signup-u-1", Map.of("userId", "u-1", "action", "signup"));
 *   WorkflowExecution done = keel.awaitWorkflow(started.id(), Duration.ofSeconds(30));
 *   if (done.isCompleted()) System.out.println(done.output().get("summary").asText());
 * }
 * }</pre>
 *
 * <p>Configuration: the builder starts from the environment, and what you set wins: {@code
 * KEEL_ENDPOINT} (default {@code http://127.0.0.1:8080}), {@code KEEL_TOKEN}, {@code
 * KEEL_SERVICE_ID} (the id of this process's service when a {@link ServiceInfo} has none) and
 * {@code KEEL_HEARTBEAT_INTERVAL} (ISO-8601 like {@code PT10S}, or whole seconds; default 10 s).
 *
 * <p>Errors: every call throws {@link KeelApiException} when Keel answers with an error (4xx, with
 * the problem document's fields) and {@link KeelUnavailableException} when Keel cannot be reached
 * or answers 503. Neither message ever contains the token.
 *
 * <p>Heartbeats ({@link #startHeartbeats}) run on one daemon thread named {@code
 * keel-heartbeat-<service id>}. It registers the service again when Keel answers 404 (it was
 * deregistered, automatically or by hand), keeps going with exponential backoff and jitter (capped
 * at the interval) while Keel is down or not ready, and logs one line through {@link System.Logger}
 * (logger {@code dev.keel.client}) whenever its state changes, not per beat.
 */
public final class KeelClient implements AutoCloseable {

  static final String DEFAULT_ENDPOINT = "http://127.0.0.1:8080";
  static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);
  static final Duration DEFAULT_HEARTBEAT_INTERVAL = Duration.ofSeconds(10);

  /** Keel's longest long poll (API.md); longer waits are several polls. */
  static final Duration MAX_LONG_POLL = Duration.ofSeconds(60);

  private static final Duration CLOSE_BOUND = Duration.ofSeconds(5);
  private static final int PAGE = 500;

  /** The ids a client chooses (the API's contract); the client checks them before sending. */
  public static final Pattern ID = Pattern.compile("^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$");

  static final System.Logger LOG = System.getLogger("dev.keel.client");

  private final KeelHttp http;
  private final String defaultServiceId;
  private final Duration heartbeatInterval;
  private final boolean deregisterOnClose;

  /** This client's own service: the last one given to {@link #register}. */
  private final AtomicReference<ServiceInfo> ownService = new AtomicReference<>();

  /** Keel knows the own service (the last registration succeeded and no 404 came since). */
  private volatile boolean ownRegistered;

  private volatile boolean everRegistered;
  private final AtomicBoolean closed = new AtomicBoolean();
  private HeartbeatLoop heartbeats; // guarded by this

  private KeelClient(Builder b, URI endpoint, Duration interval) {
    this.http = new KeelHttp(endpoint, b.token, b.timeout, b.tls);
    this.defaultServiceId = blankToNull(b.serviceId);
    this.heartbeatInterval = interval;
    this.deregisterOnClose = b.deregisterOnClose;
  }

  /** A builder that starts from the {@code KEEL_*} environment variables. */
  public static Builder builder() {
    return new Builder(System::getenv);
  }

  /** A builder that reads its defaults from {@code environment} instead of the process's. */
  static Builder builder(Function<String, String> environment) {
    return new Builder(environment);
  }

  /**
   * A client configured from {@code KEEL_ENDPOINT}, {@code KEEL_TOKEN}, {@code KEEL_SERVICE_ID},
   * {@code KEEL_HEARTBEAT_INTERVAL} and the {@code KEEL_TLS_*} variables ({@link KeelTls}).
   */
  public static KeelClient fromEnvironment() {
    return builder().build();
  }

  /** The Keel endpoint this client talks to. */
  public URI endpoint() {
    return http.endpoint();
  }

  /** This client's service id: the registered service's, else {@code KEEL_SERVICE_ID}'s. */
  public Optional<String> serviceId() {
    ServiceInfo own = ownService.get();
    return Optional.ofNullable(own != null ? own.id() : defaultServiceId);
  }

  // ================================================================ registry

  /**
   * Registers {@code info} (or updates its registration) and makes it this client's service: the
   * one {@link #heartbeat(HealthStatus, Map, Map)}, {@link #startHeartbeats} and {@link #close()}
   * are about. The service is remembered before Keel is asked, so that when Keel is down you may
   * catch the {@link KeelUnavailableException} and still {@link #startHeartbeats}: the loop
   * registers once Keel answers.
   *
   * @return the service as Keel now knows it
   */
  public ServiceView register(ServiceInfo info) {
    ensureOpen();
    return registerOwn(info);
  }

  private ServiceView registerOwn(ServiceInfo info) {
    Objects.requireNonNull(info, "info");
    ServiceInfo resolved = info.id() != null ? info : info.withId(defaultServiceId);
    if (resolved.id() == null) {
      throw new IllegalArgumentException(
          "the ServiceInfo has no id and KEEL_SERVICE_ID is not set");
    }
    requireId("service id", resolved.id());
    ServiceInfo previous = ownService.getAndSet(resolved);
    if (previous == null || !previous.id().equals(resolved.id())) ownRegistered = false;
    ServiceView view = putService(resolved);
    if (resolved.equals(ownService.get())) {
      ownRegistered = true;
      everRegistered = true;
    }
    return view;
  }

  private ServiceView putService(ServiceInfo info) {
    ObjectNode body = KeelJson.MAPPER.createObjectNode();
    putIfSet(body, "name", info.name());
    putIfSet(body, "type", info.type());
    putIfSet(body, "endpoint", info.endpoint());
    ObjectNode metadata = body.putObject("metadata");
    info.metadata().forEach(metadata::put);
    if (info.ttlSeconds() != null) body.put("ttlSeconds", info.ttlSeconds());
    if (info.deregisterAfterSeconds() != null)
      body.put("deregisterAfterSeconds", info.deregisterAfterSeconds());
    return http.read(
        http.call("PUT", KeelHttp.path("services", info.id()), body), ServiceView.class);
  }

  /**
   * One heartbeat for this client's service. Throws {@link KeelApiException} with status 404 when
   * Keel does not know the service (register it first, or again).
   *
   * @param metrics numbers by name; non-finite values are left out (JSON has no NaN); null for none
   * @param details free key/value pairs; null for none
   */
  public HeartbeatAck heartbeat(
      HealthStatus status, Map<String, Double> metrics, Map<String, String> details) {
    return heartbeat(requireOwnServiceId(), status, metrics, details);
  }

  /** One heartbeat for any service, for programs that report for several. */
  public HeartbeatAck heartbeat(
      String serviceId,
      HealthStatus status,
      Map<String, Double> metrics,
      Map<String, String> details) {
    ensureOpen();
    return sendHeartbeat(serviceId, status, metrics, details);
  }

  HeartbeatAck sendHeartbeat(
      String serviceId,
      HealthStatus status,
      Map<String, Double> metrics,
      Map<String, String> details) {
    requireId("service id", serviceId);
    ObjectNode body = KeelJson.MAPPER.createObjectNode();
    body.put("status", (status == null ? HealthStatus.HEALTHY : status).wire());
    ObjectNode m = body.putObject("metrics");
    if (metrics != null) {
      metrics.forEach(
          (name, value) -> {
            if (name != null && value != null && Double.isFinite(value)) m.put(name, value);
          });
    }
    ObjectNode d = body.putObject("details");
    if (details != null) {
      details.forEach(
          (k, v) -> {
            if (k != null && v != null) d.put(k, v);
          });
    }
    return http.read(
        http.call("POST", KeelHttp.path("services", serviceId, "heartbeat"), body),
        HeartbeatAck.class);
  }

  /**
   * Starts heartbeating this client's service every {@code interval} on a daemon thread, until
   * {@link #stopHeartbeats()} or {@link #close()}. Before each beat it asks {@code checker} for the
   * status and {@code metrics} for the numbers; if either throws, that beat reports {@code
   * unhealthy} with the exception's message in the details. See the class comment for what the loop
   * does when Keel forgets the service or is down.
   *
   * @param metrics null for none
   * @param checker null for always healthy
   * @throws IllegalStateException when heartbeats already run, or there is no service to beat for
   *     (no {@link #register} and no {@code KEEL_SERVICE_ID})
   */
  public synchronized void startHeartbeats(
      Duration interval, MetricsProvider metrics, HealthChecker checker) {
    ensureOpen();
    Objects.requireNonNull(interval, "interval");
    if (interval.isNegative() || interval.isZero())
      throw new IllegalArgumentException("interval must be positive, got " + interval);
    if (heartbeats != null)
      throw new IllegalStateException("heartbeats already run for " + heartbeats.serviceId());
    String id = requireOwnServiceId();
    heartbeats =
        new HeartbeatLoop(
            this,
            id,
            interval,
            metrics == null ? MetricsProvider.none() : metrics,
            checker == null ? HealthChecker.alwaysHealthy() : checker);
    heartbeats.start();
  }

  /**
   * {@link #startHeartbeats(Duration, MetricsProvider, HealthChecker)} at the configured interval
   * ({@code KEEL_HEARTBEAT_INTERVAL}, default 10 s).
   */
  public void startHeartbeats(MetricsProvider metrics, HealthChecker checker) {
    startHeartbeats(heartbeatInterval, metrics, checker);
  }

  /**
   * Stops the heartbeat loop, if it runs, waiting a few seconds at most; the service stays
   * registered.
   */
  public void stopHeartbeats() {
    HeartbeatLoop loop;
    synchronized (this) {
      loop = heartbeats;
      heartbeats = null;
    }
    if (loop != null) loop.stop(CLOSE_BOUND);
  }

  /**
   * Whether the heartbeat loop runs (it runs from {@link #startHeartbeats} to {@link
   * #stopHeartbeats} or {@link #close}).
   */
  public synchronized boolean heartbeating() {
    return heartbeats != null;
  }

  /** The heartbeat thread, while heartbeats run (for tests). */
  synchronized Optional<Thread> heartbeatThread() {
    return heartbeats == null ? Optional.empty() : Optional.of(heartbeats.thread());
  }

  /**
   * One service with the metrics and details of its last heartbeat; {@link KeelApiException} 404
   * when unknown.
   */
  public ServiceView getService(String id) {
    ensureOpen();
    requireId("service id", id);
    return http.read(http.call("GET", KeelHttp.path("services", id), null), ServiceView.class);
  }

  /**
   * {@code GET /api/v1/services/{id}/health}: the service's status whether healthy or not (Keel
   * answers 503 for not healthy; that is not an error here). {@link KeelApiException} 404 when
   * unknown.
   */
  public ServiceHealth health(String id) {
    ensureOpen();
    requireId("service id", id);
    KeelHttp.Answer answer =
        http.exchange("GET", KeelHttp.path("services", id, "health"), null, http.timeout());
    if (answer.status() == 503) {
      JsonNode body = http.json(answer);
      // A health body has a status word; a problem (node not ready) has a status number.
      if (body != null && body.path("status").isTextual())
        return http.read(body, ServiceHealth.class);
    }
    if (answer.status() >= 300) throw http.failure(answer);
    return http.read(http.json(answer), ServiceHealth.class);
  }

  /**
   * All services, page after page, optionally of one {@code type} and one {@code status} (null:
   * any).
   */
  public List<ServiceSummary> listServices(String type, ServiceStatus status) {
    return listServices(type, status, Map.of());
  }

  /**
   * As {@link #listServices(String, ServiceStatus)}, also only those whose metadata has every entry
   * of {@code metadata}.
   */
  public List<ServiceSummary> listServices(
      String type, ServiceStatus status, Map<String, String> metadata) {
    ensureOpen();
    Map<String, Object> params = new LinkedHashMap<>();
    params.put("type", blankToNull(type));
    params.put("status", status == null ? null : status.wire());
    if (metadata != null && !metadata.isEmpty()) {
      params.put(
          "metadata",
          metadata.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList());
    }
    return pages(KeelHttp.path("services"), params, ServiceSummary.class);
  }

  /**
   * Deregisters a service; Keel forgets it. When it is this client's service, close() will not
   * deregister it again.
   */
  public void deregister(String id) {
    ensureOpen();
    requireId("service id", id);
    ServiceInfo own = ownService.get();
    if (own != null && own.id().equals(id)) {
      ownService.compareAndSet(own, null);
      ownRegistered = false;
    }
    http.call("DELETE", KeelHttp.path("services", id), null);
  }

  // ================================================================ alerts

  /**
   * Creates or replaces the alert rule {@code id}; a condition that does not parse is a 400 naming
   * {@code condition}.
   */
  public Alert putAlert(String id, AlertRule rule) {
    ensureOpen();
    requireId("alert id", id);
    Objects.requireNonNull(rule, "rule");
    ObjectNode body = KeelJson.MAPPER.createObjectNode();
    putIfSet(body, "service", rule.service());
    putIfSet(body, "condition", rule.condition());
    putIfSet(body, "webhook", rule.webhook());
    if (rule.cooldownSeconds() != null) body.put("cooldownSeconds", rule.cooldownSeconds());
    return http.read(http.call("PUT", KeelHttp.path("alerts", id), body), Alert.class);
  }

  public Alert getAlert(String id) {
    ensureOpen();
    requireId("alert id", id);
    return http.read(http.call("GET", KeelHttp.path("alerts", id), null), Alert.class);
  }

  /** All alert rules, page after page. */
  public List<Alert> listAlerts() {
    ensureOpen();
    return pages(KeelHttp.path("alerts"), new LinkedHashMap<>(), Alert.class);
  }

  public void deleteAlert(String id) {
    ensureOpen();
    requireId("alert id", id);
    http.call("DELETE", KeelHttp.path("alerts", id), null);
  }

  // ================================================================ workflows

  /**
   * Starts {@code workflow} with {@code input} (anything Jackson writes: a record, a map, a {@code
   * JsonNode}). With an {@code id}, starting again with the same content is safe and answers the
   * same execution; another content with that id is a 409. Without one, Keel chooses the id.
   */
  public WorkflowExecution startWorkflow(String workflow, String id, Object input) {
    return start(workflow, id, input, Duration.ZERO);
  }

  /**
   * Starts {@code workflow} and waits up to {@code wait} for it to be final, in one request while
   * the wait is within Keel's limit (60 s; longer waits go on polling), and answers the execution
   * as it is then (check {@link WorkflowExecution#isFinal()}). Starting is as safe to repeat as
   * {@link #startWorkflow}: give an {@code id} to retry after a timeout.
   */
  public WorkflowExecution runWorkflow(String workflow, String id, Object input, Duration wait) {
    Objects.requireNonNull(wait, "wait");
    Instant deadline = Instant.now().plus(wait);
    WorkflowExecution execution = start(workflow, id, input, wait);
    Duration left = Duration.between(Instant.now(), deadline);
    if (execution.isFinal() || left.isNegative() || left.isZero()) return execution;
    return awaitWorkflow(execution.id(), left);
  }

  private WorkflowExecution start(String workflow, String id, Object input, Duration wait) {
    ensureOpen();
    Objects.requireNonNull(workflow, "workflow");
    if (id != null) requireId("workflow id", id);
    ObjectNode body = KeelJson.MAPPER.createObjectNode();
    body.put("workflow", workflow);
    if (id != null) body.put("id", id);
    body.set("input", KeelJson.MAPPER.valueToTree(input));
    Duration poll = longPollOf(wait);
    String path =
        KeelHttp.path("workflows")
            + (poll.isZero() ? "" : KeelHttp.query(Map.of("wait", poll.toString())));
    return http.read(
        http.call("POST", path, body, http.timeout().plus(poll)), WorkflowExecution.class);
  }

  /**
   * One long poll's share of {@code wait}: at most Keel's limit, in whole milliseconds (Keel reads
   * an ISO-8601 duration).
   */
  private static Duration longPollOf(Duration wait) {
    Duration poll = wait.compareTo(MAX_LONG_POLL) > 0 ? MAX_LONG_POLL : wait;
    return Duration.ofMillis(Math.max(0, poll.toMillis()));
  }

  public WorkflowExecution getWorkflow(String id) {
    ensureOpen();
    requireId("workflow id", id);
    return http.read(
        http.call("GET", KeelHttp.path("workflows", id), null), WorkflowExecution.class);
  }

  /**
   * Waits up to {@code wait} for the execution to be {@code completed}, {@code failed} or {@code
   * cancelled} with Keel's long poll, and answers it as it is then (check {@link
   * WorkflowExecution#isFinal()}). Waits longer than Keel's limit (60 s) are several polls.
   */
  public WorkflowExecution awaitWorkflow(String id, Duration wait) {
    ensureOpen();
    requireId("workflow id", id);
    Objects.requireNonNull(wait, "wait");
    Instant deadline = Instant.now().plus(wait);
    Duration left = wait;
    while (true) {
      Duration poll = longPollOf(left);
      String path =
          KeelHttp.path("workflows", id)
              + (poll.isZero() ? "" : KeelHttp.query(Map.of("wait", poll.toString())));
      WorkflowExecution execution =
          http.read(
              http.call("GET", path, null, http.timeout().plus(poll)), WorkflowExecution.class);
      left = Duration.between(Instant.now(), deadline);
      if (execution.isFinal() || left.isNegative() || left.isZero()) return execution;
    }
  }

  /**
   * One page of executions under {@code filter}, newest first; pass the page's {@code nextCursor}
   * for the next. {@code limit}: 1 to 500. A tenant's token lists only its own.
   */
  public WorkflowPage listWorkflows(WorkflowFilter filter, int limit, String cursor) {
    ensureOpen();
    Map<String, Object> params = new LinkedHashMap<>(filter == null ? Map.of() : filter.query());
    params.put("limit", limit);
    params.put("cursor", blankToNull(cursor));
    return http.read(
        http.call("GET", KeelHttp.path("workflows") + KeelHttp.query(params), null),
        WorkflowPage.class);
  }

  /** Every execution under {@code filter}, page after page, newest first. */
  public List<WorkflowSummary> listWorkflows(WorkflowFilter filter) {
    ensureOpen();
    return pages(
        KeelHttp.path("workflows"),
        new LinkedHashMap<>(filter == null ? Map.of() : filter.query()),
        WorkflowSummary.class);
  }

  /**
   * Sends signal {@code name} with {@code payload} (anything Jackson writes; null for none): handed
   * to the execution when it waits for it, kept until then.
   */
  public void signalWorkflow(String id, String name, Object payload) {
    ensureOpen();
    requireId("workflow id", id);
    requireId("signal name", name);
    http.call(
        "POST",
        KeelHttp.path("workflows", id, "signals", name),
        payload == null ? null : KeelJson.MAPPER.valueToTree(payload));
  }

  /** Cancels a running execution; {@code reason} (null: none) becomes its error. */
  public WorkflowExecution cancelWorkflow(String id, String reason) {
    return action(id, "cancel", reason);
  }

  /** Starts no new step of the execution until {@link #resumeWorkflow}. */
  public WorkflowExecution pauseWorkflow(String id) {
    return action(id, "pause", null);
  }

  public WorkflowExecution resumeWorkflow(String id) {
    return action(id, "resume", null);
  }

  /**
   * Takes a {@code failed} or {@code cancelled} execution back to running from the call it ended
   * on; completed steps are not run again. Any other status is a 409 ({@link KeelApiException}).
   */
  public WorkflowExecution retryWorkflow(String id, String reason) {
    return action(id, "retry", reason);
  }

  /**
   * Starts a new execution ({@code newId}, null: Keel chooses) from step {@code fromStep} of
   * execution {@code id}: the steps before it copied, the rest run again. A step the execution
   * never reached is a 400 naming {@code fromStep}.
   */
  public WorkflowExecution rerunWorkflow(String id, String fromStep, String newId) {
    ensureOpen();
    requireId("workflow id", id);
    Objects.requireNonNull(fromStep, "fromStep");
    if (newId != null) requireId("new workflow id", newId);
    ObjectNode body = KeelJson.MAPPER.createObjectNode();
    body.put("fromStep", fromStep);
    putIfSet(body, "id", newId);
    return http.read(
        http.call("POST", KeelHttp.path("workflows", id, "rerun"), body), WorkflowExecution.class);
  }

  /**
   * Cancels, retries, pauses or resumes ({@code action}) every execution {@code filter} matches, as
   * a durable bulk operation: answers its execution, whose id is the operation's and whose output
   * (once completed) counts {@code matched}, {@code done} and {@code failed}.
   */
  public WorkflowExecution bulkWorkflows(String action, WorkflowFilter filter, String reason) {
    ensureOpen();
    requireId("bulk action", action);
    ObjectNode body = KeelJson.MAPPER.createObjectNode();
    body.set(
        "filter", KeelJson.MAPPER.valueToTree(filter == null ? Map.of() : filter.bulkFilter()));
    putIfSet(body, "reason", reason);
    return http.read(
        http.call("POST", KeelHttp.path("workflows", "bulk", action), body),
        WorkflowExecution.class);
  }

  /** The execution's journaled events, oldest first: {@code [{"seq", "at", "type", "data"}]}. */
  public JsonNode workflowHistory(String id) {
    ensureOpen();
    requireId("workflow id", id);
    return http.call("GET", KeelHttp.path("workflows", id, "history"), null);
  }

  private WorkflowExecution action(String id, String action, String reason) {
    ensureOpen();
    requireId("workflow id", id);
    ObjectNode body = null;
    if (reason != null) {
      body = KeelJson.MAPPER.createObjectNode();
      body.put("reason", reason);
    }
    return http.read(
        http.call("POST", KeelHttp.path("workflows", id, action), body), WorkflowExecution.class);
  }

  // ================================================================ keys

  /** Named API keys of a tenant or of the cluster: list, create (the secret shown once), revoke. */
  public ApiKeys keys() {
    return new ApiKeys(http, this::ensureOpen);
  }

  // ================================================================ anything else

  /**
   * Any GET of the API as a JSON tree, such as {@code getJson("/api/v1/services/orders-api")}: for
   * fields and routes this client does not model (yet). Errors throw as everywhere else.
   */
  public JsonNode getJson(String pathAndQuery) {
    ensureOpen();
    if (!pathAndQuery.startsWith("/"))
      throw new IllegalArgumentException("the path must start with /: " + pathAndQuery);
    return http.call("GET", pathAndQuery, null);
  }

  /**
   * Watches the registry's changes: {@code filter} takes the query parameters of {@code GET
   * /api/v1/services/events} ({@code type}, {@code kinds}, {@code metadata} as {@code key=value},
   * {@code tenantId}); {@code afterEventId} resumes after that change (null: from now on). The
   * listener runs on the watch's own thread; close the watch to stop.
   */
  public ServiceWatch watchServices(
      Map<String, String> filter, Long afterEventId, ServiceWatch.Listener listener) {
    ensureOpen();
    return new ServiceWatch(
        http,
        KeelHttp.path("services", "events") + (filter == null ? "" : KeelHttp.query(filter)),
        afterEventId,
        listener);
  }

  // ================================================================ closing

  /**
   * Stops the heartbeat loop and deregisters this client's service (when it registered one and
   * {@link Builder#deregisterOnClose} is on). Best effort within a few seconds: a Keel that does
   * not answer is logged, not thrown. Idempotent; afterwards every call throws {@link
   * IllegalStateException}.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) return;
    stopHeartbeats();
    ServiceInfo own = ownService.getAndSet(null);
    if (deregisterOnClose && own != null && everRegistered) {
      Duration bound = http.timeout().compareTo(CLOSE_BOUND) < 0 ? http.timeout() : CLOSE_BOUND;
      try {
        http.call("DELETE", KeelHttp.path("services", own.id()), null, bound);
        LOG.log(
            System.Logger.Level.INFO,
            () -> "deregistered service '" + own.id() + "' from Keel at " + endpoint());
      } catch (KeelApiException e) {
        if (e.status() != 404) {
          LOG.log(
              System.Logger.Level.WARNING,
              () -> "could not deregister service '" + own.id() + "': " + e.getMessage());
        }
      } catch (KeelException e) {
        LOG.log(
            System.Logger.Level.WARNING,
            () -> "could not deregister service '" + own.id() + "': " + e.getMessage());
      }
    }
  }

  // ================================================================ for the heartbeat loop

  /**
   * Whether the loop must register {@code id} before it beats: it is the own service and Keel does
   * not know it.
   */
  boolean needsRegistration(String id) {
    ServiceInfo own = ownService.get();
    return own != null && own.id().equals(id) && !ownRegistered;
  }

  /** Whether the loop has a {@link ServiceInfo} to register {@code id} with. */
  boolean canRegister(String id) {
    ServiceInfo own = ownService.get();
    return own != null && own.id().equals(id);
  }

  /** Keel answered 404 for the own service: the next beat registers it first. */
  void forgotten(String id) {
    ServiceInfo own = ownService.get();
    if (own != null && own.id().equals(id)) ownRegistered = false;
  }

  /** Registers the own service again, as it was last given to {@link #register}. */
  void registerAgain() {
    ServiceInfo own = ownService.get();
    if (own != null) registerOwn(own);
  }

  KeelHttp http() {
    return http;
  }

  // ================================================================ helpers

  private <T> List<T> pages(String path, Map<String, Object> params, Class<T> type) {
    List<T> all = new ArrayList<>();
    String cursor = null;
    do {
      Map<String, Object> page = new LinkedHashMap<>(params);
      page.put("limit", PAGE);
      page.put("cursor", cursor);
      JsonNode answer = http.call("GET", path + KeelHttp.query(page), null);
      if (answer == null) break;
      for (JsonNode item : answer.path("items")) all.add(http.read(item, type));
      JsonNode next = answer.get("nextCursor");
      String nextCursor =
          next == null || next.isNull() || next.asText().isEmpty() ? null : next.asText();
      if (nextCursor != null && nextCursor.equals(cursor))
        break; // a cursor that does not move would loop forever
      cursor = nextCursor;
    } while (cursor != null);
    return all;
  }

  private String requireOwnServiceId() {
    return serviceId()
        .orElseThrow(
            () ->
                new IllegalStateException(
                    "no service: register(ServiceInfo) first, or set KEEL_SERVICE_ID"));
  }

  private void ensureOpen() {
    if (closed.get()) throw new IllegalStateException("this KeelClient is closed");
  }

  private static void requireId(String what, String id) {
    if (id == null || !ID.matcher(id).matches()) {
      throw new IllegalArgumentException(what + " '" + id + "' does not match " + ID.pattern());
    }
  }

  private static void putIfSet(ObjectNode body, String field, String value) {
    if (value != null) body.put(field, value);
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s.trim();
  }

  // ================================================================ builder

  /**
   * Configures a {@link KeelClient}. It starts from the {@code KEEL_*} environment variables; each
   * setter overrides its variable. Bad values (from either) are reported by {@link #build()} with
   * an {@link IllegalArgumentException} naming the setting.
   */
  public static final class Builder {
    private final Function<String, String> env;
    private String endpoint;
    private String endpointSource = "endpoint";
    private String token;
    private String serviceId;
    private Duration timeout = DEFAULT_TIMEOUT;
    private Supplier<Duration> heartbeatInterval;
    private boolean deregisterOnClose = true;
    private javax.net.ssl.SSLContext tls;
    private boolean tlsSet;

    private Builder(Function<String, String> env) {
      this.env = env;
      String e = blankToNull(env.apply("KEEL_ENDPOINT"));
      if (e != null) {
        endpoint = e;
        endpointSource = "KEEL_ENDPOINT";
      }
      token = blankToNull(env.apply("KEEL_TOKEN"));
      serviceId = blankToNull(env.apply("KEEL_SERVICE_ID"));
      String interval = blankToNull(env.apply("KEEL_HEARTBEAT_INTERVAL"));
      heartbeatInterval =
          interval == null ? () -> DEFAULT_HEARTBEAT_INTERVAL : () -> parseInterval(interval);
    }

    /** Keel's base URL, such as {@code http://keel.internal:8080}; {@code host:port} means http. */
    public Builder endpoint(String endpoint) {
      this.endpoint = endpoint;
      this.endpointSource = "endpoint";
      return this;
    }

    public Builder endpoint(URI endpoint) {
      return endpoint(endpoint.toString());
    }

    /** The bearer token: the admin token or a tenant API key. Never logged, never in a message. */
    public Builder token(String token) {
      this.token = blankToNull(token);
      return this;
    }

    /** The id of this process's service, for a {@link ServiceInfo} without one. */
    public Builder serviceId(String serviceId) {
      this.serviceId = serviceId;
      return this;
    }

    /** Connection and request timeout of each call (long polls add their wait); default 10 s. */
    public Builder timeout(Duration timeout) {
      Objects.requireNonNull(timeout, "timeout");
      if (timeout.isNegative() || timeout.isZero())
        throw new IllegalArgumentException("timeout must be positive, got " + timeout);
      this.timeout = timeout;
      return this;
    }

    /**
     * The interval of {@link KeelClient#startHeartbeats(MetricsProvider, HealthChecker)}; default
     * 10 s.
     */
    public Builder heartbeatInterval(Duration interval) {
      Objects.requireNonNull(interval, "interval");
      if (interval.isNegative() || interval.isZero())
        throw new IllegalArgumentException("heartbeat interval must be positive, got " + interval);
      this.heartbeatInterval = () -> interval;
      return this;
    }

    /**
     * The TLS context for an https endpoint: the CA to trust and, for mutual TLS, the client
     * certificate. Default: from {@code KEEL_TLS_CA}, {@code KEEL_TLS_CERT} and {@code
     * KEEL_TLS_KEY} ({@link KeelTls#fromEnvironment}), else the JDK's trusted CAs.
     */
    public Builder tls(javax.net.ssl.SSLContext context) {
      this.tls = context;
      this.tlsSet = true;
      return this;
    }

    /** Whether {@link KeelClient#close()} deregisters the registered service; default true. */
    public Builder deregisterOnClose(boolean deregister) {
      this.deregisterOnClose = deregister;
      return this;
    }

    public KeelClient build() {
      URI uri = parseEndpoint(endpoint == null ? DEFAULT_ENDPOINT : endpoint, endpointSource);
      String id = blankToNull(serviceId);
      if (id != null && !ID.matcher(id).matches()) {
        throw new IllegalArgumentException(
            (id.equals(blankToNull(env.apply("KEEL_SERVICE_ID"))) ? "KEEL_SERVICE_ID" : "serviceId")
                + ": '"
                + id
                + "' does not match "
                + ID.pattern());
      }
      if (!tlsSet) tls = KeelTls.fromEnvironment(env).orElse(null);
      return new KeelClient(this, uri, heartbeatInterval.get());
    }

    static URI parseEndpoint(String raw, String source) {
      String s = raw.trim();
      if (!s.contains("://")) s = "http://" + s;
      URI uri;
      try {
        uri = URI.create(s);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(source + ": '" + raw + "' is not a URL");
      }
      if (!"http".equalsIgnoreCase(uri.getScheme()) && !"https".equalsIgnoreCase(uri.getScheme())) {
        throw new IllegalArgumentException(source + ": '" + raw + "' is not an http or https URL");
      }
      if (uri.getHost() == null)
        throw new IllegalArgumentException(source + ": '" + raw + "' has no host");
      if (uri.getRawUserInfo() != null) {
        // It would end up in messages and logs; credentials go in the token.
        throw new IllegalArgumentException(
            source + ": must not contain user or password; use the token");
      }
      if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
        throw new IllegalArgumentException(
            source + ": '" + raw + "' must not have a query or fragment");
      }
      // The API lives under <endpoint>/api/v1, so a base path (behind a proxy) stays, without its
      // trailing slash.
      String path = uri.getRawPath() == null ? "" : uri.getRawPath().replaceAll("/+$", "");
      return URI.create(
          uri.getScheme().toLowerCase(java.util.Locale.ROOT)
              + "://"
              + uri.getRawAuthority()
              + path);
    }

    static Duration parseInterval(String raw) {
      Duration d;
      try {
        d = raw.matches("\\d+") ? Duration.ofSeconds(Long.parseLong(raw)) : Duration.parse(raw);
      } catch (DateTimeParseException | ArithmeticException | NumberFormatException e) {
        throw new IllegalArgumentException(
            "KEEL_HEARTBEAT_INTERVAL: '"
                + raw
                + "' is neither an ISO-8601 duration (PT10S) nor whole seconds");
      }
      if (d.isNegative() || d.isZero())
        throw new IllegalArgumentException("KEEL_HEARTBEAT_INTERVAL: must be positive, got " + raw);
      return d;
    }
  }
}
