package dev.keel.bench;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.HashMap;
import java.util.Map;

/**
 * What an execution's journal ({@code GET /api/v1/workflows/{id}/history}) says about its steps: a
 * step recorded more than once is what Keel promises never happens, whatever fails.
 */
final class StepRecords {

  private StepRecords() {}

  /**
   * Steps recorded more than once: a step name with more than one {@code StepCompleted}, or a
   * durable timer (a {@code sleep} step) with more than one {@code TimerFired}.
   */
  static int recordedTwice(JsonNode history) {
    Map<String, Integer> records = new HashMap<>();
    for (JsonNode event : history) {
      String type = event.path("type").asText();
      if (type.equals("StepCompleted") || type.equals("TimerFired")) {
        records.merge(type + ":" + event.path("data").path("name").asText(), 1, Integer::sum);
      }
    }
    return (int) records.values().stream().filter(n -> n > 1).count();
  }
}
