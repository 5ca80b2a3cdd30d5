package dev.keel.client;

import java.time.Instant;

/** One execution of a list ({@code GET /api/v1/workflows}): what the read model holds. */
public record WorkflowSummary(
    String id,
    String workflow,
    String tenantId,
    String status,
    Integer version,
    Instant createdAt,
    Instant updatedAt,
    Instant completedAt) {}
