package dev.keel.client;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;

/**
 * Requests to one Keel endpoint with one bearer token, and the translation of failures: problem
 * documents into {@link KeelApiException}, 503 and I/O failures into {@link
 * KeelUnavailableException}. The token goes into the {@code Authorization} header only, and is
 * blanked from every message.
 */
final class KeelHttp {

  static final String USER_AGENT = "keel-client/0.1.0";

  /** A raw answer: status, headers and body text. */
  record Answer(int status, HttpHeaders headers, String body) {}

  private final HttpClient http;
  private final URI endpoint;
  private final String token;
  private final Duration timeout;

  KeelHttp(URI endpoint, String token, Duration timeout) {
    this(endpoint, token, timeout, null);
  }

  /** {@code tls}: the context for an https endpoint; null means the JDK's default. */
  KeelHttp(URI endpoint, String token, Duration timeout, javax.net.ssl.SSLContext tls) {
    this.endpoint = endpoint;
    this.token = token;
    this.timeout = timeout;
    HttpClient.Builder b =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(timeout)
            .followRedirects(HttpClient.Redirect.NEVER);
    if (tls != null) b.sslContext(tls);
    this.http = b.build();
  }

  URI endpoint() {
    return endpoint;
  }

  Duration timeout() {
    return timeout;
  }

  /** Sends and answers the body as JSON (null for an empty body); any error status throws. */
  JsonNode call(String method, String pathAndQuery, Object body, Duration requestTimeout) {
    Answer answer = exchange(method, pathAndQuery, body, requestTimeout);
    if (answer.status() >= 300) throw failure(answer);
    return json(answer);
  }

  JsonNode call(String method, String pathAndQuery, Object body) {
    return call(method, pathAndQuery, body, timeout);
  }

