package dev.keel.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** API.md: instants as ISO-8601 UTC strings with exactly milliseconds. */
class JsonTest {

  private final ObjectMapper mapper = Json.mapper();

  record Stamped(Instant at, Optional<Instant> completedAt) {}

  record Timed(Duration timeout) {}

  @Test
  void aWholeSecondStillHasThreeFractionDigits() throws Exception {
    assertThat(mapper.writeValueAsString(Instant.parse("2026-11-22T09:00:00Z")))
        .isEqualTo("\"2026-11-22T09:00:00.000Z\"");
  }

  @Test
  void nanosAreTruncatedToMillisNotRounded() throws Exception {
    assertThat(mapper.writeValueAsString(Instant.parse("2026-11-22T09:00:00.123999999Z")))
        .isEqualTo("\"2026-11-22T09:00:00.123Z\"");
    assertThat(mapper.writeValueAsString(Instant.parse("2026-11-22T23:59:59.999999999Z")))
        .isEqualTo("\"2026-11-22T23:59:59.999Z\"");
    assertThat(mapper.writeValueAsString(Instant.parse("2026-11-22T09:00:00.000400Z")))
        .isEqualTo("\"2026-11-22T09:00:00.000Z\"");
  }

  @Test
  void instantsInsideRecordsOptionalsAndCollectionsUseTheSameFormat() throws Exception {
    Instant at = Instant.parse("2026-11-22T09:00:00.5Z");
    String json = mapper.writeValueAsString(new Stamped(at, Optional.of(at)));

    assertThat(json)
        .isEqualTo(
            "{\"at\":\"2026-11-22T09:00:00.500Z\",\"completedAt\":\"2026-11-22T09:00:00.500Z\"}");
    assertThat(mapper.writeValueAsString(Map.of("items", List.of(at))))
        .isEqualTo("{\"items\":[\"2026-11-22T09:00:00.500Z\"]}");
  }

  /** API.md: durations as ISO-8601 ({@code PT30S}), not Jackson's default fractional seconds. */
  @Test
  void durationsAreIso8601() throws Exception {
    assertThat(mapper.writeValueAsString(new Timed(Duration.ofSeconds(30))))
        .isEqualTo("{\"timeout\":\"PT30S\"}");
  }

  @Test
  void writtenInstantsReadBack() throws Exception {
    Instant at = Instant.parse("2026-11-22T09:00:00.123Z");

    assertThat(mapper.readValue(mapper.writeValueAsString(at), Instant.class)).isEqualTo(at);
  }
}
