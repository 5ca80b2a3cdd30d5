package dev.keel.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/** {@code keel metrics}: its durations, its table and its sparklines. */
class MetricsCommandTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void shortDurationsBecomeIsoAndIsoPassesThrough() {
    assertThat(MetricsCommand.iso("--duration", "1h")).isEqualTo("PT1H");
    assertThat(MetricsCommand.iso("--duration", "90s")).isEqualTo("PT1M30S");
    assertThat(MetricsCommand.iso("--duration", "7d")).isEqualTo("P7D");
    assertThat(MetricsCommand.iso("--step", "PT5M")).isEqualTo("PT5M");
    assertThatThrownBy(() -> MetricsCommand.iso("--duration", "soon"))
        .hasMessageContaining("--duration: 'soon' is not a duration");
  }

  @Test
  void aRowPerMetricWithItsRangeAndASparklineOfItsMeans() throws Exception {
    JsonNode history =
        JSON.readTree(
            """
            {"serviceId":"pump-1","since":"2026-03-01T06:30:00Z","step":"PT1M","resolution":"PT1M",
             "metrics":[{"name":"lag","points":[
               {"time":"2026-03-01T06:30:00Z","min":0,"max":2,"last":1,"mean":1},
               {"time":"2026-03-01T06:31:00Z","min":4,"max":6,"last":5,"mean":5},
               {"time":"2026-03-01T06:32:00Z","min":2.5,"max":3.5,"last":3.25,"mean":3}]},
              {"name":"rate","points":[]}]}
            """);
    String table = MetricsCommand.table(history);
    assertThat(table.lines().toList().get(0)).contains("METRIC", "MIN", "MAX", "LAST", "MEAN");
    assertThat(table).contains("lag").doesNotContain("rate");
    assertThat(table.lines().toList().get(1).split("\\s+"))
        .containsExactly("lag", "0", "6", "3.25", "3", "▁█▅");
    assertThat(table).contains("step PT1M");
  }
}
