package dev.keel.bench;

import java.time.Duration;
import java.time.Instant;
import java.util.Collection;

/**
 * Which cluster formations happened beside a living cluster: a second writer on one journal, the
 * thing the lease exists to prevent (and the fence to render harmless). A formation after every
 * other node had stopped (downed by the split-brain resolver, say) only starts the cluster anew.
 */
final class SecondClusters {

  /**
   * An old node still running this long after a formation was not on its way out: it lived beside
   * the new cluster. A node that downed itself takes a few seconds to exit, while the new one may
   * already form because its cluster port refuses connections.
   */
  static final Duration EXITING_GRACE = Duration.ofSeconds(10);

  /**
   * One node start: which node, when it became a member of a cluster (joined or formed one; null if
   * it never did), and when it exited (null while it runs).
   */
  record Life(int node, Instant member, Instant exited) {}

  /** A node start that formed a cluster, and when it logged so. */
  record Formation(int node, Instant at) {}

  private SecondClusters() {}

  /**
   * The formations at whose time another node's start was a member of a cluster and went on running
   * past the grace. A node still starting (not yet a member) is no cluster: it joins the new one.
   */
  static int count(Collection<Formation> formations, Collection<Life> lives) {
    int beside = 0;
    for (Formation f : formations) {
      boolean living =
          lives.stream()
              .anyMatch(
                  l ->
                      l.node() != f.node()
                          && l.member() != null
                          && l.member().isBefore(f.at())
                          && (l.exited() == null
                              || l.exited().isAfter(f.at().plus(EXITING_GRACE))));
      if (living) beside++;
    }
    return beside;
  }
}
