package dev.keel.persistence;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.api.trace.SpanContext;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.MDC;

class RequestScopeTest {

  record Command(String name) {}

  record Traced(String requestId, String traceParent, Object command)
      implements RequestScope.Traced<Object> {}

  private final ExecutorService otherThread = Executors.newSingleThreadExecutor();

  @AfterEach
  void stop() {
    otherThread.shutdownNow();
    MDC.clear();
  }

  @Test
  void withinSetsTheIdForTheBodyAndRestoresWhatWasThere() {
    MDC.put(RequestScope.MDC_FIELD, "outer");

    String seen = RequestScope.within(Optional.of("inner"), () -> MDC.get(RequestScope.MDC_FIELD));
    String seenWithout =
        RequestScope.within(Optional.empty(), () -> MDC.get(RequestScope.MDC_FIELD));

    assertThat(seen).isEqualTo("inner");
    assertThat(seenWithout).isNull();
    assertThat(RequestScope.current()).contains("outer");
  }

  @Test
  void aBoundCallbackRunsInTheScopeItWasBoundInOnAnyThread() throws Exception {
    Function<String, Optional<String>> callback =
        RequestScope.within(
            Optional.of("req-7"), () -> RequestScope.bound(x -> RequestScope.current()));

    Optional<String> onOtherThread =
        CompletableFuture.supplyAsync(() -> callback.apply("x"), otherThread).get();
    Optional<String> leftOnOtherThread =
        CompletableFuture.supplyAsync(RequestScope::current, otherThread).get();

    assertThat(onOtherThread).contains("req-7");
    assertThat(leftOnOtherThread).as("the pool thread is left as it was").isEmpty();
  }

  @Test
  void aCommandIsWrappedOnlyWhenSentForARequest() {
    Command command = new Command("start");

    Object forRequest =
        RequestScope.within(
            Optional.of("req-8"), () -> RequestScope.<Object>onBehalf(command, Traced::new));
    Object forNoRequest = RequestScope.<Object>onBehalf(command, Traced::new);

    assertThat(forRequest).isEqualTo(new Traced("req-8", null, command));
    assertThat(forNoRequest).isSameAs(command);
  }

  private static final String SPAN = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

  @Test
  void theSpanTravelsWithTheRequestToOtherThreadsAndIntoCommands() throws Exception {
    SpanContext span = TraceParent.parse(SPAN).orElseThrow();

    Function<String, Optional<String>> callback =
        RequestScope.within(
            Optional.of("req-9"),
            () ->
                RequestScope.inSpan(
                    span, () -> RequestScope.bound(x -> RequestScope.traceParent())));
    Object command =
        RequestScope.inSpan(
            span, () -> RequestScope.<Object>onBehalf(new Command("c"), Traced::new));

    assertThat(CompletableFuture.supplyAsync(() -> callback.apply("x"), otherThread).get())
        .contains(SPAN);
    assertThat(command).isEqualTo(new Traced(null, SPAN, new Command("c")));
    assertThat(MDC.get(RequestScope.TRACE_ID_FIELD)).as("restored after the body").isNull();
  }

  @Test
  void withoutASpanNothingOfTheTraceIsSet() {
    Object command =
        RequestScope.within(
            Optional.of("req-10"),
            () -> RequestScope.<Object>onBehalf(new Command("c"), Traced::new));

    assertThat(command).isEqualTo(new Traced("req-10", null, new Command("c")));
    assertThat(RequestScope.traceParent()).isEmpty();
    assertThat(TraceParent.parse("00-not-a-trace")).isEmpty();
  }
}
