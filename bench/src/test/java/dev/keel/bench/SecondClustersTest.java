package dev.keel.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.bench.SecondClusters.Formation;
import dev.keel.bench.SecondClusters.Life;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class SecondClustersTest {

  private static final Instant T0 = Instant.parse("2026-12-07T10:00:00Z");

  private static Instant at(int second) {
    return T0.plusSeconds(second);
  }

  @Test
  void aFormationWhileTheOthersRunOnIsASecondCluster() {
    // Node 0 restarted at 100 s and formed at 110 s while nodes 1 and 2 (up since 0 s) ran on.
    List<Life> lives =
        List.of(
            new Life(0, at(0), at(99)),
            new Life(0, at(100), null),
            new Life(1, at(0), null),
            new Life(2, at(0), null));

    assertThat(SecondClusters.count(List.of(new Formation(0, at(110))), lives)).isEqualTo(1);
  }

  @Test
  void aFormationAfterTheOthersStoppedOrWhileTheyWereExitingStartsTheClusterAnew() {
    // Nodes 1 and 2 downed themselves and exited at 108 and 115 s: within the grace of a formation
    // at 110 s.
    List<Life> lives =
        List.of(
            new Life(0, at(100), null),
            new Life(1, at(0), at(108)),
            new Life(2, at(0), at(115)),
            new Life(1, at(120), null),
            new Life(2, at(121), null));

    assertThat(SecondClusters.count(List.of(new Formation(0, at(110))), lives)).isZero();
  }

  @Test
  void theFormingNodesOwnEarlierStartDoesNotCount() {
    List<Life> lives = List.of(new Life(0, at(0), at(200)), new Life(0, at(100), null));

    assertThat(SecondClusters.count(List.of(new Formation(0, at(110))), lives)).isZero();
  }

  @Test
  void nodesThatBecameMembersOnlyAfterTheFormationJoinedIt_orNeverDid() {
    // Node 1 was started again at 105 s by the supervisor, still starting at 110 s; it joined at
    // 125 s.
    List<Life> lives =
        List.of(new Life(0, at(100), null), new Life(1, at(125), null), new Life(2, null, null));

    assertThat(SecondClusters.count(List.of(new Formation(0, at(110))), lives)).isZero();
  }
}
