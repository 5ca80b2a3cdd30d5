package dev.keel.workflow.outbound;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import dev.keel.persistence.RequestScope;
import dev.keel.persistence.TraceParent;
import dev.keel.workflow.outbound.OutboundHttp.Requester;
import io.opentelemetry.api.trace.SpanContext;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A tenant's requests connect only to addresses the rule accepts, checked at the connection: two
 * servers on one port, {@code 127.0.0.2} standing for a public address (the operator's list allows
 * it) and {@code 127.0.0.1} for the internal one a tenant must never reach.
 */
class GuardedOutboundHttpTest {

  private static final Duration TIMEOUT = Duration.ofSeconds(5);

  private HttpServer publicServer;
  private HttpServer internalServer;
  private final AtomicInteger publicHits = new AtomicInteger();
  private final AtomicInteger internalHits = new AtomicInteger();
  private int port;

  @BeforeEach
  void servers() throws Exception {
    publicServer =
        HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.2"), 0), 0);
    port = publicServer.getAddress().getPort();
    internalServer =
        HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), port), 0);
    serve(publicServer, publicHits, "public");
    serve(internalServer, internalHits, "internal");
    for (HttpServer server : List.of(publicServer, internalServer)) {
      server.createContext(
          "/traceparent",
          exchange -> {
            String seen = String.valueOf(exchange.getRequestHeaders().getFirst("traceparent"));
            byte[] body = seen.getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
          });
    }
    publicServer.createContext(
        "/to-internal",
        exchange -> {
          publicHits.incrementAndGet();
          exchange.getResponseHeaders().add("Location", "http://127.0.0.1:" + port + "/");
          exchange.sendResponseHeaders(302, -1);
          exchange.close();
        });
  }

  private static void serve(HttpServer server, AtomicInteger hits, String name) {
    server.createContext(
        "/",
        exchange -> {
          hits.incrementAndGet();
          byte[] body = name.getBytes(StandardCharsets.UTF_8);
          // A new connection for every request, so that every request resolves and connects anew.
          exchange.getResponseHeaders().add("Connection", "close");
          exchange.sendResponseHeaders(200, body.length);
          exchange.getResponseBody().write(body);
          exchange.close();
        });
    server.start();
  }

  @AfterEach
  void stop() {
    publicServer.stop(0);
    internalServer.stop(0);
  }

  private GuardedOutboundHttp http(String allow, HostResolver resolver) {
    OutboundRule rule = OutboundRule.parse(allow, () -> Set.of(1));
    return new GuardedOutboundHttp(
        new JdkOutboundHttp(TIMEOUT), rule, resolver, TIMEOUT, Duration.ofSeconds(30));
  }

  private static OutboundHttp.Request get(String url, Requester requester) {
    return new OutboundHttp.Request("GET", URI.create(url), Map.of(), null, TIMEOUT, requester);
  }

  @Test
  void aTenantCannotReachLoopbackInAnyFormWhileTheAdminCan() throws Exception {
    try (GuardedOutboundHttp http = http("127.0.0.2/32", HostResolver.SYSTEM)) {
      for (String host :
          List.of(
              "127.0.0.1",
              "0x7f000001",
              "2130706433",
              "0177.0.0.1",
              "127.1",
              "[::ffff:127.0.0.1]",
              "localhost")) {
        assertThatThrownBy(
                () -> http.send(get("http://" + host + ":" + port + "/", Requester.TENANT)))
            .as(host)
            .isInstanceOf(OutboundRefusedException.class)
            .hasMessageContaining("a loopback address");
      }
      assertThat(internalHits).as("nothing reached the internal server").hasValue(0);
      OutboundHttp.Response admin =
          http.send(get("http://127.0.0.1:" + port + "/", Requester.OPERATOR));
      assertThat(new String(admin.body(), StandardCharsets.UTF_8)).isEqualTo("internal");
    }
  }

  @Test
  void dnsRebindingDoesNotReachLoopback() throws Exception {
    // The first answer is the public address, every later one loopback, as a rebinding DNS server
    // would.
    AtomicInteger lookups = new AtomicInteger();
    HostResolver rebinding =
        host ->
            List.of(
                InetAddress.getByName(lookups.getAndIncrement() == 0 ? "127.0.0.2" : "127.0.0.1"));
    try (GuardedOutboundHttp http = http("127.0.0.2/32", rebinding)) {
      OutboundHttp.Response first =
          http.send(get("http://rebind.test:" + port + "/", Requester.TENANT));
      assertThat(new String(first.body(), StandardCharsets.UTF_8)).isEqualTo("public");
      assertThatThrownBy(() -> http.send(get("http://rebind.test:" + port + "/", Requester.TENANT)))
          .isInstanceOf(OutboundRefusedException.class)
          .hasMessageContaining("rebind.test: 127.0.0.1 is a loopback address");
    }
    assertThat(lookups.get())
        .as("one lookup per connection, and the connection used its answer")
        .isEqualTo(2);
    assertThat(internalHits).hasValue(0);
  }

  @Test
  void aHostWithAnyForbiddenAddressIsRefusedWhole() throws Exception {
    HostResolver mixed =
        host -> List.of(InetAddress.getByName("127.0.0.2"), InetAddress.getByName("127.0.0.1"));
    try (GuardedOutboundHttp http = http("127.0.0.2/32", mixed)) {
      assertThatThrownBy(() -> http.send(get("http://mixed.test:" + port + "/", Requester.TENANT)))
          .isInstanceOf(OutboundRefusedException.class);
    }
    assertThat(publicHits).hasValue(0);
    assertThat(internalHits).hasValue(0);
  }

  @Test
  void aRedirectToAForbiddenAddressIsRefused() throws Exception {
    try (GuardedOutboundHttp http = http("127.0.0.2/32", HostResolver.SYSTEM)) {
      assertThatThrownBy(
              () -> http.send(get("http://127.0.0.2:" + port + "/to-internal", Requester.TENANT)))
          .isInstanceOf(OutboundRefusedException.class)
          .hasMessageContaining("127.0.0.1 is a loopback address");
    }
    assertThat(publicHits).hasValue(1);
    assertThat(internalHits).hasValue(0);
  }

  @Test
  void aHostTheOperatorAllowsByNameIsReachedButNotOnTheNodesOwnPort() throws Exception {
    HostResolver internalName = host -> List.of(InetAddress.getByName("127.0.0.1"));
    try (GuardedOutboundHttp http = http("billing.internal", internalName)) {
      OutboundHttp.Response answer =
          http.send(get("http://billing.internal:" + port + "/", Requester.TENANT));
      assertThat(new String(answer.body(), StandardCharsets.UTF_8)).isEqualTo("internal");
      assertThatThrownBy(
              () -> http.send(get("http://other.internal:" + port + "/", Requester.TENANT)))
          .isInstanceOf(OutboundRefusedException.class);
    }
    OutboundRule ownPort = OutboundRule.parse("billing.internal", () -> Set.of(port));
    try (GuardedOutboundHttp http =
        new GuardedOutboundHttp(
            new JdkOutboundHttp(TIMEOUT), ownPort, internalName, TIMEOUT, TIMEOUT)) {
      assertThatThrownBy(
              () -> http.send(get("http://billing.internal:" + port + "/", Requester.TENANT)))
          .isInstanceOf(OutboundRefusedException.class)
          .hasMessageContaining("this node's own ports");
    }
    assertThat(internalHits).hasValue(1);
  }

  @Test
  void refusesLiteralsUpFrontOnlyForTenants() {
    try (GuardedOutboundHttp http = http("", HostResolver.SYSTEM)) {
      assertThat(
              http.refusalOf(
                  URI.create("http://169.254.169.254/latest/meta-data"), Requester.TENANT))
          .isPresent();
      assertThat(
              http.refusalOf(
                  URI.create("http://169.254.169.254/latest/meta-data"), Requester.OPERATOR))
          .isEmpty();
      assertThat(http.refusalOf(URI.create("https://hooks.example.com/x"), Requester.TENANT))
          .isEmpty();
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void theJdkClientAloneSendsNoTenantRequest() {
    assertThatThrownBy(
            () ->
                new JdkOutboundHttp(TIMEOUT)
                    .send(get("http://127.0.0.2:" + port + "/", Requester.TENANT)))
        .isInstanceOf(OutboundRefusedException.class);
    assertThat(publicHits).hasValue(0);
  }

  private static final String SPAN = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

  @Test
  void aRequestSentInASpanNamesItInItsTraceparentHeader() throws Exception {
    SpanContext span = TraceParent.parse(SPAN).orElseThrow();
    try (GuardedOutboundHttp http = http("127.0.0.2/32", HostResolver.SYSTEM)) {
      for (Requester requester : Requester.values()) {
        String host = requester == Requester.TENANT ? "127.0.0.2" : "127.0.0.1";
        OutboundHttp.Request request =
            get("http://" + host + ":" + port + "/traceparent", requester);

        String inSpan = RequestScope.inSpan(span, () -> body(sendUnchecked(http, request)));
        String inNone = body(http.send(request));

        assertThat(inSpan).as("%s in a span", requester).isEqualTo(SPAN);
        assertThat(inNone).as("%s in no span", requester).isEqualTo("null");
      }
      // A traceparent the request already names is left as it is.
      OutboundHttp.Request own =
          new OutboundHttp.Request(
              "GET",
              URI.create("http://127.0.0.1:" + port + "/traceparent"),
              Map.of("TraceParent", "00-11111111111111111111111111111111-2222222222222222-01"),
              null,
              TIMEOUT);
      assertThat(RequestScope.inSpan(span, () -> own.inCurrentSpan())).isSameAs(own);
    }
  }

  private static OutboundHttp.Response sendUnchecked(
      GuardedOutboundHttp http, OutboundHttp.Request request) {
    try {
      return http.send(request);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static String body(OutboundHttp.Response response) {
    return new String(response.body(), StandardCharsets.UTF_8);
  }
}
