package dev.keel.persistence;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import scala.util.Try;

/**
 * Golden journals: the rows a real node wrote for one entity (events and its latest snapshot), kept
 * in {@code src/test/resources/golden/<entity type>/*.json} and never edited, so that every later
 * build must still read them. Rows are deserialized by Pekko's serialization with the very
 * configuration a node runs with ({@link PersistenceConfig}), then folded through the entity type's
 * own event handler ({@link EntityAudit}). A snapshot must equal the fold of the events up to it,
 * and the events after it must apply on top of it: recovery does exactly that.
 *
 * <p>Written by {@code GoldenJournalExport} in {@code node}'s tests (see the README).
 */
public final class GoldenJournal {

  /** One journal or snapshot row: its payload as the database holds it, in base64. */
  public record Row(
      long sequenceNumber, long timestamp, int serializerId, String manifest, String payload) {}

  /** One file: the rows of one persistence id, and which version of Keel wrote them. */
  public record Journal(String persistenceId, String writtenBy, List<Row> events, Row snapshot) {}

  /** What a golden file replays to. */
  public record Replayed<S>(
      Path file, String id, List<Object> events, S state, Optional<Object> view) {}

  private static final ObjectMapper JSON = new ObjectMapper();

  private final ActorSystem<Void> system;
  private final Serialization serialization;

  private GoldenJournal(ActorSystem<Void> system) {
    this.system = system;
    this.serialization = SerializationExtension.get(system);
  }

  /**
   * One per test JVM: a serialization set up as a node's, on an embedded database that is never
   * touched.
   */
  public static GoldenJournal get() {
    return Shared.INSTANCE;
  }

  private static final class Shared {
    static final GoldenJournal INSTANCE = open();

    private static GoldenJournal open() {
      Path unused = Path.of("target", "golden-unused-db").toAbsolutePath();
      GoldenJournal golden =
          new GoldenJournal(
              ActorSystem.create(
                  Behaviors.empty(),
                  "golden",
                  PersistenceConfig.forDatabase(DatabaseSettings.embedded(unused), 1)
                      .withFallback(ConfigFactory.load())
                      .resolve()));
      Runtime.getRuntime()
          .addShutdownHook(new Thread(golden.system::terminate, "golden-journal-shutdown"));
      return golden;
    }
  }

  /**
   * Every golden file of {@code entityType} on the test class path, replayed; fails when there is
   * none.
   */
  public <S, E> List<Replayed<S>> replayAll(EntityAudit<S, E> audit) {
    List<Replayed<S>> all = new ArrayList<>();
    for (Path file : files(audit.entityType())) all.add(replay(audit, file));
    if (all.isEmpty()) throw new AssertionError("no golden journal for " + audit.entityType());
    return all;
  }

  /** The one golden file of {@code entityType} whose name starts with {@code prefix}. */
  public <S, E> Replayed<S> replay(EntityAudit<S, E> audit, String prefix) {
    List<Path> matching =
        files(audit.entityType()).stream()
            .filter(f -> f.getFileName().toString().startsWith(prefix))
            .toList();
    if (matching.size() != 1)
      throw new AssertionError(
          "golden files of " + audit.entityType() + " named " + prefix + "*: " + matching);
    return replay(audit, matching.get(0));
  }

  private <S, E> Replayed<S> replay(EntityAudit<S, E> audit, Path file) {
    Journal journal = read(file);
    String prefix = audit.entityType() + "|";
    if (!journal.persistenceId().startsWith(prefix)) {
      throw new AssertionError(
          file + " holds " + journal.persistenceId() + ", not a " + audit.entityType());
    }
    List<Object> events = new ArrayList<>();
    S state = audit.emptyState();
    S atSnapshot = null;
    long expectedSeq = 1;
    for (Row row : journal.events()) {
      if (row.sequenceNumber() != expectedSeq++)
        throw new AssertionError(file + ": a gap before sequence number " + row.sequenceNumber());
      Object event = deserialize(row, file);
      if (!audit.eventType().isInstance(event))
        throw new AssertionError(file + ": " + event.getClass() + " is not a " + audit.eventType());
      events.add(event);
      state = audit.applyAny(state, event);
      if (journal.snapshot() != null && row.sequenceNumber() == journal.snapshot().sequenceNumber())
        atSnapshot = state;
    }
    if (journal.snapshot() != null) {
      Object snapshot = deserialize(journal.snapshot(), file);
      if (!snapshot.equals(atSnapshot)) {
        throw new AssertionError(
            file
                + ": the snapshot at "
                + journal.snapshot().sequenceNumber()
                + " is "
                + snapshot
                + ", the events up to it give "
                + atSnapshot);
      }
      // Recovery: the snapshot, then the events after it.
      @SuppressWarnings("unchecked")
      S recovered = (S) snapshot;
      for (int i = (int) journal.snapshot().sequenceNumber(); i < events.size(); i++)
        recovered = audit.applyAny(recovered, events.get(i));
      if (!recovered.equals(state))
        throw new AssertionError(
            file + ": recovery from the snapshot gives " + recovered + ", not " + state);
    }
    String id = journal.persistenceId().substring(prefix.length());
    return new Replayed<>(file, id, List.copyOf(events), state, audit.view().apply(id, state));
  }

  private Object deserialize(Row row, Path file) {
    byte[] bytes = Base64.getDecoder().decode(row.payload());
    Try<Object> read = serialization.deserialize(bytes, row.serializerId(), row.manifest());
    if (read.isFailure()) {
      throw new AssertionError(
          file
              + ": sequence number "
              + row.sequenceNumber()
              + " ("
              + row.manifest()
              + ") no longer reads",
          read.failed().get());
    }
    return read.get();
  }

  private static Journal read(Path file) {
    try {
      return JSON.readValue(file.toFile(), Journal.class);
    } catch (IOException e) {
      throw new UncheckedIOException(file + " is not a golden journal", e);
    }
  }

  private static List<Path> files(String entityType) {
    URL dir = GoldenJournal.class.getClassLoader().getResource("golden/" + entityType);
    if (dir == null) return List.of();
    try (Stream<Path> files = Files.list(Path.of(dir.toURI()))) {
      return files.filter(f -> f.toString().endsWith(".json")).sorted().toList();
    } catch (IOException | URISyntaxException e) {
      throw new IllegalStateException("cannot list " + dir, e);
    }
  }
}
