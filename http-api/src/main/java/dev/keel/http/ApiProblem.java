package dev.keel.http;

import java.util.List;

/**
 * An RFC 9457 problem to answer with. Thrown by request translation (bad input) and produced by
 * {@link Problems} from façade failures.
 */
public final class ApiProblem extends RuntimeException {

  public record FieldError(String field, String message) {}

  private final int status;
  private final String title;
  private final List<FieldError> errors;
  private final Integer retryAfterSeconds;

  public ApiProblem(int status, String title, String detail, List<FieldError> errors, Integer retryAfterSeconds) {
    super(detail, null, false, false);
    this.status = status;
    this.title = title;
    this.errors = List.copyOf(errors);
    this.retryAfterSeconds = retryAfterSeconds;
  }

  public static ApiProblem badRequest(String detail, List<FieldError> errors) {
    return new ApiProblem(400, "Bad Request", detail, errors, null);
  }

  public static ApiProblem badRequest(String field, String message) {
    return badRequest("the request has an invalid field", List.of(new FieldError(field, message)));
  }

  public static ApiProblem notFound(String detail) {
    return new ApiProblem(404, "Not Found", detail, List.of(), null);
  }

  public static ApiProblem conflict(String detail) {
    return new ApiProblem(409, "Conflict", detail, List.of(), null);
  }

  public static ApiProblem unavailable(String detail, int retryAfterSeconds) {
    return new ApiProblem(503, "Service Unavailable", detail, List.of(), retryAfterSeconds);
  }

  public int status() {
    return status;
  }

  public String title() {
    return title;
  }

  public String detail() {
    return getMessage();
  }

  public List<FieldError> errors() {
    return errors;
  }

  public Integer retryAfterSeconds() {
    return retryAfterSeconds;
  }
}
