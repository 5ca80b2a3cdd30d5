package dev.keel.client;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * A watch of the registry ({@code GET /api/v1/services/events}): calls a {@link Listener} for each
 * registration, update, status transition and deregistration, in order, on a thread of its own.
 * When the connection drops (Keel restarting, a network blip) it reconnects after a second with the
 * last event id, so the listener misses nothing and sees nothing twice.
 *
 * <pre>{@code
 * try (ServiceWatch watch =
 *     keel.watchServices(Map.of("kinds", "status"), null,
 *         c -> System.out.println(c.serviceId() + " is " + c.status()))) {
 *   ...
 * }
 * }</pre>
 */
public final class ServiceWatch implements AutoCloseable {

  private static final System.Logger LOG = KeelClient.LOG;
  private static final Duration RECONNECT = Duration.ofSeconds(1);

  /**
   * One change: {@code kind} is {@code registered}, {@code updated}, {@code status} or {@code
   * deregistered}; {@code status} is the status after it (null for a deregistration).
   */
  public record Change(
      long seq,
      String kind,
      String serviceId,
      String tenantId,
      String serviceType,
      String status,
      String previousStatus,
      String reason,
      Map<String, String> metadata,
      Instant at) {}

  /** Told each change; exceptions it throws are logged and the watch goes on. */
  @FunctionalInterface
  public interface Listener {
    void onChange(Change change);
  }

  private final KeelHttp http;
  private final String pathAndQuery;
  private final Listener listener;
  private final AtomicLong lastSeq;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final Thread thread;
  private volatile HttpResponse<Stream<String>> current;

  ServiceWatch(KeelHttp http, String pathAndQuery, Long afterSeq, Listener listener) {
    this.http = http;
    this.pathAndQuery = pathAndQuery;
    this.listener = listener;
    this.lastSeq = new AtomicLong(afterSeq == null ? -1 : afterSeq);
    this.thread = new Thread(this::run, "keel-service-watch");
    thread.setDaemon(true);
    thread.start();
  }

  /** The id of the last change told to the listener; -1 before the first. */
  public long lastEventId() {
    return lastSeq.get();
  }

  private void run() {
    while (!closed.get()) {
      try {
        long last = lastSeq.get();
        HttpResponse<Stream<String>> response =
            http.openEvents(pathAndQuery, last < 0 ? null : Long.toString(last));
        current = response;
        if (response.statusCode() != 200) {
          response.body().close();
          LOG.log(
              System.Logger.Level.WARNING, "service watch refused status=" + response.statusCode());
        } else {
          read(response.body().iterator());
        }
      } catch (Exception e) {
        if (closed.get()) return;
        LOG.log(
            System.Logger.Level.DEBUG,
            "service watch interrupted, reconnecting error=" + e.getClass().getSimpleName());
      }
      if (closed.get()) return;
      try {
        Thread.sleep(RECONNECT.toMillis());
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  /** SSE: fields until a blank line dispatch an event; lines starting with ':' are comments. */
  private void read(Iterator<String> lines) throws Exception {
    String id = null;
    StringBuilder data = new StringBuilder();
    while (!closed.get() && lines.hasNext()) {
      String line = lines.next();
      if (line.isEmpty()) {
        if (data.length() > 0) dispatch(id, data.toString());
        id = null;
        data.setLength(0);
      } else if (line.startsWith("id:")) {
        id = line.substring(3).trim();
      } else if (line.startsWith("data:")) {
        if (data.length() > 0) data.append('\n');
        data.append(line.substring(5).stripLeading());
      }
    }
  }

  private void dispatch(String id, String data) throws Exception {
    JsonNode node = KeelJson.MAPPER.readTree(data);
    Change change = KeelJson.MAPPER.treeToValue(node, Change.class);
    if (change.seq() <= lastSeq.get()) return; // already told (a resumed stream)
    lastSeq.set(id == null ? change.seq() : Long.parseLong(id));
    try {
      listener.onChange(change);
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "service watch listener failed error=" + e);
    }
  }

  /** Stops watching; the listener is told nothing more once this returns. */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) return;
    HttpResponse<Stream<String>> r = current;
    if (r != null) r.body().close();
    thread.interrupt();
  }
}
