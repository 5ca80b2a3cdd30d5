package dev.keel.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The lean HTTP/1.1 client against a raw loopback server that scripts each connection byte by byte.
 */
class Http1ConnectionTest {

  private static final Duration TIMEOUT = Duration.ofSeconds(5);
  private static final Map<String, String> NO_HEADERS = Map.of();

  private ScriptedServer server;
  private Http1Connection connection;

  @AfterEach
  void tearDown() throws IOException {
    if (connection != null) connection.close();
    if (server != null) server.close();
  }

  @Test
  void keepsOneConnectionAliveAcrossExchanges_sendsHostLengthHeadersAndBody() throws Exception {
    start(
        (conn, in, out) -> {
          while (true) {
            Request request = readRequest(in);
            if (request == null) return;
            String body = "{\"echo\":\"" + request.body() + "\"}";
            write(
                out,
                "HTTP/1.1 201 Created\r\n"
                    + "Content-Type: application/json\r\n"
                    + "retry-after: 3\r\n"
                    + "Content-Length: "
                    + body.getBytes(StandardCharsets.UTF_8).length
                    + "\r\n\r\n"
                    + body);
          }
        });

    Http1Connection.Response first =
        connection.exchange(
            "POST",
            "/api/v1/workflows?wait=PT30S",
            Map.of("Authorization", "Bearer t"),
            "ä-1".getBytes(StandardCharsets.UTF_8),
            TIMEOUT);
    Http1Connection.Response second =
        connection.exchange("GET", "/api/v1/workflows/x", NO_HEADERS, null, TIMEOUT);

    assertThat(first.status()).isEqualTo(201);
    assertThat(first.text()).isEqualTo("{\"echo\":\"ä-1\"}");
    assertThat(first.header("Retry-After")).hasValue("3");
    assertThat(first.header("CONTENT-TYPE")).hasValue("application/json");
    assertThat(second.text()).isEqualTo("{\"echo\":\"\"}");
    assertThat(server.accepted.get()).isEqualTo(1);
    assertThat(connection.connects()).isEqualTo(1);

    Request sent = server.requests.poll(1, TimeUnit.SECONDS);
    assertThat(sent.line()).isEqualTo("POST /api/v1/workflows?wait=PT30S HTTP/1.1");
    assertThat(sent.headers()).containsEntry("host", "127.0.0.1:" + server.port());
    assertThat(sent.headers()).containsEntry("authorization", "Bearer t");
    assertThat(sent.headers()).containsEntry("content-length", "4");
    Request get = server.requests.poll(1, TimeUnit.SECONDS);
    assertThat(get.line()).isEqualTo("GET /api/v1/workflows/x HTTP/1.1");
    assertThat(get.headers()).doesNotContainKey("content-length");
  }

