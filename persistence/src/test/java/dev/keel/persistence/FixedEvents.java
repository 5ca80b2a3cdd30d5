package dev.keel.persistence;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.NotUsed;
import org.apache.pekko.persistence.query.Offset;
import org.apache.pekko.persistence.query.Sequence;
import org.apache.pekko.projection.eventsourced.EventEnvelope;
import org.apache.pekko.projection.javadsl.SourceProvider;
import org.apache.pekko.stream.javadsl.Source;

/**
 * The events after the stored offset, then nothing: a journal nobody writes to any more, for
 * projection tests.
 */
final class FixedEvents<E> extends SourceProvider<Offset, EventEnvelope<E>> {
  private final List<EventEnvelope<E>> events;

  FixedEvents(List<EventEnvelope<E>> events) {
    this.events = events;
  }

  @Override
  public CompletionStage<Source<EventEnvelope<E>, NotUsed>> source(
      Supplier<CompletionStage<Optional<Offset>>> offset) {
    return offset
        .get()
        .thenApply(
            stored -> {
              long after = stored.map(o -> ((Sequence) o).value()).orElse(0L);
              return Source.from(
                      events.stream().filter(e -> ((Sequence) e.offset()).value() > after).toList())
                  .concat(Source.<EventEnvelope<E>>never());
            });
  }

  @Override
  public Offset extractOffset(EventEnvelope<E> envelope) {
    return envelope.offset();
  }

  @Override
  public long extractCreationTime(EventEnvelope<E> envelope) {
    return envelope.timestamp();
  }
}
