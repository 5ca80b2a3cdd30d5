package dev.keel.workflow.execution;

import dev.keel.workflow.sdk.Workflow;
import dev.keel.workflow.sdk.WorkflowRegistry;
import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's {@link WorkflowRegistry}: built in, registered by embedders, or found in plug-in
 * jars; some admin-only.
 */
public final class NodeWorkflowRegistry implements WorkflowRegistry {

  private static final Logger log = LoggerFactory.getLogger(NodeWorkflowRegistry.class);
  private static final Pattern NAME = dev.keel.persistence.grammar.Ids.PATTERN;

  private final ConcurrentSkipListMap<String, Workflow<?, ?>> workflows =
      new ConcurrentSkipListMap<>();
  private final java.util.Set<String> adminOnly =
      java.util.concurrent.ConcurrentHashMap.newKeySet();

  /**
   * Adds a workflow; a second one with the same name is refused, so a plug-in cannot shadow
   * another.
   */
  @Override
  public NodeWorkflowRegistry register(Workflow<?, ?> workflow) {
    String name = workflow.name();
    if (name == null || !NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(
          "workflow name '" + name + "' must match " + NAME.pattern());
    }
    if (workflow.inputType() == null) {
      throw new IllegalArgumentException("workflow '" + name + "' declares no input type");
    }
    Workflow<?, ?> previous = workflows.putIfAbsent(name, workflow);
    if (previous != null && previous != workflow) {
      throw new IllegalArgumentException(
          "workflow '"
              + name
              + "' is registered twice ("
              + previous.getClass().getName()
              + " and "
              + workflow.getClass().getName()
              + ")");
    }
    return this;
  }

  /**
   * Adds a workflow that only Keel itself and the admin token may start (directly or by a
   * schedule): Keel's own operations, whose input names other tenants or whose output covers them.
   */
  public NodeWorkflowRegistry registerAdminOnly(Workflow<?, ?> workflow) {
    register(workflow);
    adminOnly.add(workflow.name());
    return this;
  }

  /** Whether a tenant's key is refused (403) for starting {@code name}. */
  public boolean adminOnly(String name) {
    return adminOnly.contains(name);
  }

  @Override
  public Optional<Workflow<?, ?>> find(String name) {
    return Optional.ofNullable(workflows.get(name));
  }

  @Override
  public Collection<Workflow<?, ?>> all() {
    return List.copyOf(workflows.values());
  }

  /**
   * Loads every {@code Workflow} that the jars in {@code dir} declare in {@code
   * META-INF/services/dev.keel.workflow.sdk.Workflow}. Returns their names.
   */
  public List<String> loadPlugins(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      throw new IOException("plugins directory " + dir + " does not exist");
    }
    List<URL> jars = new ArrayList<>();
    try (Stream<Path> files = Files.list(dir)) {
      for (Path p : files.filter(f -> f.toString().endsWith(".jar")).sorted().toList())
        jars.add(p.toUri().toURL());
    }
    URLClassLoader loader =
        new URLClassLoader(jars.toArray(URL[]::new), NodeWorkflowRegistry.class.getClassLoader());
    List<String> names = new ArrayList<>();
    for (Workflow<?, ?> w : ServiceLoader.load(Workflow.class, loader)) {
      // Only workflows from the plug-in jars themselves: the parent class path has the built-ins.
      if (w.getClass().getClassLoader() != loader) continue;
      register(w);
      names.add(w.name());
      log.info(
          "plug-in workflow loaded name={} version={} class={}",
          w.name(),
          w.version(),
          w.getClass().getName());
    }
    return names;
  }
}
