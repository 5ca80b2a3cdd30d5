package dev.keel.node;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** The judge of {@code OpenApiContractIT} refuses what the document does not describe. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OpenApiContractTest {

  private static final String HEALTH =
      "{\"id\":\"s1\",\"status\":\"healthy\",\"lastHeartbeatAt\":\"2026-11-22T09:00:00.123Z\"}";
  private static final String PROBLEM =
      "{\"type\":\"https://keel.dev/problems/not-found\",\"title\":\"Not Found\",\"status\":404,"
          + "\"detail\":\"service 's1' does not exist\"}";
  private static final String SERVICE_HEALTH = "/api/v1/services/{id}/health";

  private OpenApiContract contract;

  @BeforeAll
  void load() throws Exception {
    try (var in = getClass().getClassLoader().getResourceAsStream("openapi/keel.yaml")) {
      contract =
          new OpenApiContract(
              new ObjectMapper()
                  .writeValueAsString(new ObjectMapper(new YAMLFactory()).readTree(in)));
    }
  }

  @Test
  void acceptsWhatTheDocumentDescribes() {
    assertThat(contract.check("GET", SERVICE_HEALTH, 200, "application/json", HEALTH)).isEmpty();
    assertThat(
            contract.check(
                "GET", SERVICE_HEALTH, 404, "application/problem+json; charset=UTF-8", PROBLEM))
        .isEmpty();
    assertThat(contract.check("DELETE", "/api/v1/services/{id}", 204, null, "")).isEmpty();
  }

  @Test
  void refusesAFieldTheDocumentDoesNotName() {
    assertThat(
            contract.check(
                "GET",
                SERVICE_HEALTH,
                200,
                "application/json",
                HEALTH.replace("}", ",\"extra\":1}")))
        .singleElement()
        .asString()
        .contains("extra");
  }

  @Test
  void refusesAWrongTypeAMissingFieldAndAnInstantWithoutMilliseconds() {
    assertThat(
            contract.check(
                "GET",
                SERVICE_HEALTH,
                200,
                "application/json",
                HEALTH.replace("\"healthy\"", "\"fine\"")))
        .isNotEmpty();
    assertThat(
            contract.check(
                "GET",
                SERVICE_HEALTH,
                200,
                "application/json",
                "{\"id\":\"s1\",\"status\":\"healthy\"}"))
        .isNotEmpty();
    assertThat(
            contract.check(
                "GET", SERVICE_HEALTH, 200, "application/json", HEALTH.replace(".123Z", "Z")))
        .isNotEmpty();
    assertThat(
            contract.check(
                "GET",
                SERVICE_HEALTH,
                404,
                "application/problem+json",
                PROBLEM.replace("\"status\":404,", "")))
        .isNotEmpty();
  }

  @Test
  void checksRequestBodiesAgainstTheDocument() {
    assertThat(
            contract.checkRequest(
                "PUT", "/api/v1/services/{id}", "{\"type\":\"source\",\"ttlSeconds\":30}"))
        .isEmpty();
    assertThat(contract.checkRequest("PUT", "/api/v1/services/{id}", "{\"ttlSeconds\":30}"))
        .isNotEmpty();
    assertThat(
            contract.checkRequest(
                "PUT", "/api/v1/services/{id}", "{\"type\":\"source\",\"colour\":\"red\"}"))
        .isNotEmpty();
    assertThat(contract.checkRequest("GET", "/api/v1/services/{id}", "{}"))
        .singleElement()
        .asString()
        .contains("takes no body");
  }

  @Test
  void refusesAnUndocumentedStatusContentTypeOrOperation() {
    assertThat(contract.check("GET", SERVICE_HEALTH, 409, "application/problem+json", PROBLEM))
        .singleElement()
        .asString()
        .contains("status not documented");
    assertThat(contract.check("GET", SERVICE_HEALTH, 200, "text/plain", HEALTH))
        .singleElement()
        .asString()
        .contains("content type");
    assertThat(contract.check("PATCH", SERVICE_HEALTH, 200, "application/json", HEALTH))
        .singleElement()
        .asString()
        .contains("no such operation");
    assertThat(contract.check("DELETE", "/api/v1/services/{id}", 204, null, "{}"))
        .singleElement()
        .asString()
        .contains("promises no body");
  }
}
