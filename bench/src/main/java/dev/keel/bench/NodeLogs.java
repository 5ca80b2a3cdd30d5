package dev.keel.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * The logs of every node start of a run, one file per start, read from a mark on: what a
 * repetition's node starts said about forming clusters, fencing and the journal.
 */
final class NodeLogs {

  /**
   * Keel's lease keeper forming a cluster, or Pekko doing so by itself (seed nodes, {@code Join} to
   * self).
   */
  static final Predicate<String> FORMED_CLUSTER =
      line -> line.contains("cluster forming") || line.contains("forming new cluster");

  /** A node start that became a member: Pekko's welcome on joining, or a formation. */
  static final Predicate<String> BECAME_MEMBER =
      line -> line.contains("Welcome from") || FORMED_CLUSTER.test(line);

  /** A node that found another cluster holding the journal. */
  static final Predicate<String> FENCED = line -> line.contains("cluster fenced");

  /** Two writers met in the journal: the primary key refused one of them. */
  static final Predicate<String> JOURNAL_CONFLICT =
      line ->
          line.contains("duplicate key value violates unique constraint")
              && line.contains("journal");

  private final Map<Path, Long> marks;

  private NodeLogs(Map<Path, Long> marks) {
    this.marks = marks;
  }

  /** No marks: every file is read from its start. */
  static NodeLogs fromStart() {
    return new NodeLogs(Map.of());
  }

  /**
   * A mark at the current end of each of {@code files}; a file started later is read from its
   * start.
   */
  static NodeLogs markEnds(List<Path> files) {
    Map<Path, Long> marks = new HashMap<>();
    for (Path file : files) marks.put(file, (long) lines(file).size());
    return new NodeLogs(marks);
  }

  /** Of {@code files}, how many have a line matching {@code what} after their mark. */
  int filesWith(List<Path> files, Predicate<String> what) {
    int n = 0;
    for (Path file : files) if (linesSinceMark(file).anyMatch(what)) n++;
    return n;
  }

  /** Lines matching {@code what} after the marks, in all of {@code files}. */
  int linesWith(List<Path> files, Predicate<String> what) {
    int n = 0;
    for (Path file : files) n += (int) linesSinceMark(file).filter(what).count();
    return n;
  }

  /**
   * Of {@code files}, those with a line matching {@code what} after their mark, with the time the
   * first such line begins with (the log's ISO-8601 timestamp); files whose line has none are left
   * out.
   */
  Map<Path, java.time.Instant> firstLineTimes(List<Path> files, Predicate<String> what) {
    Map<Path, java.time.Instant> times = new HashMap<>();
    for (Path file : files) {
      linesSinceMark(file)
          .filter(what)
          .findFirst()
          .flatMap(NodeLogs::timestamp)
          .ifPresent(at -> times.put(file, at));
    }
    return times;
  }

  static java.util.Optional<java.time.Instant> timestamp(String line) {
    int space = line.indexOf(' ');
    try {
      return java.util.Optional.of(
          java.time.Instant.parse(space < 0 ? line : line.substring(0, space)));
    } catch (java.time.format.DateTimeParseException e) {
      return java.util.Optional.empty();
    }
  }

  private Stream<String> linesSinceMark(Path file) {
    return lines(file).stream().skip(marks.getOrDefault(file, 0L));
  }

  private static List<String> lines(Path file) {
    if (!Files.exists(file)) return List.of();
    try {
      // A node killed mid-line may leave bytes that are not UTF-8: read leniently.
      return new String(Files.readAllBytes(file), StandardCharsets.UTF_8).lines().toList();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the node log " + file, e);
    }
  }
}
