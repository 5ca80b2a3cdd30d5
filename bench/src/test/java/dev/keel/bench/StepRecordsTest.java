package dev.keel.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

class StepRecordsTest {

  private static JsonNode history(String events) throws Exception {
    return LoadReport.JSON.readTree("[" + events + "]");
  }

  private static String event(long seq, String type, String name) {
    return "{\"seq\":"
        + seq
        + ",\"at\":\"2026-12-07T10:00:00Z\",\"type\":\""
        + type
        + "\",\"data\":{\"name\":\""
        + name
        + "\"}}";
  }

  @Test
  void eachStepRecordedOnce_retriedAttemptsIncluded() throws Exception {
    JsonNode h =
        history(
            String.join(
                ",",
                "{\"seq\":1,\"type\":\"WorkflowStarted\",\"data\":{}}",
                event(2, "StepStarted", "reserve"),
                event(3, "StepStarted", "reserve"),
                event(4, "StepCompleted", "reserve"),
                event(5, "TimerStarted", "pause"),
                event(6, "TimerFired", "pause"),
                event(7, "StepCompleted", "charge"),
                event(8, "StepCompleted", "ship")));

    assertThat(StepRecords.recordedTwice(h)).isZero();
  }

  @Test
  void aStepCompletedTwiceOrATimerFiredTwiceCountsOncePerStep() throws Exception {
    JsonNode h =
        history(
            String.join(
                ",",
                event(1, "StepCompleted", "reserve"),
                event(2, "StepCompleted", "reserve"),
                event(3, "StepCompleted", "reserve"),
                event(4, "TimerFired", "pause"),
                event(5, "TimerFired", "pause"),
                event(6, "StepCompleted", "ship")));

    assertThat(StepRecords.recordedTwice(h)).isEqualTo(2);
  }
}
