package dev.keel.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import org.apache.pekko.http.scaladsl.settings.ServerSettings;
import org.junit.jupiter.api.Test;

/**
 * What the parser's refusals become: problem documents, never a 5xx, never what the client sent.
 */
class ParsingProblemsTest {

  private static final ServerSettings SETTINGS =
      (ServerSettings)
          org.apache.pekko.http.javadsl.settings.ServerSettings.create(ConfigFactory.load());

  @Test
  void anUnknownMethodIsA405NamingTheApisMethods() {
    ApiProblem problem = ParsingProblems.problem(501, "Unsupported HTTP method", SETTINGS);

    assertThat(problem.status()).isEqualTo(405);
    assertThat(problem.detail()).isEqualTo("this API answers GET, POST, PUT, DELETE");
  }

  @Test
  void aVersionPekkoDoesNotKnowIsA400() {
    assertThat(ParsingProblems.problem(505, "", SETTINGS).status()).isEqualTo(400);
  }

  @Test
  void tooManyHeadersIsA431() {
    ApiProblem problem =
        ParsingProblems.problem(
            400, "HTTP message contains more than the configured limit of 64 headers", SETTINGS);

    assertThat(problem.status()).isEqualTo(431);
    assertThat(problem.detail()).contains("at most 64 headers");
  }

  @Test
  void aUriOverTheLimitIsA414NamingIt() {
    assertThat(
            ParsingProblems.problem(
                    414, "URI length exceeds the configured limit of 2048 characters", SETTINGS)
                .detail())
        .isEqualTo("the request URI is longer than 2048 characters");
  }

  @Test
  void theParserSummaryIsRepeatedOnlyUpToItsColon() {
    assertThat(
            ParsingProblems.safeSummary(
                "Illegal 'authorization' header: Invalid input '@', expected ... Bearer s3cr@t"))
        .isEqualTo("Illegal 'authorization' header");
    assertThat(
            ParsingProblems.safeSummary(
                "URI length exceeds the configured limit of 2048 characters"))
        .isEqualTo("URI length exceeds the configured limit of 2048 characters");
    assertThat(ParsingProblems.safeSummary("Illegal \"x\" <y>")).isEqualTo("malformed request");
    assertThat(
            ParsingProblems.safeSummary(
                "Illegal header name 'X-keel_t1_0123456789abcdef0123456789' here"))
        .isEqualTo("Illegal header name '…' here");
    assertThat(ParsingProblems.safeSummary("Illegal `Content-Length` header value"))
        .isEqualTo("Illegal `Content-Length` header value");
    assertThat(ParsingProblems.safeSummary(null)).isEqualTo("malformed request");
  }
}
