package dev.keel.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.pattern.AskTimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shared directives on a real server (a local actor system, no cluster, no database), called
 * the way a client would: auth, JSON bodies, the size limit, and problem documents for every
 * failure.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HttpApiRoutesTest {

  private static final String TOKEN = "test-token-1234567890";
  private static final int LIMIT = 1024;
  private static final ObjectMapper JSON = Json.mapper();

  @TempDir Path dataDir;

  private RouteServer server;

  @BeforeAll
  void bind() throws Exception {
    HttpApi api =
        new HttpApi(Json.mapper(), AdminToken.resolve(Optional.of(TOKEN), dataDir), LIMIT);
    Route route =
        api.withProblemHandling(
            () ->
                api.authenticated(
                    caller ->
                        api.concat(
                            api.path(
                                "echo",
                                () ->
                                    api.post(
                                        () ->
                                            api.jsonBody(
                                                false,
                                                body ->
                                                    api.complete(api.json(StatusCodes.OK, body))))),
                            api.path(
                                "optional",
                                () ->
                                    api.post(
                                        () ->
                                            api.jsonBody(
                                                true,
                                                body ->
                                                    api.complete(api.json(StatusCodes.OK, body))))),
                            api.path(
                                "bug",
                                () ->
                                    api.get(
                                        () -> {
                                          throw new IllegalStateException(
                                              "password=hunter2 in jdbc:postgresql://db/keel");
                                        })),
                            api.path(
                                "slow",
                                () ->
                                    api.get(
                                        () ->
                                            api.answerOk(
                                                CompletableFuture.failedFuture(
                                                    new AskTimeoutException(
                                                        "Ask timed out on [Actor[pekko://x/y#1]]"
                                                            + " after [5000 ms]"))))))));
    server = RouteServer.bind("HttpApiRoutesTest", route);
  }

  @AfterAll
  void unbind() throws Exception {
    if (server != null) server.close();
  }

  @Nested
  class Authentication {

    @Test
    void noTokenIsUnauthorizedWithABearerChallenge() throws Exception {
      HttpResponse<String> response = send(request("/echo").POST(json("{}")), null);

      JsonNode problem = problem(response, 401);
      assertThat(problem.get("detail").asText()).contains("Bearer");
      assertThat(response.headers().firstValue("WWW-Authenticate"))
          .hasValueSatisfying(v -> assertThat(v).startsWith("Bearer"));
    }

    @Test
    void aWrongTokenIsUnauthorized() throws Exception {
      HttpResponse<String> response =
          send(request("/echo").POST(json("{}")), "Bearer not-the-token");

      assertThat(problem(response, 401).get("detail").asText()).isEqualTo("the token is not known");
      assertThat(response.headers().firstValue("WWW-Authenticate")).isPresent();
    }

    @Test
    void aTokenWithAnotherSchemeIsUnauthorized() throws Exception {
      HttpResponse<String> response = send(request("/echo").POST(json("{}")), "Basic " + TOKEN);

      problem(response, 401);
      assertThat(response.headers().firstValue("WWW-Authenticate")).isPresent();
    }

    @Test
    void aPrefixOfTheTokenIsUnauthorized() throws Exception {
      problem(
          send(
              request("/echo").POST(json("{}")),
              "Bearer " + TOKEN.substring(0, TOKEN.length() - 1)),
          401);
    }

    @Test
    void unknownPathsNeedATokenToo() throws Exception {
      problem(send(request("/nowhere").GET(), null), 401);
    }

    @Test
    void twoAuthorizationHeadersAreUnauthorizedEvenWhenOneIsTheToken() throws Exception {
      HttpResponse<String> response =
          send(
              request("/echo").header("Authorization", "Bearer someone-else").POST(json("{}")),
              "Bearer " + TOKEN);

      assertThat(problem(response, 401).get("detail").asText())
          .isEqualTo("send one Authorization header");
    }

    @Test
    void theSchemeIsCaseInsensitive() throws Exception {
      assertThat(send(request("/echo").POST(json("{}")), "bearer " + TOKEN).statusCode())
          .isEqualTo(200);
    }
  }

  @Nested
  class JsonBodies {

    @Test
    void validJsonIsEchoed() throws Exception {
      HttpResponse<String> response =
          send(request("/echo").POST(json("{\"name\": \"nightly\", \"n\": [1, 2.5, null]}")));

      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.headers().firstValue("Content-Type")).hasValue("application/json");
      assertThat(JSON.readTree(response.body()))
          .isEqualTo(JSON.readTree("{\"name\":\"nightly\",\"n\":[1,2.5,null]}"));
    }

    @Test
    void jsonWithACharsetOrAStructuredSuffixIsJson() throws Exception {
      HttpResponse<String> withCharset =
          send(
              request("/echo")
                  .header("Content-Type", "application/json; charset=utf-8")
                  .POST(HttpRequest.BodyPublishers.ofString("{\"a\":1}")));
      HttpResponse<String> suffixed =
          send(
              request("/echo")
                  .header("Content-Type", "application/merge-patch+json")
                  .POST(HttpRequest.BodyPublishers.ofString("{\"a\":1}")));

      assertThat(withCharset.statusCode()).isEqualTo(200);
      assertThat(suffixed.statusCode()).isEqualTo(200);
    }

    @Test
    void invalidUtf8IsABadRequestNotALenientDecode() throws Exception {
      // 0xC0 0xAF is an overlong '/': Jackson alone would read {"id":"/"}.
      byte[] overlong = {'{', '"', 'i', 'd', '"', ':', '"', (byte) 0xC0, (byte) 0xAF, '"', '}'};
      HttpResponse<String> response =
          send(
              request("/echo")
                  .header("Content-Type", "application/json")
                  .POST(HttpRequest.BodyPublishers.ofByteArray(overlong)));

      assertThat(problem(response, 400).get("errors").get(0).get("field").asText())
          .isEqualTo("body");
    }

    @Test
    void textIsUnsupportedMediaType() throws Exception {
      HttpResponse<String> response =
          send(
              request("/echo")
                  .header("Content-Type", "text/plain")
                  .POST(HttpRequest.BodyPublishers.ofString("{\"a\":1}")));

      assertThat(problem(response, 415).get("detail").asText())
          .contains("application/json", "text/plain");
    }

    @Test
    void aBodyOverTheLimitIsTooLarge() throws Exception {
      String big = "{\"pad\":\"" + "x".repeat(LIMIT * 2) + "\"}";

      assertThat(problem(send(request("/echo").POST(json(big))), 413).get("detail").asText())
          .contains(String.valueOf(LIMIT));
    }

    @Test
    void aMuchLargerStreamedBodyIsTooLargeAsWell() throws Exception {
      String big = "{\"pad\":\"" + "x".repeat(256 * 1024) + "\"}";

      problem(send(request("/echo").POST(json(big))), 413);
    }

    @Test
    void aChunkedBodyWithoutContentLengthIsHeldToTheLimit() throws Exception {
      String big = "{\"pad\":\"" + "x".repeat(64 * 1024) + "\"}";
      HttpRequest.BodyPublisher chunked =
          HttpRequest.BodyPublishers.fromPublisher(HttpRequest.BodyPublishers.ofString(big));

      problem(send(request("/echo").POST(chunked)), 413);
    }

    @Test
    void aBodyExactlyAtTheLimitIsAccepted() throws Exception {
      String prefix = "{\"pad\":\"";
      String exact = prefix + "x".repeat(LIMIT - prefix.length() - 2) + "\"}";
      assertThat(exact.getBytes(StandardCharsets.UTF_8)).hasSize(LIMIT);

      assertThat(send(request("/echo").POST(json(exact))).statusCode()).isEqualTo(200);
    }

    @Test
    void malformedJsonIsABadRequestNamingLineAndColumn() throws Exception {
      HttpResponse<String> response =
          send(request("/echo").POST(json("{\n  \"name\": nightly\n}")));

      JsonNode problem = problem(response, 400);
      assertThat(problem.get("detail").asText()).contains("not valid JSON", "line 2, column");
      assertThat(problem.get("errors").get(0).get("field").asText()).isEqualTo("body");
    }

    @Test
    void trailingContentAfterTheDocumentIsMalformed() throws Exception {
      problem(send(request("/echo").POST(json("{\"a\":1} {\"b\":2}"))), 400);
    }

    @Test
    void nestingBeyondTheParserLimitIsABadRequestNotABug() throws Exception {
      problem(send(request("/echo").POST(json("[".repeat(1001)))), 400);
    }

    @Test
    void invalidUtf8IsABadRequest() throws Exception {
      byte[] bytes = {'{', '"', 'a', '"', ':', '"', (byte) 0xC3, (byte) 0x28, '"', '}'};

      problem(
          send(
              request("/echo")
                  .header("Content-Type", "application/json")
                  .POST(HttpRequest.BodyPublishers.ofByteArray(bytes))),
          400);
    }

    @Test
    void anEmptyBodyIsABadRequestWhenOneIsRequired() throws Exception {
      HttpResponse<String> response =
          send(
              request("/echo")
                  .header("Content-Type", "application/json")
                  .POST(HttpRequest.BodyPublishers.noBody()));

      JsonNode problem = problem(response, 400);
      assertThat(problem.get("errors").get(0).get("field").asText()).isEqualTo("body");
      assertThat(problem.get("errors").get(0).get("message").asText())
          .isEqualTo("a JSON body is required");
    }

    @Test
    void anEmptyBodyIsJsonNullWhenOptional() throws Exception {
      HttpResponse<String> response =
          send(request("/optional").POST(HttpRequest.BodyPublishers.noBody()));

      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.body()).isEqualTo("null");
    }
  }

  @Nested
  class RoutingAndFailures {

    @Test
    void aWrongMethodIsMethodNotAllowedWithAllow() throws Exception {
      HttpResponse<String> response = send(request("/echo").GET());

      assertThat(problem(response, 405).get("detail").asText()).contains("POST");
      assertThat(response.headers().firstValue("Allow")).hasValue("POST");
    }

    @Test
    void anUnknownPathIsANotFoundProblem() throws Exception {
      problem(send(request("/nowhere").GET()), 404);
      problem(send(request("/echo/deeper").POST(json("{}"))), 404);
    }

    @Test
    void aBugIsABareInternalErrorThatLeaksNothing() throws Exception {
      HttpResponse<String> response = send(request("/bug").GET());

      problem(response, 500);
      assertThat(response.body()).doesNotContain("IllegalStateException", "hunter2", "jdbc");
    }

    @Test
    void aFaçadeTimeoutIsServiceUnavailableWithRetryAfter() throws Exception {
      HttpResponse<String> response = send(request("/slow").GET());

      problem(response, 503);
      assertThat(response.headers().firstValue("Retry-After")).hasValue("2");
      assertThat(response.body()).doesNotContain("pekko://");
    }
  }

  private HttpRequest.Builder request(String path) {
    return server.request(path);
  }

  private static HttpRequest.BodyPublisher json(String body) {
    return HttpRequest.BodyPublishers.ofString(body);
  }

  private HttpResponse<String> send(HttpRequest.Builder builder) throws Exception {
    return send(builder, "Bearer " + TOKEN);
  }

  private HttpResponse<String> send(HttpRequest.Builder builder, String authorization)
      throws Exception {
    HttpRequest probe = builder.build();
    if (probe.bodyPublisher().isPresent() && probe.headers().firstValue("Content-Type").isEmpty()) {
      builder.header("Content-Type", "application/json");
    }
    if (authorization != null) builder.header("Authorization", authorization);
    return server.send(builder);
  }

  /** Asserts a problem document with {@code status}, no stack trace in it, and returns it. */
  private static JsonNode problem(HttpResponse<String> response, int status) throws Exception {
    assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
    assertThat(response.headers().firstValue("Content-Type")).hasValue("application/problem+json");
    assertThat(response.body())
        .doesNotContain("Exception", "\tat ", "at org.apache", "at dev.keel");
    JsonNode body = JSON.readTree(response.body());
    assertThat(body.get("type").asText()).startsWith("https://");
    assertThat(body.get("title").asText()).isNotBlank();
    assertThat(body.get("status").asInt()).isEqualTo(status);
    assertThat(body.get("detail").asText()).isNotBlank();
    assertThat(body.fieldNames())
        .toIterable()
        .isSubsetOf(java.util.List.of("type", "title", "status", "detail", "errors"));
    return body;
  }
}
