package dev.keel.workflow.readmodel;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.NullNode;
import dev.keel.persistence.DatabaseSettings;
import dev.keel.persistence.ReadModelProjection.Change;
import dev.keel.persistence.TestDatabases;
import dev.keel.workflow.execution.WorkflowExecution.Event;
import dev.keel.workflow.execution.WorkflowExecution.SignalAwaited;
import dev.keel.workflow.execution.WorkflowExecution.SignalReceived;
import dev.keel.workflow.execution.WorkflowExecution.SignalTimedOut;
import dev.keel.workflow.execution.WorkflowExecution.StepFailed;
import dev.keel.workflow.execution.WorkflowExecution.StepStarted;
import dev.keel.workflow.execution.WorkflowExecution.TimerFired;
import dev.keel.workflow.execution.WorkflowExecution.TimerStarted;
import dev.keel.workflow.execution.WorkflowExecution.WorkflowCancelled;
import dev.keel.workflow.execution.WorkflowExecution.WorkflowCompleted;
import dev.keel.workflow.execution.WorkflowExecution.WorkflowFailed;
import dev.keel.workflow.execution.WorkflowExecution.WorkflowPaused;
import dev.keel.workflow.execution.WorkflowExecution.WorkflowResumed;
import dev.keel.workflow.execution.WorkflowExecution.WorkflowRetried;
import dev.keel.workflow.execution.WorkflowExecution.WorkflowStarted;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The workflow list folded a batch at a time must be the list applied event by event: the same
 * executions, in every lifecycle the entity journals, cut into batches at random places (a start
 * and its end in one batch or in different ones), on H2 and on PostgreSQL.
 */
class WorkflowProjectionBatchTest {

  private static final Instant T0 = Instant.parse("2026-03-01T07:30:00.123456Z");

  @TempDir Path dir;

  @ParameterizedTest
  @EnumSource(DatabaseSettings.Kind.class)
  void aBatchFoldedInMemoryLeavesTheTablesAsEventByEventDoes(DatabaseSettings.Kind kind)
      throws Exception {
    List<Change<Event>> journal = journal(new Random(42), 150);
    try (TestDatabases.Migrated batched =
            TestDatabases.migrated(kind, dir.resolve("batched"), "workflow-batch-test-a");
        TestDatabases.Migrated oneByOne =
            TestDatabases.migrated(kind, dir.resolve("one-by-one"), "workflow-batch-test-b")) {
      Random cuts = new Random(7);
      try (Connection c = batched.dataSource().getConnection()) {
        for (int from = 0; from < journal.size(); ) {
          int to = Math.min(journal.size(), from + 1 + cuts.nextInt(60));
          WorkflowProjectionHandler.applyBatch(c, journal.subList(from, to));
          from = to;
        }
      }
      try (Connection c = oneByOne.dataSource().getConnection()) {
        for (Change<Event> change : journal)
          WorkflowProjectionHandler.apply(c, change.entityId(), change.event());
      }

      List<String> rows = dump(oneByOne, "SELECT * FROM keel_workflows ORDER BY id");
      assertThat(rows).hasSize(150);
      assertThat(dump(batched, "SELECT * FROM keel_workflows ORDER BY id")).isEqualTo(rows);
      List<String> wakeups =
          dump(oneByOne, "SELECT * FROM keel_workflow_wakeups ORDER BY workflow_id");
      assertThat(wakeups).isNotEmpty();
      assertThat(dump(batched, "SELECT * FROM keel_workflow_wakeups ORDER BY workflow_id"))
          .isEqualTo(wakeups);
      // Every kind of ending and waiting is in the data, so the comparison means something.
      assertThat(String.join("\n", rows))
          .contains("completed", "failed", "cancelled", "sleeping", "waiting", "paused", "running");
    }
  }

  /** {@code executions} lifecycles interleaved the way concurrent executions journal. */
  private static List<Change<Event>> journal(Random random, int executions) {
    List<List<Event>> lives = new ArrayList<>();
    for (int i = 0; i < executions; i++) lives.add(life(random, i));
    List<Change<Event>> journal = new ArrayList<>();
    int[] next = new int[executions];
    int left = lives.stream().mapToInt(List::size).sum();
    while (left > 0) {
      int i = random.nextInt(executions);
      if (next[i] >= lives.get(i).size()) continue;
      journal.add(new Change<>("wf-" + i, lives.get(i).get(next[i]++)));
      left--;
    }
    return journal;
  }

  private static List<Event> life(Random random, int i) {
    Instant at = T0.plusMillis(i);
    List<Event> events = new ArrayList<>();
    events.add(
        new WorkflowStarted(
            "wf-" + i, "w" + (i % 3), 1, i % 2 == 0 ? "acme" : null, NullNode.getInstance(), at));
    int steps = random.nextInt(4);
    for (int s = 0; s < steps; s++) {
      at = at.plusMillis(1);
      switch (random.nextInt(7)) {
        case 0 -> events.add(new TimerStarted(s, "t" + s, at.plusSeconds(60), at));
        case 1 -> {
          events.add(new TimerStarted(s, "t" + s, at.plusSeconds(60), at));
          events.add(new TimerFired(s, "t" + s, at.plusSeconds(60)));
        }
        case 2 -> events.add(new SignalAwaited(s, "s" + s, at.plusSeconds(30), at));
        case 3 -> {
          events.add(new SignalAwaited(s, "s" + s, at.plusSeconds(30), at));
          events.add(
              random.nextBoolean()
                  ? new SignalReceived("s" + s, NullNode.getInstance(), s, at.plusSeconds(1))
                  : new SignalTimedOut(s, "s" + s, at.plusSeconds(30)));
        }
        case 4 -> {
          events.add(new StepFailed(s, "x" + s, 1, "boom", at.plusSeconds(5), at));
          events.add(new StepStarted(s, "x" + s, 2, at.plusSeconds(5)));
        }
        case 5 -> events.add(new WorkflowPaused(at));
        default -> {
          events.add(new WorkflowPaused(at));
          events.add(new WorkflowResumed(at.plusMillis(1)));
        }
      }
    }
    at = at.plusMillis(1);
    switch (random.nextInt(6)) {
      case 0 -> events.add(new WorkflowCompleted(NullNode.getInstance(), at));
      case 1 -> events.add(new WorkflowFailed("boom", at));
      case 2 -> events.add(new WorkflowCancelled("stop", at));
      case 3 -> {
        // Retried in place, then completed or still going.
        events.add(new WorkflowFailed("boom", at));
        events.add(new WorkflowRetried(0, "fixed", at.plusSeconds(1)));
        if (random.nextBoolean())
          events.add(new WorkflowCompleted(NullNode.getInstance(), at.plusSeconds(2)));
      }
      default -> {} // still going
    }
    return events;
  }

  private static List<String> dump(TestDatabases.Migrated db, String sql) throws Exception {
    List<String> rows = new ArrayList<>();
    try (Connection c = db.dataSource().getConnection();
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(sql)) {
      int columns = rs.getMetaData().getColumnCount();
      while (rs.next()) {
        StringBuilder row = new StringBuilder();
        for (int k = 1; k <= columns; k++) row.append(rs.getObject(k)).append('|');
        rows.add(row.toString());
      }
    }
    return rows;
  }
}
