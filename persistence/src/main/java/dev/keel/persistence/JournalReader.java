package dev.keel.persistence;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.persistence.jdbc.query.javadsl.JdbcReadJournal;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.serialization.jackson.JacksonObjectMapperProvider;
import org.apache.pekko.stream.javadsl.Sink;

/**
 * Reads an entity's journal as readable history: for {@code /history} and audit. Events come back
 * in sequence order with their journal timestamp and their JSON form.
 */
public final class JournalReader {

  /** One journaled event: the shape of {@code GET .../history}. */
  public record JournalEntry(long seq, Instant at, String type, JsonNode data, Object event) {}

  private final ActorSystem<?> system;
  private final JdbcReadJournal readJournal;
  private final JdbcReadJournal replicaJournal;
  private final ReplicaReads replica;
  private final ObjectMapper mapper;

  public JournalReader(ActorSystem<?> system) {
    this(system, null);
  }

  /**
   * Reads through the replica's read journal ({@link PersistenceConfig#REPLICA_READ_JOURNAL}) while
   * {@code replica} says it is usable, through the primary's otherwise; {@code replica} null:
   * always the primary.
   */
  public JournalReader(ActorSystem<?> system, ReplicaReads replica) {
    this.system = system;
    this.readJournal = readJournal(system, JdbcReadJournal.Identifier());
    this.replica = replica;
    this.replicaJournal =
        replica == null ? null : readJournal(system, PersistenceConfig.REPLICA_READ_JOURNAL);
    this.mapper =
        JacksonObjectMapperProvider.get(system).getOrCreate("jackson-json", Optional.empty());
  }

  private static JdbcReadJournal readJournal(ActorSystem<?> system, String pluginId) {
    return PersistenceQuery.get(system).getReadJournalFor(JdbcReadJournal.class, pluginId);
  }

  private JdbcReadJournal journal() {
    return replica != null && replica.usable() ? replicaJournal : readJournal;
  }

  /** Events of {@code persistenceId} with sequence numbers in [fromSeq, toSeq]. */
  public CompletionStage<List<JournalEntry>> events(
      String persistenceId, long fromSeq, long toSeq) {
    return journal()
        .currentEventsByPersistenceId(persistenceId, fromSeq, toSeq)
        .map(
            env ->
                new JournalEntry(
                    env.sequenceNr(),
                    Instant.ofEpochMilli(env.timestamp()),
                    env.event().getClass().getSimpleName(),
                    mapper.valueToTree(env.event()),
                    env.event()))
        .runWith(Sink.seq(), system);
  }

  /** Has {@code persistenceId} journaled anything? Reads one event at most. */
  public CompletionStage<Boolean> exists(String persistenceId) {
    return readJournal
        .currentEventsByPersistenceId(persistenceId, 0L, Long.MAX_VALUE)
        .take(1)
        .runWith(Sink.headOption(), system)
        .thenApply(Optional::isPresent);
  }
}
