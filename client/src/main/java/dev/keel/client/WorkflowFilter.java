package dev.keel.client;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Which executions a list or a bulk action covers; null fields don't filter. {@code from} is
 * inclusive and {@code to} exclusive (on {@code createdAt}); {@code idPrefix} applies to lists
 * only.
 *
 * <pre>{@code
 * keel.listWorkflows(WorkflowFilter.all().withStatus("failed").withWorkflow("checkout"));
 * }</pre>
 */
public record WorkflowFilter(
    String status, String workflow, String tenantId, Instant from, Instant to, String idPrefix) {

  public static WorkflowFilter all() {
    return new WorkflowFilter(null, null, null, null, null, null);
  }

  public WorkflowFilter withStatus(String s) {
    return new WorkflowFilter(s, workflow, tenantId, from, to, idPrefix);
  }

  public WorkflowFilter withWorkflow(String w) {
    return new WorkflowFilter(status, w, tenantId, from, to, idPrefix);
  }

  public WorkflowFilter withTenantId(String t) {
    return new WorkflowFilter(status, workflow, t, from, to, idPrefix);
  }

  public WorkflowFilter createdBetween(Instant fromInclusive, Instant toExclusive) {
    return new WorkflowFilter(status, workflow, tenantId, fromInclusive, toExclusive, idPrefix);
  }

  public WorkflowFilter withIdPrefix(String p) {
    return new WorkflowFilter(status, workflow, tenantId, from, to, p);
  }

  /** The list's query parameters. */
  Map<String, Object> query() {
    Map<String, Object> q = new LinkedHashMap<>();
    q.put("status", status);
    q.put("workflow", workflow);
    q.put("tenantId", tenantId);
    q.put("from", from == null ? null : from.toString());
    q.put("to", to == null ? null : to.toString());
    q.put("idPrefix", idPrefix);
    return q;
  }

  /** The bulk request's {@code filter} (its field names differ from the list's parameters). */
  Map<String, Object> bulkFilter() {
    Map<String, Object> f = new LinkedHashMap<>();
    if (status != null) f.put("status", status);
    if (workflow != null) f.put("workflow", workflow);
    if (tenantId != null) f.put("tenantId", tenantId);
    if (from != null) f.put("createdAfter", from.toString());
    if (to != null) f.put("createdBefore", to.toString());
    return f;
  }
}
