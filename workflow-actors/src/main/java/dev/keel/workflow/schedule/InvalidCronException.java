package dev.keel.workflow.schedule;

/**
 * A schedule's cron expression or time zone was rejected. {@link #field()} names the offending
 * request field ({@code "cron"} or {@code "timezone"}) so that the HTTP layer can list it in a 400
 * problem document; the message reads well on its own, e.g. {@code cron '0 25 * * *': hour 25 is
 * out of range 0-23}.
 */
public final class InvalidCronException extends IllegalArgumentException {

  private final String field;

  public InvalidCronException(String field, String message) {
    super(message);
    this.field = field;
  }

  /** {@code "cron"} or {@code "timezone"}. */
  public String field() {
    return field;
  }
}
