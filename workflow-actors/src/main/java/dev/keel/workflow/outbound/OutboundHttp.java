package dev.keel.workflow.outbound;

import dev.keel.persistence.RequestScope;
import dev.keel.persistence.TraceParent;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The port through which built-in workflows call other systems over HTTP, so that tests drive it
 * with a local server or a fake. The node's is a {@link
 * dev.keel.workflow.outbound.GuardedOutboundHttp} around a {@link JdkOutboundHttp}; one instance is
 * shared by the whole node.
 *
 * <pre>{@code
 * OutboundHttp.Response answer = http.send(new OutboundHttp.Request(
 *     "POST", URI.create("https://billing.example.com/charges"),
 *     Map.of("Content-Type", "application/json"), body, Duration.ofSeconds(10)));
 * }</pre>
 */
public interface OutboundHttp {

  /**
   * Sends one request and answers whatever status the server gave (non-2xx included); redirects are
   * followed. Throws {@link java.net.http.HttpTimeoutException} when {@code request.timeout()}
   * passes first, {@link dev.keel.workflow.outbound.OutboundRefusedException} when a {@link
   * Requester#TENANT} request may not reach where it points, and another {@link IOException} when
   * the server cannot be reached.
   */
  Response send(Request request) throws IOException;

  /**
   * Why {@code url} can never be reached by a request of {@code requester}, judged from its text
   * alone (no DNS): an address literal that the outbound rule refuses. Empty when it may be, or
   * when only the connection can tell.
   */
  default Optional<String> refusalOf(URI url, Requester requester) {
    return Optional.empty();
  }

  /**
   * Who chose where a request goes. The operator's and the admin's own requests reach anywhere, as
   * they always did; a tenant's may reach only what {@link dev.keel.workflow.outbound.OutboundRule}
   * allows.
   */
  enum Requester {
    OPERATOR,
    TENANT
  }

  /** One request; {@code body} is null when there is none. */
  record Request(
      String method,
      URI url,
      Map<String, String> headers,
      byte[] body,
      Duration timeout,
      Requester requester) {
    public Request {
      Objects.requireNonNull(method, "method");
      Objects.requireNonNull(url, "url");
      Objects.requireNonNull(timeout, "timeout");
      Objects.requireNonNull(requester, "requester");
      if (timeout.isNegative() || timeout.isZero())
        throw new IllegalArgumentException("timeout must be positive");
      headers = headers == null ? Map.of() : Map.copyOf(headers);
    }

    /**
     * This request naming the span it is sent in (a step's, with traces on) in a W3C {@code
     * traceparent} header, unless it names one already; itself when it is sent in none.
     */
    public Request inCurrentSpan() {
      Optional<String> traceParent = RequestScope.traceParent();
      if (traceParent.isEmpty()
          || headers.keySet().stream().anyMatch(h -> h.equalsIgnoreCase(TraceParent.HEADER)))
        return this;
      Map<String, String> traced = new HashMap<>(headers);
      traced.put(TraceParent.HEADER, traceParent.get());
      return new Request(method, url, traced, body, timeout, requester);
    }

    /** A request the operator or the admin chose. */
    public Request(
        String method, URI url, Map<String, String> headers, byte[] body, Duration timeout) {
      this(method, url, headers, body, timeout, Requester.OPERATOR);
    }
  }

  /** The answer; {@code body} is empty, never null, when the server sent none. */
  record Response(int status, Map<String, List<String>> headers, byte[] body) {
    public Response {
      headers = headers == null ? Map.of() : Map.copyOf(headers);
      body = body == null ? new byte[0] : body;
    }

    /** The first value of header {@code name}, compared without case as HTTP does. */
    public Optional<String> header(String name) {
      return headers.entrySet().stream()
          .filter(e -> e.getKey().equalsIgnoreCase(name) && !e.getValue().isEmpty())
          .map(e -> e.getValue().get(0))
          .findFirst();
    }
  }
}
