package dev.keel.registry.alert;

import dev.keel.registry.alert.AlertRule.Active;
import dev.keel.registry.alert.AlertRule.AlertDefinition;
import dev.keel.registry.alert.AlertRule.AlertView;
import dev.keel.registry.alert.AlertRule.DeferredView;
import dev.keel.registry.alert.AlertRule.Firing;
import dev.keel.registry.alert.AlertRule.FiringView;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/** A rule's state as clients see it: the answer of GET, of a put, and of audit's as-of view. */
final class AlertViews {

  private AlertViews() {}

  static AlertView of(String ruleId, Active s) {
    AlertDefinition d = s.def();
    List<String> triggered = new ArrayList<>();
    List<DeferredView> deferred = new ArrayList<>();
    new TreeMap<>(s.services())
        .forEach(
            (serviceId, a) -> {
              if (a.triggered()) triggered.add(serviceId);
              if (a.deferred() != null)
                deferred.add(new DeferredView(serviceId, a.deferred().dueAt()));
            });
    List<FiringView> firings = new ArrayList<>();
    for (int i = s.recentFirings().size() - 1; i >= 0; i--) {
      Firing f = s.recentFirings().get(i);
      firings.add(
          new FiringView(
              f.seq(),
              f.serviceId(),
              f.status(),
              f.metrics(),
              f.firedAt(),
              f.deliveryWorkflowId(),
              f.delivery(),
              f.repairWorkflowId(),
              f.repair()));
    }
    return new AlertView(
        ruleId,
        d.service(),
        d.condition(),
        d.webhook(),
        d.repair(),
        d.cooldownSeconds(),
        d.tenantId(),
        s.createdAt(),
        s.updatedAt(),
        List.copyOf(triggered),
        List.copyOf(deferred),
        s.firingCount(),
        s.lastFiredAt(),
        List.copyOf(firings));
  }
}
