package dev.keel.registry.alert;

import dev.keel.persistence.BadCursorException;
import dev.keel.persistence.JournaledEntities;
import dev.keel.persistence.RequestScope;
import dev.keel.registry.alert.AlertRule.AlertDefinition;
import dev.keel.registry.alert.AlertRule.AlertView;
import dev.keel.registry.alert.AlertRule.PutResult;
import dev.keel.registry.service.FieldProblem;
import java.util.List;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;

/**
 * The alert rules façade for routes: asks rule entities with the timeout from settings, lists from
 * the read model, and keeps this node's {@link AlertCatalog} in step with what it changed.
 */
public final class AlertService {

  private final ClusterSharding sharding;
  private final AlertSettings settings;
  private final AlertReadModel readModel;
  private final AlertCatalog catalog;
  private final JournaledEntities journaled;

  public AlertService(
      ActorSystem<?> system,
      AlertSettings settings,
      AlertReadModel readModel,
      AlertCatalog catalog) {
    this.sharding = ClusterSharding.get(system);
    this.settings = settings;
    this.readModel = readModel;
    this.catalog = catalog;
    this.journaled = new JournaledEntities(system);
  }

  private EntityRef<AlertRule.Command> entity(String id) {
    return sharding.entityRefFor(AlertRule.ENTITY_KEY, id);
  }

  /** Every problem of a definition, by field (routes answer 400 with them before asking). */
  public List<FieldProblem> problems(AlertDefinition definition) {
    return AlertDefinitionRules.problems(definition);
  }

  /*
   * asTenant: the calling tenant, or null for the admin. Another tenant's rule answers as unknown
   * (a put: as an id in use), checked by the entity itself.
   */

  /**
   * Defines or redefines rule {@code id}; it applies to this node's heartbeats as soon as it is
   * journaled.
   */
  public CompletionStage<PutResult> put(String id, AlertDefinition definition, String asTenant) {
    return entity(id)
        .<PutResult>askWithStatus(
            r ->
                RequestScope.<AlertRule.Command>onBehalf(
                    new AlertRule.Put(definition, asTenant, r), AlertRule.Traced::new),
            settings.askTimeout())
        .thenApply(
            result -> {
              journaled.created(AlertRule.persistenceId(id).id());
              catalog.put(result.view());
              return result;
            });
  }

  public CompletionStage<AlertView> get(String id, String asTenant) {
    return journaled.askIfJournaled(
        entity(id),
        AlertRule.persistenceId(id).id(),
        () -> AlertRule.doesNotExist(id),
        r -> new AlertRule.Get(asTenant, r),
        settings.askTimeout());
  }

  public CompletionStage<Done> delete(String id, String asTenant) {
    return journaled
        .<AlertRule.Command, Done>askIfJournaled(
            entity(id),
            AlertRule.persistenceId(id).id(),
            () -> AlertRule.doesNotExist(id),
            r ->
                RequestScope.<AlertRule.Command>onBehalf(
                    new AlertRule.Delete(asTenant, r), AlertRule.Traced::new),
            settings.askTimeout())
        .thenApply(
            done -> {
              catalog.remove(id);
              return done;
            });
  }

  /**
   * One page of the rule list; see {@link AlertReadModel#list}.
   *
   * @throws BadCursorException at once, for a cursor this server did not hand out
   */
  public CompletionStage<AlertReadModel.Page> list(
      String service, String tenantId, int limit, String cursor) {
    return readModel.list(service, tenantId, limit, cursor);
  }
}
