package dev.keel.http;

import static dev.keel.http.HttpApi.blankToNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.registry.service.ServiceChanges;
import dev.keel.registry.service.ServiceChanges.Change;
import dev.keel.registry.service.ServiceReadModel.MetadataFilter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.NotUsed;
import org.apache.pekko.http.javadsl.marshalling.sse.EventStreamMarshalling;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.sse.ServerSentEvent;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.stream.javadsl.Source;

/**
 * {@code GET /api/v1/services/events}: the registry's changes as server-sent events (API.md,
 * Watching the registry); translation only. Each event's id is the change's durable seq, so a
 * watcher resumes with {@code Last-Event-ID} (or {@code ?after=}) and misses nothing; without one
 * it gets the changes from now on. Polls the change table, and sends a comment as a keep-alive when
 * nothing changed for a while.
 */
final class ServiceWatchRoutes {

  private static final Set<String> PARAMS =
      Set.of("type", "kinds", "metadata", "tenantId", "after");
  private static final int BATCH = 500;

  private final HttpApi api;
  private final ServiceChanges changes;
  private final Duration pollInterval;
  private final Duration keepAlive;
  private final Duration maxDuration;
  private final ObjectMapper json;

  ServiceWatchRoutes(
      HttpApi api,
      ServiceChanges changes,
      Duration pollInterval,
      Duration keepAlive,
      Duration maxDuration) {
    this.api = api;
    this.changes = changes;
    this.pollInterval = pollInterval;
    this.keepAlive = keepAlive;
    this.maxDuration = maxDuration;
    this.json = Json.mapper();
  }

  Route events(Caller caller) {
    return api.exclusively(
        HttpMethods.GET,
        () ->
            api.parameterMultiMap(
                params ->
                    api.optionalHeaderValueByName(
                        "Last-Event-ID", last -> stream(caller, params, last.orElse(null)))));
  }

  private Route stream(Caller caller, Map<String, List<String>> params, String lastEventId) {
    List<ApiProblem.FieldError> errors = new ArrayList<>();
    params.forEach(
        (k, v) -> {
          if (!PARAMS.contains(k))
            errors.add(new ApiProblem.FieldError(k, "is not a known parameter"));
          else if (v.size() > 1 && !k.equals("metadata"))
            errors.add(new ApiProblem.FieldError(k, "is given more than once"));
        });
    String type = blankToNull(first(params, "type"));
    if (type != null && !type.matches("^[a-z][a-z0-9_-]{0,63}$"))
      errors.add(new ApiProblem.FieldError("type", "is not a service type"));
    Set<String> kinds = new LinkedHashSet<>();
    String kindList = blankToNull(first(params, "kinds"));
    if (kindList != null)
      for (String k : kindList.split(",")) {
        if (ServiceChanges.KINDS.contains(k.trim())) kinds.add(k.trim());
        else
          errors.add(
              new ApiProblem.FieldError(
                  "kinds", "must list registered, updated, status, deregistered"));
      }
    List<MetadataFilter> metadata = new ArrayList<>();
    for (String m : params.getOrDefault("metadata", List.of())) {
      int eq = m.indexOf('=');
      if (eq <= 0) errors.add(new ApiProblem.FieldError("metadata", "must be key=value"));
      else metadata.add(new MetadataFilter(m.substring(0, eq), m.substring(eq + 1)));
    }
    Long after = seq("after", first(params, "after"), errors);
    Long lastId = seq("Last-Event-ID", lastEventId, errors);
    String tenantId = caller.admin() ? blankToNull(first(params, "tenantId")) : caller.tenantId();
    if (tenantId != null)
      dev.keel.persistence.grammar.Ids.tenantIdProblem(tenantId)
          .ifPresent(p -> errors.add(new ApiProblem.FieldError("tenantId", p)));
    if (!caller.admin() && first(params, "tenantId") != null)
      errors.add(
          new ApiProblem.FieldError("tenantId", "only the admin token may name another tenant"));
    if (!errors.isEmpty())
      throw ApiProblem.badRequest("the watch request has invalid parameters", errors);
    ServiceChanges.Filter filter = new ServiceChanges.Filter(tenantId, type, kinds, metadata);
    Long resumeAfter = lastId != null ? lastId : after;
    CompletionStage<Long> from =
        resumeAfter != null ? CompletableFuture.completedFuture(resumeAfter) : changes.lastSeq();
    Source<ServerSentEvent, NotUsed> events =
        Source.completionStage(from)
            .flatMapConcat(start -> poll(start, filter))
            .keepAlive(keepAlive, ServerSentEvent::heartbeat)
            .takeWithin(maxDuration);
    return api.completeOK(events, EventStreamMarshalling.toEventStream());
  }

  private Source<ServerSentEvent, NotUsed> poll(long start, ServiceChanges.Filter filter) {
    AtomicLong cursor = new AtomicLong(start);
    return Source.tick(Duration.ZERO, pollInterval, "poll")
        .mapMaterializedValue(c -> NotUsed.getInstance())
        .mapAsync(
            1,
            tick ->
                changes
                    .after(cursor.get(), filter, BATCH)
                    .thenApply(
                        batch -> {
                          cursor.set(batch.lastSeq());
                          return batch.changes();
                        })
                    // The database away for a moment (a restart): try again at the next tick.
                    .exceptionally(e -> List.of()))
        .mapConcat(list -> list)
        .map(this::event);
  }

  private ServerSentEvent event(Change c) {
    try {
      return ServerSentEvent.create(json.writeValueAsString(c), c.kind(), Long.toString(c.seq()));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a change always serializes", e);
    }
  }

  private static String first(Map<String, List<String>> params, String name) {
    List<String> v = params.get(name);
    return v == null || v.isEmpty() ? null : v.get(0);
  }

  private static Long seq(String field, String value, List<ApiProblem.FieldError> errors) {
    if (value == null || value.isBlank()) return null;
    if (!value.trim().matches("\\d{1,18}")) {
      errors.add(new ApiProblem.FieldError(field, "must be an event id (a whole number)"));
      return null;
    }
    return Long.parseLong(value.trim());
  }
}
