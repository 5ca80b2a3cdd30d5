package dev.keel.pipeline;

import dev.keel.pipeline.PipelineSpec.Component;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The order components start in: sources, then processors, then sinks, in file order, except that a
 * component always starts after everything it {@code dependsOn}. Stopping goes the other way.
 */
final class StartOrder {

  /** The components form a cycle; {@code ids} walks it and ends where it began. */
  static final class Cycle extends RuntimeException {
    private final List<String> ids;

    Cycle(List<String> ids) {
      super("dependency cycle: " + String.join(" -> ", ids), null, false, false);
      this.ids = List.copyOf(ids);
    }

    List<String> ids() {
      return ids;
    }
  }

  private StartOrder() {}

  /** {@code components} in start order; every dependsOn id must name one of them. */
  static List<Component> of(List<Component> components) {
    Map<String, Component> byId = new HashMap<>();
    components.forEach(c -> byId.put(c.id(), c));
    List<Component> preferred = new ArrayList<>(components);
    // Stable: file order within a role.
    preferred.sort(Comparator.comparing(Component::role));
    List<Component> order = new ArrayList<>();
    Set<String> done = new HashSet<>();
    for (Component c : preferred) visit(c, byId, done, new ArrayList<>(), order);
    return order;
  }

  /** Depth-first: dependencies first; {@code path} is the chain being visited, to name a cycle. */
  private static void visit(
      Component c,
      Map<String, Component> byId,
      Set<String> done,
      List<String> path,
      List<Component> order) {
    if (done.contains(c.id())) return;
    int at = path.indexOf(c.id());
    if (at >= 0) {
      List<String> cycle = new ArrayList<>(path.subList(at, path.size()));
      cycle.add(c.id());
      throw new Cycle(cycle);
    }
    path.add(c.id());
    for (String dep : c.dependsOn()) visit(byId.get(dep), byId, done, path, order);
    path.remove(path.size() - 1);
    done.add(c.id());
    order.add(c);
  }
}