  /**
   * Opens a GET of {@code pathAndQuery} as server-sent events ({@code Last-Event-ID} when not null)
   * and answers its lines as they arrive; no read timeout (the server sends keep-alives).
   */
  HttpResponse<java.util.stream.Stream<String>> openEvents(String pathAndQuery, String lastEventId)
      throws IOException, InterruptedException {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(endpoint + pathAndQuery))
            .header("Accept", "text/event-stream")
            .header("User-Agent", USER_AGENT)
            .GET();
    if (token != null && !token.isEmpty()) b.header("Authorization", "Bearer " + token);
    if (lastEventId != null) b.header("Last-Event-ID", lastEventId);
    return http.send(b.build(), HttpResponse.BodyHandlers.ofLines());
  }

  /** Sends and answers whatever came back; only I/O failures throw. */
  Answer exchange(String method, String pathAndQuery, Object body, Duration requestTimeout) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(endpoint + pathAndQuery))
            .timeout(requestTimeout)
            .header("Accept", "application/json")
            .header("User-Agent", USER_AGENT);
    if (token != null && !token.isEmpty()) b.header("Authorization", "Bearer " + token);
    if (body == null) {
      b.method(method, HttpRequest.BodyPublishers.noBody());
    } else {
      byte[] bytes;
      try {
        bytes = KeelJson.MAPPER.writeValueAsBytes(body);
      } catch (JsonProcessingException e) {
        throw new IllegalArgumentException(
            "cannot write the request as JSON: " + e.getOriginalMessage(), e);
      }
      b.header("Content-Type", "application/json")
          .method(method, HttpRequest.BodyPublishers.ofByteArray(bytes));
    }
    try {
      HttpResponse<String> r =
          http.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
      return new Answer(r.statusCode(), r.headers(), r.body());
    } catch (IOException e) {
      throw unreachable(e, requestTimeout);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KeelUnavailableException(
          "interrupted while waiting for Keel at " + endpoint, 0, null, e);
    }
  }

  JsonNode json(Answer answer) {
    if (answer.body() == null || answer.body().isBlank()) return null;
    try {
      return KeelJson.MAPPER.readTree(answer.body());
    } catch (JsonProcessingException e) {
      throw new KeelApiException(
          answer.status(),
          null,
          "Unreadable Answer",
          "Keel answered "
              + answer.status()
              + " with a body that is not JSON: "
              + excerpt(answer.body()),
          List.of(),
          null);
    }
  }

  <T> T read(JsonNode node, Class<T> type) {
    try {
      return KeelJson.MAPPER.treeToValue(node, type);
    } catch (JsonProcessingException e) {
      throw new KeelApiException(
          200,
          null,
          "Unreadable Answer",
          "Keel's answer does not read as "
              + type.getSimpleName()
              + ": "
              + redact(e.getOriginalMessage()),
          List.of(),
          null);
    }
  }

  /**
   * The exception for an error answer: 503 is unavailability, anything else a problem to report.
   */
  KeelException failure(Answer answer) {
    JsonNode problem = null;
    try {
      JsonNode n =
          answer.body() == null || answer.body().isBlank()
              ? null
              : KeelJson.MAPPER.readTree(answer.body());
      if (n != null && n.isObject()) problem = n;
    } catch (JsonProcessingException notJson) {
      // a proxy's HTML page, say: reported by status and an excerpt
    }
    String type = text(problem, "type");
    String title = text(problem, "title");
    String detail = text(problem, "detail");
    if (title == null) title = reason(answer.status());
    if (problem == null && answer.body() != null && !answer.body().isBlank())
      detail = excerpt(answer.body());
    List<KeelApiException.FieldError> errors = new ArrayList<>();
    if (problem != null) {
      for (JsonNode e : problem.path("errors")) {
        errors.add(
            new KeelApiException.FieldError(
                redact(e.path("field").asText("")), redact(e.path("message").asText(""))));
      }
    }
    Duration retryAfter =
        answer.headers().firstValue("Retry-After").flatMap(KeelHttp::seconds).orElse(null);
    if (answer.status() == 503) {
      return new KeelUnavailableException(
          "Keel at " + endpoint + " is unavailable: " + (detail != null ? redact(detail) : title),
          503,
          retryAfter,
          null);
    }
    return new KeelApiException(
        answer.status(), type, redact(title), redact(detail), errors, retryAfter);
  }

  private KeelUnavailableException unreachable(IOException e, Duration requestTimeout) {
    String why;
    if (e instanceof HttpConnectTimeoutException) {
      why = "no connection within " + human(timeout);
    } else if (e instanceof HttpTimeoutException) {
      why = "no answer within " + human(requestTimeout);
    } else if (causedBy(e, UnresolvedAddressException.class)) {
      why = "unknown host " + endpoint.getHost();
    } else if (e instanceof ConnectException || causedBy(e, ConnectException.class)) {
      why = "connection refused";
    } else {
      // A connection cut mid-answer, say: the JDK's words are cryptic ("fixed content-length: 77,
      // bytes received: 0").
      why =
          "the connection failed ("
              + (e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName())
              + ")";
    }
    return new KeelUnavailableException(
        "cannot reach Keel at " + endpoint + ": " + redact(why), 0, null, e);
  }

  /** The message with the token blanked, should anything ever echo it. */
  String redact(String message) {
    if (message == null || token == null || token.length() < 8) return message;
    return message.replace(token, "***");
  }

  // ---------------------------------------------------------------- paths and queries

  /** {@code /api/v1/<segments...>}, each segment percent-encoded. */
  static String path(String... segments) {
    StringBuilder b = new StringBuilder("/api/v1");
    for (String s : segments) b.append('/').append(segment(s));
    return b.toString();
  }

  /** {@code ?k=v&k2=v2} for the non-null values, or an empty string. */
  static String query(Map<String, ?> params) {
    StringJoiner j = new StringJoiner("&", "?", "");
    j.setEmptyValue("");
    params.forEach(
        (k, v) -> {
          if (v instanceof Iterable<?> many) {
            for (Object one : many) j.add(encode(k) + "=" + encode(one.toString()));
          } else if (v != null) {
            j.add(encode(k) + "=" + encode(v.toString()));
          }
        });
    return j.toString();
  }

  private static String segment(String s) {
    if (s == null || s.isEmpty()) throw new IllegalArgumentException("an id must not be empty");
    return encode(s);
  }

  private static String encode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }

  // ---------------------------------------------------------------- small things

  private static boolean causedBy(Throwable t, Class<? extends Throwable> type) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (type.isInstance(c)) return true;
      if (c.getCause() == c) break;
    }
    return false;
  }

  private static String text(JsonNode n, String field) {
    if (n == null) return null;
    JsonNode v = n.get(field);
    return v == null || v.isNull() ? null : v.asText();
  }

  private static java.util.Optional<Duration> seconds(String header) {
    try {
      return java.util.Optional.of(Duration.ofSeconds(Long.parseLong(header.trim())));
    } catch (NumberFormatException e) {
      return java.util.Optional.empty();
    }
  }

  private String excerpt(String body) {
    String oneLine = body.strip().replaceAll("\\s+", " ");
    return redact(oneLine.length() > 200 ? oneLine.substring(0, 200) + "…" : oneLine);
  }

  static String human(Duration d) {
    long ms = d.toMillis();
    return ms % 1000 == 0 ? (ms / 1000) + " s" : ms + " ms";
  }

  private static String reason(int status) {
    return switch (status) {
      case 400 -> "Bad Request";
      case 401 -> "Unauthorized";
      case 403 -> "Forbidden";
      case 404 -> "Not Found";
      case 405 -> "Method Not Allowed";
      case 409 -> "Conflict";
      case 413 -> "Payload Too Large";
      case 415 -> "Unsupported Media Type";
      case 429 -> "Too Many Requests";
      case 500 -> "Internal Server Error";
      case 502 -> "Bad Gateway";
      case 503 -> "Service Unavailable";
      case 504 -> "Gateway Timeout";
      default -> "HTTP " + status;
    };
  }
}
