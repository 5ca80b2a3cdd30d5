package dev.keel.http;

import java.util.List;
import java.util.UUID;
import java.util.regex.Pattern;
import org.apache.pekko.event.LoggingAdapter;
import org.apache.pekko.http.ParsingErrorHandler;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.Allow;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.scaladsl.model.ErrorInfo;
import org.apache.pekko.http.scaladsl.model.StatusCode;
import org.apache.pekko.http.scaladsl.settings.ServerSettings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Answers what Pekko's HTTP parser refuses before any route runs (a bad request line, a URI or
 * headers over the limits, a malformed header or {@code Content-Length}, an unknown method, another
 * HTTP version) with a problem document and an {@code X-Request-Id}, like every other error.
 * Configured as {@code pekko.http.server.parsing.error-handler}. An unknown method is a 405 with
 * {@code Allow} (the contract's answer; Pekko's is 501), and nothing a client sends is a 5xx:
 * Pekko's 505 (also given for a malformed request line) is a 400. Neither the answer nor the one
 * log line echoes what the client sent after the parser's summary: header values carry tokens.
 */
public final class ParsingProblems extends ParsingErrorHandler {

  private static final Logger log = LoggerFactory.getLogger("dev.keel.http.access");

  /** A parser summary we may repeat: words, never a header value (those follow a colon). */
  private static final Pattern SAFE_SUMMARY = Pattern.compile("^[A-Za-z0-9 '`._…-]{1,120}$");

  private final Problems problems = new Problems(Json.mapper());

  @Override
  public HttpResponse handle(
      StatusCode status, ErrorInfo info, LoggingAdapter pekkoLog, ServerSettings settings) {
    String requestId = UUID.randomUUID().toString();
    String summary = safeSummary(info.summary());
    ApiProblem problem = problem(status.intValue(), summary, settings);
    MDC.put(HttpApi.REQUEST_ID_FIELD, requestId);
    try {
      log.info("http request refused by the parser status={} reason={}", problem.status(), summary);
    } finally {
      MDC.remove(HttpApi.REQUEST_ID_FIELD);
    }
    HttpResponse response =
        problems.response(problem).addHeader(RawHeader.create(HttpApi.REQUEST_ID, requestId));
    if (problem.status() == 405) {
      response =
          response.addHeader(
              Allow.create(
                  RouteTable.methods().stream()
                      .map(m -> HttpMethods.lookup(m).orElseThrow())
                      .toArray(org.apache.pekko.http.javadsl.model.HttpMethod[]::new)));
    }
    return response;
  }

  static ApiProblem problem(int status, String summary, ServerSettings settings) {
    var parser = settings.parserSettings();
    boolean unknownMethod = summary.startsWith("Unsupported HTTP method");
    boolean connect = status == 400 && summary.startsWith("CONNECT requests are not supported");
    if (unknownMethod || connect) {
      return new ApiProblem(
          405,
          "Method Not Allowed",
          "this API answers " + String.join(", ", RouteTable.methods()),
          List.of(),
          null);
    }
    // Pekko answers 400 for too many headers; 431 says which limit.
    boolean tooManyHeaders =
        summary.startsWith("HTTP message contains more than the configured limit");
    // Pekko answers 505 whenever the request line does not end in a version it knows, a malformed
    // line ("GET  /x", no version at all) included: what the client sent is the problem, so 400.
    int answered = tooManyHeaders ? 431 : status;
    if (status == 505) {
      return ApiProblem.badRequest(
          "send a request line of the form 'METHOD target HTTP/1.1' (HTTP/1.1 or HTTP/1.0)",
          List.of());
    }
    return switch (answered) {
      case 413 ->
          new ApiProblem(
              413,
              "Content Too Large",
              "the body is larger than the node accepts",
              List.of(),
              null);
      case 414 ->
          new ApiProblem(
              414,
              "URI Too Long",
              "the request URI is longer than " + parser.maxUriLength() + " characters",
              List.of(),
              null);
      case 431 ->
          new ApiProblem(
              431,
              "Request Header Fields Too Large",
              "send at most "
                  + parser.maxHeaderCount()
                  + " headers, each value at most "
                  + parser.maxHeaderValueLength()
                  + " characters",
              List.of(),
              null);
      case 400 -> ApiProblem.badRequest("the request could not be parsed: " + summary, List.of());
      default ->
          new ApiProblem(
              status,
              reason(status),
              "the request could not be parsed: " + summary,
              List.of(),
              null);
    };
  }

  private static String reason(int status) {
    return org.apache.pekko.http.javadsl.model.StatusCodes.get(status).reason();
  }

  /**
   * The parser's summary up to its first colon, when it is plain words; else a generic phrase. A
   * quoted part stays only when it looks like a header name ({@code 'content-length'}): anything
   * longer may be what the client sent, a token included.
   */
  static String safeSummary(String summary) {
    if (summary == null) return "malformed request";
    int colon = summary.indexOf(':');
    String head = (colon < 0 ? summary : summary.substring(0, colon)).trim();
    head =
        QUOTED
            .matcher(head)
            .replaceAll(
                m ->
                    HEADER_NAME.matcher(m.group(2)).matches()
                        ? m.group()
                        : m.group(1) + "…" + m.group(1));
    return SAFE_SUMMARY.matcher(head).matches() ? head : "malformed request";
  }

  private static final Pattern QUOTED = Pattern.compile("(['`])(.*?)\\1");
  private static final Pattern HEADER_NAME = Pattern.compile("^[A-Za-z-]{1,20}$");
}
