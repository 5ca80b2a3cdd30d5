package dev.keel.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The raw request target's rules, which Pekko's decoded and dot-collapsed {@code Uri} can no longer
 * tell.
 */
class RequestTargetTest {

  @ParameterizedTest
  @ValueSource(
      strings = {
        "/api/v1/tenants/t1/domains/..",
        "/api/v1/tenants/t1/domains/%2e%2e",
        "/api/v1/tenants/t1/domains/%2E%2e/",
        "/api/v1/workflows/./history",
        "/api/v1/workflows/%2e",
        "/api/v1/workflows/a%2Fb",
        "/api/v1/workflows/a%2fb",
        "/api/v1/workflows/a%5Cb",
        "/api/v1/workflows/a\\b",
        "/api/v1/workflows/%C0%AF",
        "/api/v1/workflows/%c0%ae%c0%ae",
        "/api/v1/workflows/%ff",
        "/api/v1/workflows/%e2%82",
        "/api/v1/workflows/%ED%A0%80",
        "/api/v1/workflows/a%00",
        "/api/v1/workflows/a%0Ab",
        "/api/v1/workflows/a%7F",
        "/api/v1/workflows/a%C2%85",
        "/api/v1/workflows/%zz",
        "/api/v1/workflows/a%2",
        "http://127.0.0.1:8080/api/v1/tenants/t1/%2e%2e"
      })
  void refusesTheseSegmentsAsABadPath(String target) {
    Optional<ApiProblem> problem = RequestTarget.problem(target);

    assertThat(problem).as(target).isPresent();
    assertThat(problem.get().status()).isEqualTo(400);
    assertThat(problem.get().errors())
        .extracting(ApiProblem.FieldError::field)
        .containsExactly("path");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "/",
        "/health",
        "/api/v1/workflows/wf-1",
        "/api/v1/workflows/sched@2026-12-01T00:00:00Z/history",
        "/api/v1/tenants/t1/domains/b%C3%BCcher.example",
        "/api/v1/workflows/a.b..c",
        "/api/v1/workflows/...",
        "/api/v1/workflows?status=running&limit=10&cursor=AAAA",
        "/api/v1/services?metadata=k%3Dv&metadata=a=b",
        "/api/v1/workflows?workflow=caf%C3%A9+x",
        "/api/v1/workflows?&&flag",
        "http://127.0.0.1:8080/health?x=1",
        "*"
      })
  void acceptsOrdinaryTargets(String target) {
    assertThat(RequestTarget.problem(target)).as(target).isEmpty();
  }

  @Test
  void aControlCharacterInAQueryValueNamesTheParameter() {
    ApiProblem problem =
        RequestTarget.problem("/api/v1/workflows?limit=10&workflow=x%00y").orElseThrow();

    assertThat(problem.errors())
        .containsExactly(
            new ApiProblem.FieldError("workflow", "must not contain control characters"));
  }

  @Test
  void invalidUtf8InAQueryValueNamesTheParameter() {
    ApiProblem problem = RequestTarget.problem("/api/v1/services?type=%C0%AF").orElseThrow();

    assertThat(problem.errors())
        .containsExactly(new ApiProblem.FieldError("type", "is not valid percent-encoded UTF-8"));
  }

  @Test
  void aBadParameterNameIsNamedAsTheQuery() {
    assertThat(RequestTarget.problem("/api/v1/services?%00=1").orElseThrow().errors())
        .extracting(ApiProblem.FieldError::field)
        .containsExactly("query");
    assertThat(RequestTarget.problem("/api/v1/services?%ff=1").orElseThrow().errors())
        .extracting(ApiProblem.FieldError::field)
        .containsExactly("query");
  }

  @Test
  void thePathIsTheTargetWithoutAuthorityOrQuery() {
    assertThat(RequestTarget.path("/api/v1/tenants/t1/domains/%2e%2e?x=1"))
        .isEqualTo("/api/v1/tenants/t1/domains/%2e%2e");
    assertThat(RequestTarget.path("http://127.0.0.1:8080/health#x")).isEqualTo("/health");
  }

  @Test
  void strictUtf8RefusesTheOverlongSlash() {
    assertThat(RequestTarget.strictUtf8(new byte[] {'"', (byte) 0xC0, (byte) 0xAF, '"'})).isNull();
    assertThat(
            RequestTarget.strictUtf8(
                "\"bücher\"".getBytes(java.nio.charset.StandardCharsets.UTF_8)))
        .isEqualTo("\"bücher\"");
  }
}