  @Test
  void readsChunkedBodiesExactly_soTheNextAnswerOnTheConnectionIsIntact() throws Exception {
    start(
        (conn, in, out) -> {
          readRequest(in);
          write(out, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n");
          out.flush();
          Thread.sleep(50); // the rest arrives in another read
          write(out, "1\r\n \r\n6\r\nworld!\r\n0\r\nX-Trailer: t\r\n\r\n");
          readRequest(in);
          write(out, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext");
          readRequest(in);
        });

    Http1Connection.Response chunked = connection.exchange("GET", "/a", NO_HEADERS, null, TIMEOUT);
    Http1Connection.Response next = connection.exchange("GET", "/b", NO_HEADERS, null, TIMEOUT);

    assertThat(chunked.status()).isEqualTo(200);
    assertThat(chunked.text()).isEqualTo("hello world!");
    assertThat(next.text()).isEqualTo("next");
    assertThat(server.accepted.get()).isEqualTo(1);
  }

  @Test
  void connectionCloseFromTheServer_theNextExchangeOpensAFreshConnection() throws Exception {
    start(
        (conn, in, out) -> {
          readRequest(in);
          if (conn == 1) {
            write(out, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 3\r\n\r\none");
          } else {
            // No length at all: the body ends with the connection.
            write(out, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\ntwo, until closed");
          }
        });

    assertThat(connection.exchange("GET", "/1", NO_HEADERS, null, TIMEOUT).text()).isEqualTo("one");
    assertThat(connection.exchange("GET", "/2", NO_HEADERS, null, TIMEOUT).text())
        .isEqualTo("two, until closed");
    assertThat(server.accepted.get()).isEqualTo(2);
    assertThat(connection.connects()).isEqualTo(2);
  }

  @Test
  void anIdleConnectionTheServerClosedIsRetriedOnceOnAFreshOne() throws Exception {
    start(
        (conn, in, out) -> {
          readRequest(in);
          write(
              out,
              "HTTP/1.1 200 OK\r\nContent-Length: "
                  + (conn == 1 ? "5\r\n\r\nfirst" : "6\r\n\r\nsecond"));
          if (conn == 2) readRequest(in);
          // Connection 1 closes while idle, without saying so.
        });

    assertThat(connection.exchange("GET", "/1", NO_HEADERS, null, TIMEOUT).text())
        .isEqualTo("first");
    server.awaitClosed(1);
    Http1Connection.Response second = connection.exchange("GET", "/2", NO_HEADERS, null, TIMEOUT);

    assertThat(second.text()).isEqualTo("second");
    assertThat(server.accepted.get()).isEqualTo(2);
    assertThat(server.requests).hasSize(2);
  }

  @Test
  void aFreshConnectionClosedWithoutAnAnswerIsNotRetried() throws Exception {
    start((conn, in, out) -> readRequest(in));

    assertThatThrownBy(() -> connection.exchange("GET", "/1", NO_HEADERS, null, TIMEOUT))
        .isInstanceOf(IOException.class);
    Thread.sleep(100);
    assertThat(server.accepted.get()).isEqualTo(1);
  }

  @Test
  void anAnswerCutOffHalfwayIsNotRetried() throws Exception {
    start(
        (conn, in, out) -> {
          readRequest(in);
          write(out, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
          readRequest(in);
          write(out, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf");
        });

    connection.exchange("GET", "/1", NO_HEADERS, null, TIMEOUT);
    assertThatThrownBy(() -> connection.exchange("GET", "/2", NO_HEADERS, null, TIMEOUT))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("middle of the answer");
    Thread.sleep(100);
    assertThat(server.accepted.get()).isEqualTo(1);
  }

  @Test
  void noAnswerInTime_timesOutClosesAndReconnectsForTheNextExchange() throws Exception {
    start(
        (conn, in, out) -> {
          readRequest(in);
          if (conn == 1) {
            Thread.sleep(10_000); // never answers in time
            return;
          }
          write(out, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
          readRequest(in);
        });

    long t0 = System.nanoTime();
    assertThatThrownBy(
            () -> connection.exchange("GET", "/1", NO_HEADERS, null, Duration.ofMillis(300)))
        .isInstanceOf(SocketTimeoutException.class);
    long tookMillis = (System.nanoTime() - t0) / 1_000_000;
    assertThat(tookMillis).isBetween(250L, 3_000L);

    assertThat(connection.exchange("GET", "/2", NO_HEADERS, null, TIMEOUT).text()).isEqualTo("ok");
    assertThat(server.accepted.get()).isEqualTo(2);
    assertThat(connection.connects()).isEqualTo(2);
  }

  @Test
  void theTimeoutCoversTheWholeAnswer_notEachRead() throws Exception {
    start(
        (conn, in, out) -> {
          readRequest(in);
          write(out, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n");
          for (int i = 0; i < 100; i++) {
            out.write('x');
            out.flush();
            Thread.sleep(50);
          }
        });

    long t0 = System.nanoTime();
    assertThatThrownBy(
            () -> connection.exchange("GET", "/slow", NO_HEADERS, null, Duration.ofMillis(400)))
        .isInstanceOf(SocketTimeoutException.class);
    assertThat((System.nanoTime() - t0) / 1_000_000).isLessThan(2_000L);
  }

  @Test
  void redirectsAreReturned_neverFollowed_andInterimAnswersSkipped() throws Exception {
    start(
        (conn, in, out) -> {
          readRequest(in);
          write(
              out,
              "HTTP/1.1 100 Continue\r\n\r\n"
                  + "HTTP/1.1 302 Found\r\n"
                  + "Location: http://127.0.0.1:1/elsewhere\r\n"
                  + "Content-Length: 0\r\n\r\n");
          readRequest(in);
        });

    Http1Connection.Response response =
        connection.exchange("GET", "/moved", NO_HEADERS, null, TIMEOUT);

    assertThat(response.status()).isEqualTo(302);
    assertThat(response.header("location")).hasValue("http://127.0.0.1:1/elsewhere");
    assertThat(response.body()).isEmpty();
    assertThat(server.accepted.get()).isEqualTo(1);
    assertThat(server.requests).hasSize(1);
  }

  @Test
  void refusesOtherSchemesAndHeaderInjection() throws Exception {
    // https is spoken (KEEL_TLS_* files); anything else is refused before a connection is made.
    assertThatThrownBy(() -> new Http1Connection(URI.create("ftp://127.0.0.1:8443"), TIMEOUT))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("http://")
        .hasMessageContaining("https://");
    start((conn, in, out) -> readRequest(in));
    assertThatThrownBy(
            () ->
                connection.exchange(
                    "GET", "/", Map.of("Authorization", "Bearer t\r\nX-Evil: 1"), null, TIMEOUT))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(server.accepted.get()).isZero();
  }

  // ---- the scripted server ----

  private void start(Script script) throws IOException {
    server = new ScriptedServer(script);
    connection = new Http1Connection(URI.create("http://127.0.0.1:" + server.port()), TIMEOUT);
  }

  private static void write(OutputStream out, String text) throws IOException {
    out.write(text.getBytes(StandardCharsets.UTF_8));
    out.flush();
  }

  /** One request as the server read it; header names in lower case. */
  record Request(String line, Map<String, String> headers, String body) {}

  /** What the server does on its {@code conn}-th connection (from 1); it is closed afterwards. */
  interface Script {
    void serve(int conn, InputStream in, OutputStream out) throws Exception;
  }

  /** Reads one request (Content-Length bodies only), or null at the end of the stream. */
  private Request readRequest(InputStream in) throws IOException {
    String line = readLine(in);
    if (line == null) return null;
    Map<String, String> headers = new TreeMap<>();
    for (String h = readLine(in); h != null && !h.isEmpty(); h = readLine(in)) {
      int colon = h.indexOf(':');
      headers.put(
          h.substring(0, colon).trim().toLowerCase(java.util.Locale.ROOT),
          h.substring(colon + 1).trim());
    }
    int length = Integer.parseInt(headers.getOrDefault("content-length", "0"));
    String body = new String(in.readNBytes(length), StandardCharsets.UTF_8);
    Request request = new Request(line, headers, body);
    server.requests.add(request);
    return request;
  }

  private static String readLine(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    for (int b = in.read(); b != '\n'; b = in.read()) {
      if (b < 0) return null;
      if (b != '\r') line.write(b);
    }
    return line.toString(StandardCharsets.ISO_8859_1);
  }

  private static final class ScriptedServer implements AutoCloseable {
    final AtomicInteger accepted = new AtomicInteger();
    final AtomicInteger closed = new AtomicInteger();
    final BlockingQueue<Request> requests = new LinkedBlockingQueue<>();
    private final ServerSocket socket;
    private final List<Socket> open = new CopyOnWriteArrayList<>();

    ScriptedServer(Script script) throws IOException {
      socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
      Thread acceptor =
          new Thread(
              () -> {
                while (!socket.isClosed()) {
                  try {
                    Socket s = socket.accept();
                    open.add(s);
                    int n = accepted.incrementAndGet();
                    Thread t =
                        new Thread(
                            () -> {
                              try (s) {
                                script.serve(
                                    n,
                                    new BufferedInputStream(s.getInputStream()),
                                    s.getOutputStream());
                              } catch (Exception ignored) {
                                // the client went away
                              } finally {
                                closed.incrementAndGet();
                              }
                            },
                            "scripted-" + n);
                    t.setDaemon(true);
                    t.start();
                  } catch (IOException e) {
                    return;
                  }
                }
              },
              "scripted-accept");
      acceptor.setDaemon(true);
      acceptor.start();
    }

    int port() {
      return socket.getLocalPort();
    }

    void awaitClosed(int n) throws InterruptedException {
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (closed.get() < n && System.nanoTime() < until) {
        Thread.sleep(5);
      }
      assertThat(closed.get()).as("server-side closes").isGreaterThanOrEqualTo(n);
    }

    @Override
    public void close() throws IOException {
      socket.close();
      for (Socket s : open) s.close();
    }
  }
}
