package dev.keel.http;

import com.fasterxml.jackson.databind.JsonNode;
import dev.keel.persistence.OnDemandSnapshots;
import dev.keel.persistence.grammar.Ids;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * {@code POST /api/v1/admin/snapshots} {@code {"entityType", "id"}} (admin only): snapshots one
 * entity now; 202 once the snapshot is stored, 404 for an entity with no journal. Translation only.
 */
public final class SnapshotRoutes {

  private static final Set<String> FIELDS = Set.of("entityType", "id");

  /** The answer: which entity now has a fresh snapshot. */
  public record SnapshotSaved(String entityType, String id) {}

  private final HttpApi api;
  private final OnDemandSnapshots snapshots;

  public SnapshotRoutes(HttpApi api, OnDemandSnapshots snapshots) {
    this.api = api;
    this.snapshots = snapshots;
  }

  public Route routes(Caller caller) {
    return api.pathPrefix(
        "admin",
        () ->
            api.path(
                "snapshots",
                () ->
                    api.adminOnly(
                        caller, () -> api.post(() -> api.jsonBody(false, this::snapshot)))));
  }

  private Route snapshot(JsonNode body) {
    List<ApiProblem.FieldError> errors = new ArrayList<>();
    BodyFields fields = new BodyFields(body, FIELDS, errors);
    String type = fields.text("entityType", true);
    String id = fields.text("id", true);
    if (type != null && !snapshots.entityTypes().contains(type)) {
      errors.add(
          new ApiProblem.FieldError(
              "entityType",
              "must be one of " + String.join(", ", new TreeSet<>(snapshots.entityTypes()))));
    }
    if (id != null && !Ids.ANY_PATTERN.matcher(id).matches())
      errors.add(new ApiProblem.FieldError("id", "is not a valid id"));
    if (!errors.isEmpty())
      throw ApiProblem.badRequest("the snapshot request has invalid fields", errors);
    return api.answer(
        snapshots.snapshot(type, id),
        done -> api.json(StatusCodes.ACCEPTED, new SnapshotSaved(type, id)));
  }
}
