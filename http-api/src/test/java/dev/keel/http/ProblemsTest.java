package dev.keel.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.keel.persistence.Rejection;
import dev.keel.tenant.quota.Quota;
import dev.keel.tenant.quota.QuotaExceededException;
import dev.keel.workflow.execution.InvalidInputException;
import dev.keel.workflow.execution.UnknownWorkflowException;
import dev.keel.workflow.sdk.InputProblem;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.pattern.AskTimeoutException;
import org.apache.pekko.pattern.StatusReply;
import org.junit.jupiter.api.Test;

/** The one error mapper: façade failures to problem documents, with no detail leaking from bugs. */
class ProblemsTest {

  private final Problems problems = new Problems(Json.mapper());

  @Test
  void unknownWorkflowIsNotFound() throws Exception {
    var failure = new UnknownWorkflowException("nightly-report");

    assertThat(problems.toProblem(failure).status()).isEqualTo(404);
    JsonNode body = problemBody(problems.response(failure), 404);
    assertThat(body.get("title").asText()).isEqualTo("Not Found");
    assertThat(body.get("detail").asText())
        .isEqualTo("no workflow named 'nightly-report' is registered");
    assertThat(body.has("errors")).isFalse();
  }

  @Test
  void anExceededQuotaIs429NamingTheQuotaWithRetryAfterWhenTimeHelps() throws Exception {
    var starts =
        new QuotaExceededException(
            Quota.WORKFLOW_STARTS,
            "free",
            1000,
            1000,
            "plan free allows 1000 workflow starts per month; acme has started 1000 in 2026-11",
            3600L);

    HttpResponse response = problems.response(new CompletionException(starts));
    JsonNode body = problemBody(response, 429);

    assertThat(body.get("type").asText()).isEqualTo("https://keel.dev/problems/quota-exceeded");
    assertThat(body.get("title").asText()).isEqualTo("Too Many Requests");
    assertThat(body.get("detail").asText()).isEqualTo(starts.getMessage());
    assertThat(body.get("quota").asText()).isEqualTo("workflow-starts-per-month");
    assertThat(body.get("plan").asText()).isEqualTo("free");
    assertThat(body.get("limit").asLong()).isEqualTo(1000);
    assertThat(body.get("used").asLong()).isEqualTo(1000);
    assertThat(response.getHeader("Retry-After")).map(HttpHeader::value).contains("3600");

    var services =
        new QuotaExceededException(
            Quota.SERVICES, "free", 10, 10, "plan free allows 10 services; acme has 10", null);
    HttpResponse noRetry = problems.response(services);
    assertThat(problemBody(noRetry, 429).get("quota").asText()).isEqualTo("services");
    assertThat(noRetry.getHeader("Retry-After")).as("time alone does not lift it").isEmpty();
  }

  @Test
  void invalidInputIsBadRequestListingEveryField() throws Exception {
    var failure =
        new InvalidInputException(
            List.of(
                new InputProblem("input.email", "is required"),
                new InputProblem("input.items[0].quantity", "must be positive")));

    JsonNode body = problemBody(problems.response(new CompletionException(failure)), 400);

    assertThat(body.get("title").asText()).isEqualTo("Bad Request");
    assertThat(body.get("detail").asText()).isEqualTo("the input does not fit the workflow");
    assertThat(body.get("errors")).hasSize(2);
    assertThat(body.get("errors").get(0).get("field").asText()).isEqualTo("input.email");
    assertThat(body.get("errors").get(0).get("message").asText()).isEqualTo("is required");
    assertThat(body.get("errors").get(1).get("field").asText())
        .isEqualTo("input.items[0].quantity");
    assertThat(body.get("errors").get(1).get("message").asText()).isEqualTo("must be positive");
  }

  @Test
  void rejectionsBecomeNotFoundConflictAndBadRequest() throws Exception {
    Throwable notFound = Rejection.notFound("workflow 'x' does not exist").getError();
    Throwable conflict = Rejection.conflict("x already finished").getError();
    Throwable invalid = Rejection.invalid("x is not a cron").getError();
    assertThat(notFound).isInstanceOf(StatusReply.ErrorMessage.class);

    JsonNode nf = problemBody(problems.response(notFound), 404);
    JsonNode cf = problemBody(problems.response(conflict), 409);
    JsonNode iv = problemBody(problems.response(invalid), 400);

    // The kind prefix is the wire format between nodes, not something a client should see.
    assertThat(nf.get("detail").asText()).isEqualTo("workflow 'x' does not exist");
    assertThat(cf.get("detail").asText()).isEqualTo("x already finished");
    assertThat(cf.get("title").asText()).isEqualTo("Conflict");
    assertThat(iv.get("detail").asText()).isEqualTo("x is not a cron");
  }

