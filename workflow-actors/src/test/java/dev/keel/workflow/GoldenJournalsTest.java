package dev.keel.workflow;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.persistence.GoldenJournal;
import dev.keel.workflow.execution.ExecutionView;
import dev.keel.workflow.execution.ExecutionView.StepView;
import dev.keel.workflow.execution.WorkflowExecution;
import dev.keel.workflow.schedule.Schedule;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * Journals of workflow executions and schedules written by earlier versions
 * (src/test/resources/golden) still read with the node's serialization and replay through today's
 * event handlers to the state they had: a change that breaks an old journal fails here.
 */
class GoldenJournalsTest {

  private final GoldenJournal golden = GoldenJournal.get();

  @Test
  void everyGoldenJournalReplays() {
    assertThat(golden.replayAll(WorkflowExecution.AUDIT))
        .allSatisfy(r -> assertThat(r.view()).isPresent());
    assertThat(golden.replayAll(Schedule.AUDIT)).allSatisfy(r -> assertThat(r.view()).isPresent());
  }

  @Test
  void completedExample_fromItsSnapshotToo() {
    ExecutionView v = view(golden.replay(WorkflowExecution.AUDIT, "2026-11-22-example-completed"));
    assertThat(v.id()).isEqualTo("golden-ok");
    assertThat(v.workflow()).isEqualTo("example");
    assertThat(v.status()).isEqualTo("completed");
    assertThat(v.input().get("userId").asText()).isEqualTo("u-42");
    assertThat(v.output().get("summary").asText()).isEqualTo("onboard done for u-42");
    assertThat(v.steps())
        .extracting(StepView::name)
        .containsExactly("validate", "process", "summarize");
    assertThat(v.steps()).allSatisfy(s -> assertThat(s.status()).isEqualTo("completed"));
    assertThat(v.completedAt()).isEqualTo(Instant.parse("2026-11-22T16:21:47.384321372Z"));
  }

  @Test
  void retriedInPlace_fromTheSnapshotTakenWhileFailed() {
    GoldenJournal.Replayed<WorkflowExecution.State> r =
        golden.replay(WorkflowExecution.AUDIT, "2026-12-08-retried-in-place");
    ExecutionView v = view(r);
    assertThat(v.status()).isEqualTo("completed");
    assertThat(v.output().asText()).isEqualTo("rcs");
    assertThat(v.steps()).extracting(StepView::name).containsExactly("reserve", "charge", "ship");
    assertThat(v.steps()).allSatisfy(s -> assertThat(s.status()).isEqualTo("completed"));
    assertThat(r.events())
        .filteredOn(e -> e instanceof WorkflowExecution.WorkflowRetried)
        .singleElement()
        .satisfies(
            e ->
                assertThat(((WorkflowExecution.WorkflowRetried) e).reason())
                    .isEqualTo("card back"));
  }

  @Test
  void rerunFromAStep_linkedBothWays() {
    ExecutionView source =
        view(golden.replay(WorkflowExecution.AUDIT, "2026-12-08-failed-then-rerun"));
    assertThat(source.status()).isEqualTo("failed");
    assertThat(source.reruns()).containsExactly("golden-rerun");
    GoldenJournal.Replayed<WorkflowExecution.State> r =
        golden.replay(WorkflowExecution.AUDIT, "2026-12-08-rerun-from-charge");
    ExecutionView rerun = view(r);
    assertThat(rerun.rerunOf()).isEqualTo("golden-rerun-source");
    assertThat(rerun.status()).isEqualTo("completed");
    assertThat(rerun.output().asText()).isEqualTo("rcs");
    assertThat(r.events())
        .filteredOn(e -> e instanceof WorkflowExecution.StepsCopied)
        .singleElement()
        .satisfies(
            e ->
                assertThat(((WorkflowExecution.StepsCopied) e).ops())
                    .extracting(WorkflowExecution.CopiedOp::name)
                    .containsExactly("reserve"));
  }

  @Test
  void failedExample() {
    ExecutionView v = view(golden.replay(WorkflowExecution.AUDIT, "2026-11-22-example-failed"));
    assertThat(v.status()).isEqualTo("failed");
    assertThat(v.error())
        .isEqualTo("step 'validate' failed: IllegalArgumentException: userId must not be empty");
    assertThat(v.steps())
        .singleElement()
        .satisfies(
            s -> {
              assertThat(s.status()).isEqualTo("failed");
              assertThat(s.attempts()).isEqualTo(1);
            });
  }

  @Test
  void signalledAfterPauseAndResume_recoveredFromTheSnapshotTakenWhilePaused() {
    GoldenJournal.Replayed<WorkflowExecution.State> r =
        golden.replay(WorkflowExecution.AUDIT, "2026-11-22-signal-pause-resume");
    ExecutionView v = view(r);
    assertThat(v.status()).isEqualTo("completed");
    assertThat(v.output().asText()).isEqualTo("prepared, approved by ops");
    assertThat(v.steps())
        .extracting(StepView::name)
        .containsExactly("prepare", "approve", "finish");
    assertThat(v.steps().get(1).kind()).isEqualTo("signal");
    assertThat(v.steps().get(1).output().get("by").asText()).isEqualTo("ops");
    assertThat(v.pendingSignals()).isEmpty();
    assertThat(r.events())
        .extracting(e -> e.getClass().getSimpleName())
        .contains(
            "SignalAwaited",
            "WorkflowPaused",
            "SnapshotRequested",
            "WorkflowResumed",
            "SignalReceived");
  }

  @Test
  void redefinedPausedSchedule() {
    Schedule.ScheduleView v =
        (Schedule.ScheduleView)
            golden.replay(Schedule.AUDIT, "2026-11-22-redefined-paused").view().orElseThrow();
    assertThat(v.id()).isEqualTo("golden-s");
    assertThat(v.cron()).isEqualTo("30 4 * * 1");
    assertThat(v.timezone()).isEqualTo("Europe/Paris");
    assertThat(v.paused()).isTrue();
    assertThat(v.createdAt()).isBefore(v.updatedAt());
  }

  private static ExecutionView view(GoldenJournal.Replayed<?> r) {
    return (ExecutionView) r.view().orElseThrow();
  }
}
