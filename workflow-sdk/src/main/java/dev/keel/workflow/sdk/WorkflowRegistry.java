package dev.keel.workflow.sdk;

import java.util.Collection;
import java.util.Optional;

/**
 * The workflows a node can run, by name. A node's registry holds the built-in workflows, those an
 * embedder registers and those found in plug-in jars; the engine looks a workflow up here when an
 * execution starts or recovers, so a name must keep meaning the same code for as long as executions
 * of it exist.
 */
public interface WorkflowRegistry {

  /**
   * Adds a workflow. A second one with the same name is refused with an {@link
   * IllegalArgumentException}, so that a plug-in cannot shadow another.
   */
  WorkflowRegistry register(Workflow<?, ?> workflow);

  Optional<Workflow<?, ?>> find(String name);

  Collection<Workflow<?, ?>> all();
}
