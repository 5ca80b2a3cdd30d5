package dev.keel.workflow.readmodel;

import com.typesafe.config.Config;
import dev.keel.persistence.ProjectionLag;
import dev.keel.persistence.ReadModelProjection;
import dev.keel.workflow.execution.WorkflowExecution;
import javax.sql.DataSource;
import org.apache.pekko.actor.typed.ActorSystem;

/** The workflow list and the due wake-up index, fed from tagged execution events. */
public final class WorkflowProjection {

  private WorkflowProjection() {}

  public static void init(ActorSystem<?> system, DataSource dataSource, ProjectionLag lag) {
    Config config = system.settings().config();
    ReadModelProjection.init(
        system,
        dataSource,
        lag,
        new ReadModelProjection.Spec<WorkflowExecution.Event>(
            WorkflowExecution.ENTITY_TYPE,
            "workflows",
            WorkflowProjectionHandler::apply,
            WorkflowProjectionHandler::applyBatch,
            config.getInt("keel.workflows.projection-batch-size"),
            config.getDuration("keel.workflows.projection-batch-window")));
  }
}
