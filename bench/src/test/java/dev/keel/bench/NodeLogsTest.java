package dev.keel.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NodeLogsTest {

  @TempDir Path dir;

  @Test
  void onlyWhatWasLoggedAfterTheMarkCounts_aNewFileFromItsStart() throws Exception {
    Path first = dir.resolve("node-1-start-01.log");
    Files.writeString(
        first,
        """
        INFO  ClusterLeaseKeeper - cluster forming epoch=1 self=pekko://keel@127.0.0.1:1#1
        INFO  Cluster - Node [pekko://keel@127.0.0.1:1] is JOINING itself (with roles [dc-default]) and forming new cluster
        """);
    NodeLogs marks = NodeLogs.markEnds(List.of(first));
    Files.writeString(
        first,
        "INFO  ClusterLeaseKeeper - cluster epoch=1 renewed\n",
        java.nio.file.StandardOpenOption.APPEND);
    Path restarted = dir.resolve("node-1-start-02.log");
    Files.writeString(
        restarted,
        """
        2026-12-07T15:03:56.084Z INFO  ClusterLeaseKeeper - cluster forming epoch=2 self=pekko://keel@127.0.0.1:1#2
        2026-12-07T15:03:56.100Z INFO  Cluster - Node [pekko://keel@127.0.0.1:1] is JOINING itself (with roles [dc-default]) and forming new cluster
        2026-12-07T15:04:10.000Z ERROR ClusterLeaseKeeper - cluster fenced: cluster epoch 1 no longer owns the journal
        2026-12-07T15:04:11.000Z ERROR Journal - ERROR: duplicate key value violates unique constraint "event_journal_pkey"
        """);
    List<Path> files = List.of(first, restarted);

    assertThat(marks.filesWith(files, NodeLogs.FORMED_CLUSTER))
        .as("one node start formed a cluster, logging it twice")
        .isEqualTo(1);
    assertThat(marks.filesWith(files, NodeLogs.FENCED)).isEqualTo(1);
    assertThat(marks.linesWith(files, NodeLogs.JOURNAL_CONFLICT)).isEqualTo(1);
    assertThat(marks.firstLineTimes(files, NodeLogs.FORMED_CLUSTER))
        .containsExactly(
            java.util.Map.entry(restarted, java.time.Instant.parse("2026-12-07T15:03:56.084Z")));
    assertThat(NodeLogs.fromStart().firstLineTimes(files, NodeLogs.BECAME_MEMBER))
        .as("a line without a timestamp gives no time")
        .containsOnlyKeys(restarted);
  }

  @Test
  void aMissingFileCountsAsEmpty() {
    NodeLogs marks = NodeLogs.markEnds(List.of());

    assertThat(marks.filesWith(List.of(dir.resolve("absent.log")), NodeLogs.FORMED_CLUSTER))
        .isZero();
  }
}
