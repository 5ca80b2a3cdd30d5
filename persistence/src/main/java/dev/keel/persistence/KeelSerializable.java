package dev.keel.persistence;

/**
 * Marker for every message that crosses the network or enters the journal: commands, replies,
 * events and snapshots. Bound to Jackson JSON in this module's {@code reference.conf}, so that the
 * journal stays readable for audit. Events are schema: never rename or move one without a Jackson
 * migration.
 */
public interface KeelSerializable {}
