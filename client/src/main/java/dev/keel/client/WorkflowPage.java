package dev.keel.client;

import java.util.List;

/** One page of executions, newest first; {@code nextCursor} is null on the last page. */
public record WorkflowPage(List<WorkflowSummary> items, String nextCursor) {
  public WorkflowPage {
    items = Copies.list(items);
  }
}
