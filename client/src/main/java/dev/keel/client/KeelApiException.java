package dev.keel.client;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Keel answered with an error status (4xx, or a 5xx other than 503), described by its RFC 9457
 * problem document: {@link #status()}, {@link #type()}, {@link #title()}, {@link #detail()} and,
 * for a 400, every bad field in {@link #fieldErrors()}.
 *
 * <pre>{@code
 * try {
 *   keel.putAlert("lag", new AlertRule("orders", "metrics.lag >> 3", "https://hooks.example/keel", null));
 * } catch (KeelApiException e) {
 *   if (e.status() == 400) e.fieldErrors().forEach(f -> System.err.println(f.field() + ": " + f.message()));
 * }
 * }</pre>
 */
public final class KeelApiException extends KeelException {

  /**
   * One bad field of a request: its name (or path, like {@code input.steps[1].sleep}) and what is
   * wrong.
   */
  public record FieldError(String field, String message) {}

  private final int status;
  private final String type;
  private final String title;
  private final String detail;
  private final List<FieldError> fieldErrors;
  private final Duration retryAfter;

  KeelApiException(
      int status,
      String type,
      String title,
      String detail,
      List<FieldError> fieldErrors,
      Duration retryAfter) {
    super(message(status, title, detail, fieldErrors), null);
    this.status = status;
    this.type = type;
    this.title = title;
    this.detail = detail;
    this.fieldErrors = List.copyOf(fieldErrors);
    this.retryAfter = retryAfter;
  }

  /** The HTTP status, such as 400, 404 or 409. */
  public int status() {
    return status;
  }

  /** The problem type URI, or null when the answer was not a problem document. */
  public String type() {
    return type;
  }

  /** The problem's short title, such as {@code Not Found}. */
  public String title() {
    return title;
  }

  /** What went wrong with this request, or null. */
  public String detail() {
    return detail;
  }

  /** Every bad field of a 400; empty otherwise. */
  public List<FieldError> fieldErrors() {
    return fieldErrors;
  }

  /** The {@code Retry-After} of a 429, when Keel sent one. */
  public Optional<Duration> retryAfter() {
    return Optional.ofNullable(retryAfter);
  }

  /**
   * {@code 400 Bad Request: the request has invalid fields (condition: does not parse; webhook:
   * must be http or https)}.
   */
  private static String message(int status, String title, String detail, List<FieldError> errors) {
    StringBuilder b = new StringBuilder().append(status);
    if (title != null && !title.isBlank()) b.append(' ').append(title);
    if (detail != null && !detail.isBlank()) b.append(": ").append(detail);
    if (!errors.isEmpty()) {
      b.append(" (")
          .append(
              errors.stream()
                  .map(e -> e.field() + ": " + e.message())
                  .collect(Collectors.joining("; ")))
          .append(')');
    }
    return b.toString();
  }
}
