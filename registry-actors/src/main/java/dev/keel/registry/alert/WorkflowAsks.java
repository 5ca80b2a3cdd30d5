package dev.keel.registry.alert;

import dev.keel.persistence.Rejection;
import dev.keel.workflow.execution.InvalidInputException;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * How the outboxes ({@link DeliveryOutbox}, {@link RepairOutbox}) read the answers of the workflow
 * side: bounded in time, permanent or worth retrying, and described without class names.
 */
final class WorkflowAsks {

  private WorkflowAsks() {}

  /**
   * An ask that never answers must not hold a firing forever: past {@code millis} it is a failure.
   */
  static <T> CompletionStage<T> bounded(CompletionStage<T> asked, long millis) {
    CompletableFuture<T> result = new CompletableFuture<>();
    asked.whenComplete(
        (value, failure) -> {
          if (failure != null) result.completeExceptionally(failure);
          else result.complete(value);
        });
    return result.orTimeout(millis, TimeUnit.MILLISECONDS);
  }

  /**
   * The same start cannot succeed later: the id belongs to another execution, or the input is
   * refused.
   */
  static boolean isPermanent(Throwable failure) {
    Throwable cause = unwrap(failure);
    if (cause instanceof InvalidInputException) return true;
    Optional<Rejection> rejection = Rejection.of(failure);
    return rejection.isPresent()
        && (rejection.get().kind() == Rejection.Kind.CONFLICT
            || rejection.get().kind() == Rejection.Kind.INVALID);
  }

  /** Whether the workflow asked about does not exist. */
  static boolean isNotFound(Throwable failure) {
    return Rejection.of(failure).map(r -> r.kind() == Rejection.Kind.NOT_FOUND).orElse(false);
  }

  static String describe(Throwable failure) {
    Throwable cause = unwrap(failure);
    if (cause instanceof TimeoutException) return "no answer within the ask timeout";
    String message = cause.getMessage();
    return message == null || message.isBlank() ? cause.getClass().getSimpleName() : message;
  }

  private static Throwable unwrap(Throwable failure) {
    Throwable cause = failure;
    while (cause instanceof CompletionException && cause.getCause() != null)
      cause = cause.getCause();
    return cause;
  }
}
