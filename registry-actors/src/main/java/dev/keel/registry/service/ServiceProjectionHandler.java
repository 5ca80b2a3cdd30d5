package dev.keel.registry.service;

import static dev.keel.persistence.ReadModelSql.ts;
import static dev.keel.persistence.ReadModelSql.update;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.registry.service.RegisteredService.Event;
import dev.keel.registry.service.RegisteredService.ServiceDefinition;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Map;

/**
 * Keeps {@code keel_services} and {@code keel_service_metadata} in step with tagged service events:
 * one row per registered service with the journaled part of its view. Runs in the projection's
 * transaction, with its offset, so each batch lands exactly once.
 */
public final class ServiceProjectionHandler {

  private static final ObjectMapper JSON = new ObjectMapper();

  private ServiceProjectionHandler() {}

  /**
   * The row changes for one event; the same fields {@link RegisteredService#apply} gives the state.
   */
  public static void apply(Connection c, String id, Event event) throws SQLException {
    if (event instanceof RegisteredService.ServiceRegistered e) {
      ServiceDefinition d = e.def();
      // Registered again after a deregistration: a fresh row, as the entity starts afresh.
      delete(c, id);
      update(
          c,
          "INSERT INTO keel_services (id, name, type, endpoint, metadata, status, tenant_id,"
              + " ttl_seconds, deregister_after_seconds, registered_at, status_since, updated_at)"
              + " VALUES (?, ?, ?, ?, ?, 'healthy', ?, ?, ?, ?, ?, ?)",
          id,
          d.name(),
          d.type(),
          d.endpoint(),
          json(d.metadata()),
          d.tenantId(),
          d.ttlSeconds(),
          d.deregisterAfterSeconds(),
          ts(e.at()),
          ts(e.at()),
          ts(e.at()));
      insertMetadata(c, id, d.metadata());
      ServiceChanges.record(
          c,
          "registered",
          id,
          d.tenantId(),
          d.type(),
          "healthy",
          null,
          null,
          json(d.metadata()),
          e.at());
    } else if (event instanceof RegisteredService.ServiceUpdated e) {
      ServiceDefinition d = e.def();
      update(
          c,
          "UPDATE keel_services SET name = ?, type = ?, endpoint = ?, metadata = ?, tenant_id = ?,"
              + " ttl_seconds = ?, deregister_after_seconds = ?, updated_at = ? WHERE id = ?",
          d.name(),
          d.type(),
          d.endpoint(),
          json(d.metadata()),
          d.tenantId(),
          d.ttlSeconds(),
          d.deregisterAfterSeconds(),
          ts(e.at()),
          id);
      update(c, "DELETE FROM keel_service_metadata WHERE service_id = ?", id);
      insertMetadata(c, id, d.metadata());
      Row row = row(c, id);
      ServiceChanges.record(
          c,
          "updated",
          id,
          d.tenantId(),
          d.type(),
          row == null ? null : row.status(),
          null,
          null,
          json(d.metadata()),
          e.at());
    } else if (event instanceof RegisteredService.StatusChanged e) {
      update(
          c,
          "UPDATE keel_services SET status = ?, status_since = ? WHERE id = ?",
          e.to(),
          ts(e.at()),
          id);
      Row row = row(c, id);
      if (row != null)
        ServiceChanges.record(
            c,
            "status",
            id,
            row.tenantId(),
            row.type(),
            e.to(),
            e.from(),
            e.reason(),
            row.metadata(),
            e.at());
    } else if (event instanceof RegisteredService.ServiceDeregistered e) {
      Row row = row(c, id);
      delete(c, id);
      if (row != null)
        ServiceChanges.record(
            c,
            "deregistered",
            id,
            row.tenantId(),
            row.type(),
            null,
            row.status(),
            e.reason(),
            row.metadata(),
            e.at());
    }
  }

  /** What a change needs of a service's row, as it stands in this transaction. */
  private record Row(String tenantId, String type, String status, String metadata) {}

  private static Row row(Connection c, String id) throws SQLException {
    try (java.sql.PreparedStatement ps =
        c.prepareStatement(
            "SELECT tenant_id, type, status, metadata FROM keel_services WHERE id = ?")) {
      ps.setString(1, id);
      try (java.sql.ResultSet rs = ps.executeQuery()) {
        return rs.next()
            ? new Row(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4))
            : null;
      }
    }
  }

  private static void delete(Connection c, String id) throws SQLException {
    update(c, "DELETE FROM keel_service_metadata WHERE service_id = ?", id);
    update(c, "DELETE FROM keel_services WHERE id = ?", id);
  }

  private static void insertMetadata(Connection c, String id, Map<String, String> metadata)
      throws SQLException {
    for (Map.Entry<String, String> e : metadata.entrySet()) {
      update(
          c,
          "INSERT INTO keel_service_metadata (service_id, meta_key, meta_value) VALUES (?, ?, ?)",
          id,
          e.getKey(),
          e.getValue());
    }
  }

  private static String json(Map<String, String> metadata) {
    try {
      return JSON.writeValueAsString(metadata);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a string map always serializes", e);
    }
  }
}
