package dev.keel.tenant;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.persistence.ManualClock;
import dev.keel.persistence.Rejection;
import dev.keel.tenant.SlugReservation.Command;
import dev.keel.tenant.SlugReservation.Confirm;
import dev.keel.tenant.SlugReservation.Event;
import dev.keel.tenant.SlugReservation.Release;
import dev.keel.tenant.SlugReservation.Reserve;
import dev.keel.tenant.SlugReservation.State;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** A slug is held by one tenant at a time; abandoned reservations expire; releases free it. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SlugReservationTest {

  private static final Instant T0 = Instant.parse("2026-11-22T09:00:00Z");
  private static final AtomicInteger slugs = new AtomicInteger();
  private ActorTestKit testKit;
  private ManualClock clock;
  private EventSourcedBehaviorTestKit<Command, Event, State> kit;

  @BeforeAll
  void startSystem() {
    testKit = ActorTestKit.create("SlugReservationTest", TenantTest.CONFIG);
  }

  @AfterAll
  void stopSystem() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void newSlug() {
    clock = new ManualClock(T0);
    kit =
        EventSourcedBehaviorTestKit.create(
            testKit.system(),
            SlugReservation.create(
                "acme-" + slugs.incrementAndGet(), clock, Duration.ofSeconds(60)),
            EventSourcedBehaviorTestKit.enabledSerializationSettings());
  }

  private StatusReply<Done> reserve(String tenant) {
    return kit.<StatusReply<Done>>runCommand(r -> new Reserve(tenant, r)).reply();
  }

  @Test
  void theFirstTenantGetsTheSlugAndTheSecondAConflict() {
    assertThat(reserve("t-one").isSuccess()).isTrue();
    StatusReply<Done> second = reserve("t-two");
    assertThat(Rejection.of(second.getError()).orElseThrow().kind())
        .isEqualTo(Rejection.Kind.CONFLICT);
    assertThat(reserve("t-one").isSuccess()).as("the holder again: idempotent").isTrue();
  }

  @Test
  void anUnconfirmedReservationExpiresAConfirmedOneNever() {
    reserve("t-one");
    clock.advance(Duration.ofSeconds(61));
    assertThat(reserve("t-two").isSuccess()).as("t-one's create died half-way").isTrue();

    kit.<StatusReply<Done>>runCommand(r -> new Confirm("t-two", r));
    clock.advance(Duration.ofDays(365));
    assertThat(reserve("t-three").isError()).isTrue();
  }

  @Test
  void releasingFreesTheSlugOnlyForItsHolder() {
    reserve("t-one");
    kit.<StatusReply<Done>>runCommand(r -> new Confirm("t-one", r));
    assertThat(kit.<StatusReply<Done>>runCommand(r -> new Release("t-two", r)).hasNoEvents())
        .isTrue();
    assertThat(reserve("t-two").isError()).isTrue();

    kit.<StatusReply<Done>>runCommand(r -> new Release("t-one", r));
    assertThat(reserve("t-two").isSuccess()).isTrue();
  }
}
