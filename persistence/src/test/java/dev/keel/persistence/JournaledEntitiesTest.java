package dev.keel.persistence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class JournaledEntitiesTest {

  private final List<String> lookups = new ArrayList<>();
  private final AtomicInteger asks = new AtomicInteger();

  private JournaledEntities withJournals(Set<String> journaled) {
    return new JournaledEntities(
        pid -> {
          lookups.add(pid);
          return CompletableFuture.completedFuture(journaled.contains(pid));
        });
  }

  private CompletionStage<String> ask() {
    asks.incrementAndGet();
    return CompletableFuture.completedFuture("answered by the entity");
  }

  @Test
  void anIdWithoutJournalIsNotFoundAndItsEntityIsNeverAsked() {
    JournaledEntities entities = withJournals(Set.of());

    assertThatThrownBy(
            () ->
                entities
                    .ifJournaled(
                        "service|ghost", () -> "service 'ghost' is not registered", this::ask)
                    .toCompletableFuture()
                    .get())
        .isInstanceOf(ExecutionException.class)
        .satisfies(
            e ->
                assertThat(Rejection.of(e))
                    .contains(
                        new Rejection(
                            Rejection.Kind.NOT_FOUND, "service 'ghost' is not registered")));
    assertThat(asks).hasValue(0);
  }

  @Test
  void anIdWithJournalIsAskedAndLookedUpOnlyOnce() throws Exception {
    JournaledEntities entities = withJournals(Set.of("service|ledger"));

    for (int i = 0; i < 3; i++) {
      assertThat(
              entities
                  .ifJournaled("service|ledger", () -> "unused", this::ask)
                  .toCompletableFuture()
                  .get())
          .isEqualTo("answered by the entity");
    }
    assertThat(asks).hasValue(3);
    assertThat(lookups).containsExactly("service|ledger");
  }

  @Test
  void anIdNotFoundIsLookedUpAgainBecauseItMayBeCreatedMeanwhile() throws Exception {
    JournaledEntities entities = withJournals(Set.of());
    entities
        .ifJournaled("workflow|w-1", () -> "nope", this::ask)
        .exceptionally(e -> null)
        .toCompletableFuture()
        .get();
    entities
        .ifJournaled("workflow|w-1", () -> "nope", this::ask)
        .exceptionally(e -> null)
        .toCompletableFuture()
        .get();

    assertThat(lookups).containsExactly("workflow|w-1", "workflow|w-1");
  }

  @Test
  void anEntityCreatedThroughThisNodeIsAskedWithoutLookup() throws Exception {
    JournaledEntities entities = withJournals(Set.of());
    entities.created("workflow|w-2");

    assertThat(
            entities
                .ifJournaled("workflow|w-2", () -> "unused", this::ask)
                .toCompletableFuture()
                .get())
        .isEqualTo("answered by the entity");
    assertThat(lookups).isEmpty();
  }

  @Test
  void whenTheJournalCannotBeReadTheEntityIsAskedAnyway() throws Exception {
    // A live entity answers from memory during a database outage; the check must not take that
    // away.
    JournaledEntities entities =
        new JournaledEntities(
            pid -> CompletableFuture.failedFuture(new IllegalStateException("database down")));

    assertThat(
            entities
                .ifJournaled("workflow|w-3", () -> "unused", this::ask)
                .toCompletableFuture()
                .get())
        .isEqualTo("answered by the entity");
    assertThat(asks).hasValue(1);
  }
}