  @Test
  void rejectionsFromTheLiteralWireTextAreMappedToo() {
    assertThat(problems.toProblem(StatusReply.error("not_found: x").getError()).status())
        .isEqualTo(404);
    assertThat(problems.toProblem(StatusReply.error("conflict: x").getError()).status())
        .isEqualTo(409);
    assertThat(problems.toProblem(StatusReply.error("invalid: x").getError()).status())
        .isEqualTo(400);
  }

  @Test
  void rejectionsWrappedByFutureCompositionAreStillRejections() {
    Throwable conflict = Rejection.conflict("x").getError();

    assertThat(problems.toProblem(new CompletionException(conflict)).status()).isEqualTo(409);
    assertThat(
            problems.toProblem(new ExecutionException(new CompletionException(conflict))).status())
        .isEqualTo(409);
  }

  @Test
  void timeoutsAreServiceUnavailableWithRetryAfter() throws Exception {
    for (Throwable failure :
        List.of(
            new TimeoutException("no answer"),
            new CompletionException(new TimeoutException("no answer")),
            new AskTimeoutException(
                "Ask timed out on [Actor[pekko://keel/system/sharding/workflow#1]] after [5000"
                    + " ms]"),
            new CompletionException(new AskTimeoutException("Ask timed out after [5000 ms]")))) {
      HttpResponse response = problems.response(failure);

      JsonNode body = problemBody(response, 503);
      assertThat(body.get("title").asText()).isEqualTo("Service Unavailable");
      assertThat(body.get("detail").asText()).doesNotContain("Actor[", "pekko://");
      assertThat(response.getHeader("Retry-After")).map(HttpHeader::value).contains("2");
    }
  }

  @Test
  void anythingElseIsABareInternalErrorThatLeaksNothing() throws Exception {
    var bug = new IllegalStateException("password=hunter2 at jdbc:postgresql://db:5432/keel");

    JsonNode body = problemBody(problems.response(new CompletionException(bug)), 500);

    String text = body.toString();
    assertThat(text)
        .doesNotContain(
            "IllegalStateException",
            "CompletionException",
            "hunter2",
            "jdbc",
            "at dev.keel",
            "at java.");
    assertThat(body.get("title").asText()).isEqualTo("Internal Server Error");
    assertThat(body.get("detail").asText()).isNotBlank();
  }

  @Test
  void statusReplyErrorsThatAreNotRejectionsAreBugsNotClientErrors() throws Exception {
    JsonNode body =
        problemBody(problems.response(StatusReply.error("unexpected: boom").getError()), 500);

    assertThat(body.toString()).doesNotContain("boom");
  }

  @Test
  void apiProblemsPassThroughUnchangedEvenWhenWrapped() throws Exception {
    var problem = ApiProblem.badRequest("limit", "must be between 1 and 500");

    assertThat(problems.toProblem(new CompletionException(problem))).isSameAs(problem);
    JsonNode body = problemBody(problems.response(problem), 400);
    assertThat(body.get("errors").get(0).get("field").asText()).isEqualTo("limit");
  }

  /** Asserts the RFC 9457 shape and media type, and returns the document. */
  static JsonNode problemBody(HttpResponse response, int status) throws Exception {
    assertThat(response.status().intValue()).isEqualTo(status);
    assertThat(response.entity().getContentType().mediaType().toString())
        .isEqualTo("application/problem+json");
    assertThat(response.entity()).isInstanceOf(HttpEntity.Strict.class);
    String text = ((HttpEntity.Strict) response.entity()).getData().utf8String();
    JsonNode body = Json.mapper().readTree(text);
    assertThat(body.get("type").asText()).startsWith("https://");
    assertThat(body.get("title").isTextual()).isTrue();
    assertThat(body.get("status").asInt()).isEqualTo(status);
    assertThat(body.get("detail").isTextual()).isTrue();
    assertThat(text).doesNotContain("Exception", "\tat ");
    return body;
  }

  @Test
  void linesLoggedForAFailedRequestCarryItsRequestId() throws Exception {
    ch.qos.logback.classic.Logger logger =
        (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(Problems.class);
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> lines =
        new ch.qos.logback.core.read.ListAppender<>();
    lines.start();
    logger.addAppender(lines);
    try {
      HttpResponse outage =
          problems.response(
              new CompletionException(new java.sql.SQLException("connection refused")),
              java.util.Optional.of("req-7f3a"));
      HttpResponse bug =
          problems.response(new IllegalStateException("a bug"), java.util.Optional.of("req-9b1c"));

      assertThat(outage.status().intValue()).isEqualTo(503);
      assertThat(bug.status().intValue()).isEqualTo(500);
      assertThat(lines.list)
          .extracting(e -> e.getMDCPropertyMap().get(HttpApi.REQUEST_ID_FIELD))
          .containsExactly("req-7f3a", "req-9b1c");
      assertThat(org.slf4j.MDC.get(HttpApi.REQUEST_ID_FIELD))
          .as("the id does not leak to the next request on this thread")
          .isNull();
    } finally {
      logger.detachAppender(lines);
    }
  }
}
