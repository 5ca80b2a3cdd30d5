package dev.keel.workflow.outbound;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/**
 * {@link OutboundHttp} on the JDK's {@link HttpClient}: HTTP/1.1, redirects followed except from
 * https to http. The client holds a connection pool and threads, so create one per node and share
 * it; it is safe for concurrent use. {@link #send} blocks the calling thread, which for workflow
 * steps is a worker of the blocking dispatcher.
 *
 * <pre>{@code
 * OutboundHttp http = new JdkOutboundHttp(settings.connectTimeout());
 * }</pre>
 */
public final class JdkOutboundHttp implements OutboundHttp {

  private final HttpClient client;

  /** A client that gives up connecting after {@code connectTimeout}. */
  public JdkOutboundHttp(Duration connectTimeout) {
    this(
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Objects.requireNonNull(connectTimeout, "connectTimeout"))
            .followRedirects(HttpClient.Redirect.NORMAL)
            .build());
  }

  /** Wraps a client configured elsewhere (proxy, TLS settings). */
  public JdkOutboundHttp(HttpClient client) {
    this.client = Objects.requireNonNull(client, "client");
  }

  @Override
  public Response send(Request request) throws IOException {
    if (request.requester() != Requester.OPERATOR) {
      // This client cannot check where it connects: a tenant's request needs GuardedOutboundHttp.
      throw new OutboundRefusedException(
          "requests on a tenant's behalf are not sent without the outbound address check");
    }
    HttpRequest.BodyPublisher body =
        request.body() == null
            ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofByteArray(request.body());
    HttpRequest.Builder builder =
        HttpRequest.newBuilder(request.url())
            .timeout(request.timeout())
            .method(request.method(), body);
    for (Map.Entry<String, String> header : request.headers().entrySet()) {
      builder.header(header.getKey(), header.getValue());
    }
    try {
      HttpResponse<byte[]> response =
          client.send(builder.build(), HttpResponse.BodyHandlers.ofByteArray());
      return new Response(response.statusCode(), response.headers().map(), response.body());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      InterruptedIOException interrupted =
          new InterruptedIOException("interrupted while calling " + request.url());
      interrupted.initCause(e);
      throw interrupted;
    }
  }
}
