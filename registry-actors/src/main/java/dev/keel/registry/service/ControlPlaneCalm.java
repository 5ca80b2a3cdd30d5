package dev.keel.registry.service;

import java.time.Instant;

/**
 * Until when the control plane itself is (or was) disturbed, as this node sees it: a node
 * unreachable, or being replaced, or shards moving. Meanwhile a heartbeat may be waiting inside
 * Keel (for a shard coordinator that fails over, say) rather than be missing, so a service gets one
 * TTL of grace from the end of the disturbance before it is recorded stale, as after a restart.
 */
@FunctionalInterface
public interface ControlPlaneCalm {

  /** A control plane that is never disturbed (a single node, tests). */
  ControlPlaneCalm ALWAYS = () -> Instant.EPOCH;

  /**
   * The end of the latest disturbance: now while one lasts, possibly later when its effects outlast
   * it.
   */
  Instant disturbedUntil();
}
