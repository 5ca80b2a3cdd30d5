package dev.keel.bench;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;

/**
 * How the load programs talk to the node: one JDK {@link HttpClient} speaking HTTP/1.1 that never
 * follows a redirect (so only {@code --endpoint} is ever contacted), the wait for {@code /ready},
 * and {@code Retry-After}.
 */
final class NodeHttp {

  /** How long a load program waits for {@code /ready} before it gives up. */
  static final Duration READY_WAIT = Duration.ofSeconds(30);

  /** Consecutive transient errors (I/O, timeout, 429, 503) tolerated on one idempotent request. */
  static final int TRANSIENT_RETRIES = 5;

  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
  private static final Duration READY_POLL = Duration.ofMillis(500);
  private static final Duration READY_REQUEST_TIMEOUT = Duration.ofSeconds(5);

  /** The longest {@code Retry-After} honoured; a load program must not sleep through its run. */
  private static final long MAX_RETRY_AFTER_SECONDS = 5;

  private NodeHttp() {}

  /**
   * Keeps at most {@code connections} idle connections. It must run before the first client is
   * built: the JDK reads the property once.
   */
  static void limitConnectionPool(int connections) {
    if (System.getProperty("jdk.httpclient.connectionPoolSize") == null) {
      System.setProperty("jdk.httpclient.connectionPoolSize", Integer.toString(connections));
    }
  }

  static HttpClient client() {
    return HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(CONNECT_TIMEOUT)
        .followRedirects(HttpClient.Redirect.NEVER)
        .sslContext(tls())
        .build();
  }

  /**
   * The TLS context for https endpoints: {@code KEEL_TLS_CA}, {@code KEEL_TLS_CERT} and {@code
   * KEEL_TLS_KEY} as for every Keel client, else the JDK's default.
   */
  static javax.net.ssl.SSLContext tls() {
    return dev.keel.client.KeelTls.fromEnvironment(System::getenv)
        .orElseGet(
            () -> {
              try {
                return javax.net.ssl.SSLContext.getDefault();
              } catch (java.security.NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
              }
            });
  }

  /**
   * Polls {@code <endpoint>/ready} until it answers 200 or {@code System.nanoTime()} passes {@code
   * untilNanos}; returns null once ready, else why not, in one line.
   */
  static String awaitReady(HttpClient http, URI endpoint, long untilNanos)
      throws InterruptedException {
    URI ready = URI.create(endpoint + "/ready");
    long since = System.nanoTime();
    String last;
    do {
      try {
        HttpResponse<Void> response =
            http.send(
                HttpRequest.newBuilder(ready).timeout(READY_REQUEST_TIMEOUT).GET().build(),
                HttpResponse.BodyHandlers.discarding());
        if (response.statusCode() == 200) {
          return null;
        }
        last = "answered " + response.statusCode();
      } catch (ConnectException e) {
        last = "refused the connection";
      } catch (IOException e) {
        last = "failed: " + e;
      }
      Thread.sleep(READY_POLL.toMillis());
    } while (System.nanoTime() - untilNanos < 0);
    return String.format(
        Locale.ROOT,
        "node at %s not ready after %.0f s (last attempt %s)",
        ready,
        (System.nanoTime() - since) / 1e9,
        last);
  }

  /** The pause a 429 or 503 asks for: its {@code Retry-After} seconds, capped; 1 s without one. */
  static Duration retryAfter(HttpResponse<?> response) {
    return retryAfter(response.headers().firstValue("Retry-After"));
  }

  /** The pause a {@code Retry-After} value asks for, in seconds, capped; 1 s without one. */
  static Duration retryAfter(Optional<String> retryAfter) {
    return retryAfter
        .map(
            value -> {
              try {
                return Duration.ofSeconds(
                    Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(0, Long.parseLong(value.trim()))));
              } catch (NumberFormatException e) {
                return Duration.ofSeconds(1);
              }
            })
        .orElse(Duration.ofSeconds(1));
  }
}
