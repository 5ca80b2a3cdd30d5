package dev.keel.persistence.grammar;

import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Ids: those clients choose (the contract's pattern, API.md), tenant ids, and the longest id Keel
 * makes from a client's (a schedule tick's workflow {@code <scheduleId>@<instant>}).
 *
 * <pre>{@code
 * Ids.problem("order-1234")   // empty
 * Ids.problem("..")           // "must match ^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"
 * }</pre>
 *
 * The first character is a letter or digit, so {@code .} and {@code ..} are never ids and a path
 * never resolves to its parent through one.
 */
public final class Ids {

  public static final int MAX_LENGTH = 128;
  public static final Pattern PATTERN =
      Pattern.compile("^[A-Za-z0-9][A-Za-z0-9._:-]{0," + (MAX_LENGTH - 1) + "}$");

  /**
   * Tenant ids fit {@code keel_tenants.id}; the ones Keel makes are 27 characters ({@code
   * ApiKeys}).
   */
  public static final int MAX_TENANT_ID_LENGTH = 64;

  /**
   * The longest workflow id: a client id, or one Keel derives from a client id such as a schedule
   * tick's {@code <scheduleId>@2026-11-22T09:00:00.000Z} (128 + 25 characters). The workflow read
   * model's id columns hold this many (migration V11).
   */
  public static final int MAX_WORKFLOW_ID_LENGTH = 256;

  /**
   * Any id Keel keeps: a client's, or one Keel derives from it (its characters plus {@code @} and
   * {@code +}), at most {@value #MAX_WORKFLOW_ID_LENGTH} characters. What a path segment naming a
   * resource must match.
   */
  public static final Pattern ANY_PATTERN =
      Pattern.compile("^[A-Za-z0-9][A-Za-z0-9._:@+-]{0," + (MAX_WORKFLOW_ID_LENGTH - 1) + "}$");

  private Ids() {}

  public static boolean isId(String value) {
    return value != null && PATTERN.matcher(value).matches();
  }

  /** What is wrong with {@code value} as a client-chosen id; empty when it is one. */
  public static Optional<String> problem(String value) {
    if (value == null || value.isEmpty()) return Optional.of("is required");
    if (!isId(value)) return Optional.of("must match " + PATTERN.pattern());
    return Optional.empty();
  }

  /**
   * What is wrong with {@code value} as a tenant id: an id of at most {@value
   * #MAX_TENANT_ID_LENGTH} characters.
   */
  public static Optional<String> tenantIdProblem(String value) {
    if (value == null || value.isEmpty()) return Optional.of("is required");
    if (!isId(value) || value.length() > MAX_TENANT_ID_LENGTH) {
      return Optional.of(
          "must be a tenant id: letters, digits, '.', '_', ':' or '-', starting with a letter or"
              + " digit, at most "
              + MAX_TENANT_ID_LENGTH
              + " characters");
    }
    return Optional.empty();
  }

  /**
   * What is wrong with {@code value} as a workflow id Keel derives (a client id's characters plus
   * {@code @} and {@code +}).
   */
  public static Optional<String> workflowIdProblem(String value) {
    if (value == null || value.isEmpty()) return Optional.of("is required");
    if (!ANY_PATTERN.matcher(value).matches()) {
      return Optional.of(
          "must be a workflow id of at most " + MAX_WORKFLOW_ID_LENGTH + " characters");
    }
    return Optional.empty();
  }
}
