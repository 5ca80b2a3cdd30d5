package dev.keel.workflow.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keel.workflow.sdk.ReplayDivergedError;
import dev.keel.workflow.sdk.Workflow;
import dev.keel.workflow.sdk.WorkflowContext;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The replayer against histories in the shape {@code GET .../history} returns: the code that
 * recorded them replays, a changed call order fails naming the position and both calls, and an
 * unfinished history stops where it ends. No step body runs.
 */
class WorkflowReplayerTest {

  /** A retried execution: charge failed, was retried in place, then everything completed. */
  static final String RETRIED =
      "[{\"seq\":1,\"at\":\"2026-12-07T10:00:00Z\",\"type\":\"WorkflowStarted\",\"data\":"
          + "{\"workflowId\":\"co-1\",\"workflow\":\"checkout\",\"version\":1,\"tenantId\":null,"
          + "\"input\":{\"customer\":\"c-1\"},\"at\":\"2026-12-07T10:00:00Z\"}},"
          + event(2, "StepStarted", "{\"seq\":0,\"name\":\"reserve\",\"attempt\":1}")
          + event(3, "StepCompleted", "{\"seq\":0,\"name\":\"reserve\",\"output\":\"r1\"}")
          + event(4, "StepStarted", "{\"seq\":1,\"name\":\"charge\",\"attempt\":1}")
          + event(
              5,
              "StepFailed",
              "{\"seq\":1,\"name\":\"charge\",\"attempt\":1,\"error\":\"declined\",\"retryAt\":null}")
          + event(6, "WorkflowFailed", "{\"error\":\"step 'charge' failed: declined\"}")
          + event(7, "WorkflowRetried", "{\"fromSeq\":1,\"reason\":\"fixed\"}")
          + event(8, "StepStarted", "{\"seq\":1,\"name\":\"charge\",\"attempt\":1}")
          + event(9, "StepCompleted", "{\"seq\":1,\"name\":\"charge\",\"output\":\"c2\"}")
          + event(
              10,
              "TimerStarted",
              "{\"seq\":2,\"name\":\"cool-off\",\"wakeAt\":\"2026-12-07T10:05:00Z\"}")
          + event(11, "TimerFired", "{\"seq\":2,\"name\":\"cool-off\"}")
          + event(12, "StepStarted", "{\"seq\":3,\"name\":\"ship\",\"attempt\":1}")
          + event(13, "StepCompleted", "{\"seq\":3,\"name\":\"ship\",\"output\":\"s1\"}")
          + "{\"seq\":14,\"at\":\"2026-12-07T10:05:01Z\",\"type\":\"WorkflowCompleted\","
          + "\"data\":{\"output\":\"r1c2s1\"}}]";

  private static String event(int seq, String type, String data) {
    return "{\"seq\":"
        + seq
        + ",\"at\":\"2026-12-07T10:00:0"
        + (seq % 10)
        + "Z\",\"type\":\""
        + type
        + "\",\"data\":"
        + data
        + "},";
  }

  public record Order(String customer) {}

  /** The checkout as it recorded the history; {@code fraudCheck} is the change being tested. */
  static final class Checkout implements Workflow<Order, String> {
    final boolean fraudCheck;

    Checkout(boolean fraudCheck) {
      this.fraudCheck = fraudCheck;
    }

    public String name() {
      return "checkout";
    }

    public Class<Order> inputType() {
      return Order.class;
    }

    public String run(WorkflowContext ctx, Order in) {
      String r = ctx.step("reserve", String.class, () -> fail());
      if (fraudCheck) ctx.step("fraud-check", Boolean.class, () -> fail());
      String c = ctx.step("charge", String.class, () -> fail());
      ctx.sleep("cool-off", Duration.ofMinutes(5));
      String s = ctx.step("ship", String.class, () -> fail());
      return r + c + s;
    }

    private static <T> T fail() {
      throw new AssertionError("a step body ran on replay");
    }
  }

  @Test
  void theCodeThatRecordedAHistoryReplaysItToTheSameOutput() {
    WorkflowReplayer.Result r = WorkflowReplayer.replay(new Checkout(false), RETRIED);

    assertThat(r).isEqualTo(new WorkflowReplayer.Result(4, 4, true, "r1c2s1"));
  }

  @Test
  void aCallInsertedBeforeRecordedOnesFailsAtItsPositionNamingBoth() {
    assertThatThrownBy(() -> WorkflowReplayer.replay(new Checkout(true), RETRIED))
        .isInstanceOf(ReplayDivergedError.class)
        .hasMessage(
            "replay diverged at position 1: the history has step 'charge' but the code now asks"
                + " for step 'fraud-check'");
  }

  @Test
  void anUnfinishedHistoryReplaysUpToItsEnd() {
    // Everything before the sleep: the execution was between its second step and the sleep.
    String head = RETRIED.substring(0, RETRIED.indexOf("{\"seq\":10,"));
    String running = head.substring(0, head.length() - 1) + "]";

    WorkflowReplayer.Result r = WorkflowReplayer.replay(new Checkout(false), running);

    assertThat(r).isEqualTo(new WorkflowReplayer.Result(2, 2, false, null));
    assertThatThrownBy(() -> WorkflowReplayer.replay(new Checkout(true), running))
        .isInstanceOf(ReplayDivergedError.class)
        .hasMessageStartingWith("replay diverged at position 1");
  }
}
