package dev.keel.client;

import java.time.Instant;

/**
 * Keel's answer to a heartbeat.
 *
 * @param status the service's status now
 * @param ttlSeconds the service's TTL
 * @param nextHeartbeatBefore the instant after which the service turns {@code stale} without
 *     another heartbeat
 */
public record HeartbeatAck(ServiceStatus status, Integer ttlSeconds, Instant nextHeartbeatBefore) {}
