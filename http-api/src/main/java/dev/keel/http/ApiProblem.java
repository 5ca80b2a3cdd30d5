package dev.keel.http;

import java.util.List;
import java.util.Map;

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
  private final String type;
  private final Map<String, Object> extensions;

  public ApiProblem(
      int status, String title, String detail, List<FieldError> errors, Integer retryAfterSeconds) {
    this(status, title, null, detail, errors, retryAfterSeconds, Map.of());
  }

  /**
   * {@code type}: the last segment of the problem type URI (null: from the title); {@code
   * extensions}: extra members of the problem document, in order (RFC 9457, section 3.2).
   */
  public ApiProblem(
      int status,
      String title,
      String type,
      String detail,
      List<FieldError> errors,
      Integer retryAfterSeconds,
      Map<String, Object> extensions) {
    super(detail, null, false, false);
    this.status = status;
    this.title = title;
    this.type = type;
    this.errors = List.copyOf(errors);
    this.retryAfterSeconds = retryAfterSeconds;
    this.extensions =
        java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(extensions));
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

  /** The last segment of the type URI: given, or the title in kebab case. */
  public String type() {
    return type != null ? type : title.toLowerCase(java.util.Locale.ROOT).replace(' ', '-');
  }

  public Map<String, Object> extensions() {
    return extensions;
  }
}
