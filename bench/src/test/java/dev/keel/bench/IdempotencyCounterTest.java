package dev.keel.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class IdempotencyCounterTest {

  @Test
  void everyCallIsCountedByItsKey_andAnswered200() throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    try (IdempotencyCounter counter = IdempotencyCounter.start()) {
      for (String key :
          List.of(
              "run1-0-1-7/reserve", "run1-0-1-7/reserve", "run1-0-1-8/ship", "run1-0-10-1/ship")) {
        HttpResponse<String> r =
            http.send(
                HttpRequest.newBuilder(URI.create(counter.workUrl(0)))
                    .header("Idempotency-Key", key)
                    .POST(HttpRequest.BodyPublishers.ofString("{\"n\":1}"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
      }

      List<StepBodyRuns.Call> calls = counter.calls("run1-0-1-");
      assertThat(calls)
          .extracting(StepBodyRuns.Call::key)
          .containsExactly("run1-0-1-7/reserve", "run1-0-1-7/reserve", "run1-0-1-8/ship");
      assertThat(
              StepBodyRuns.of(calls, List.of(Instant.now()), Instant.EPOCH, Instant.EPOCH)
                  .keysCalledTwice())
          .isEqualTo(1);
    }
  }

  @Test
  void theDelayIsReadFromTheQuery_boundedAndNeverNegative() {
    assertThat(IdempotencyCounter.delayMs("ms=300")).isEqualTo(300);
    assertThat(IdempotencyCounter.delayMs("ms=-5")).isZero();
    assertThat(IdempotencyCounter.delayMs("ms=99999999")).isEqualTo(10_000);
    assertThat(IdempotencyCounter.delayMs("ms=x")).isZero();
    assertThat(IdempotencyCounter.delayMs(null)).isZero();
  }
}
