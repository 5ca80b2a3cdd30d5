package dev.keel.client;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.List;
import java.util.Set;

/**
 * A workflow execution ({@code GET /api/v1/workflows/{id}}).
 *
 * @param status {@code running}, {@code sleeping}, {@code waiting} (for a signal), {@code paused},
 *     {@code completed}, {@code failed} or {@code cancelled}
 * @param queued true while the execution waits for a free slot under a concurrency cap
 * @param output the workflow's result once {@code completed}, else JSON null
 * @param error why it {@code failed} or was {@code cancelled}, else null
 * @param rerunOf the execution this one reruns from a step, else null
 * @param reruns the executions started as reruns of this one, oldest first
 */
public record WorkflowExecution(
    String id,
    String workflow,
    Integer version,
    String tenantId,
    String status,
    Boolean queued,
    JsonNode input,
    JsonNode output,
    String error,
    Instant createdAt,
    Instant updatedAt,
    Instant completedAt,
    List<Step> steps,
    List<String> pendingSignals,
    String rerunOf,
    List<String> reruns) {

  private static final Set<String> FINAL = Set.of("completed", "failed", "cancelled");

  public WorkflowExecution {
    steps = Copies.list(steps);
    pendingSignals = Copies.list(pendingSignals);
    reruns = Copies.list(reruns);
  }

  /** {@code completed}, {@code failed} or {@code cancelled}: nothing more will happen. */
  @JsonIgnore
  public boolean isFinal() {
    return FINAL.contains(status);
  }

  @JsonIgnore
  public boolean isCompleted() {
    return "completed".equals(status);
  }

  /** The output read as {@code type} (a record, a map, ...); null while there is none. */
  public <T> T outputAs(Class<T> type) {
    if (output == null || output.isNull() || output.isMissingNode()) return null;
    try {
      return KeelJson.MAPPER.treeToValue(output, type);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(
          "the output of "
              + id
              + " is not a "
              + type.getSimpleName()
              + ": "
              + e.getOriginalMessage(),
          e);
    }
  }

  /** One recorded call of the execution: a step, a sleep or a signal wait. */
  public record Step(
      String name,
      String kind,
      String status,
      Integer attempts,
      JsonNode output,
      String error,
      Instant startedAt,
      Instant completedAt,
      Instant dueAt) {}
}
