package dev.keel.registry.alert;

import dev.keel.registry.alert.AlertCatalog.Rule;
import dev.keel.registry.service.ServiceObservation;
import dev.keel.registry.service.ServiceObserver;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link ServiceObserver} of every service entity on this node: evaluates each observation
 * against the rules of the {@link AlertCatalog} that watch the service, in memory, and tells a rule
 * entity {@link AlertRule.Observe} only when the condition's result for that (rule, service)
 * differs from what this node last told it. Heartbeats come every few seconds from thousands of
 * services; rules hear about transitions.
 *
 * <p>Nothing is known after a start, so the first observation of each (rule, service) is told; so
 * is the first one after a rule is (re)defined. A rule's entity evaluates the condition again
 * itself and decides: this is only a filter. As a tell may be lost with a node, a (rule, service)
 * is told again after {@link AlertSettings#retellAfter()} even without a change.
 *
 * <p>Runs on the service entities' threads: never blocks, never throws.
 */
public final class AlertEvaluator implements ServiceObserver {

  /** Where tells go: the rule entities through sharding, or a test's recorder. */
  @FunctionalInterface
  public interface RuleTeller {
    void tell(String ruleId, AlertRule.Command command);
  }

  private static final Logger log = LoggerFactory.getLogger(AlertEvaluator.class);

  private record Key(String ruleId, String serviceId) {}

  /** What this node last told a rule about a service: the rule's version, the result, and when. */
  private record Told(Instant version, boolean holds, Instant at) {}

  private final AlertCatalog catalog;
  private final RuleTeller teller;
  private final Clock clock;
  private final Duration retellAfter;
  private final ConcurrentHashMap<Key, Told> told = new ConcurrentHashMap<>();

  public AlertEvaluator(
      AlertCatalog catalog, RuleTeller teller, Clock clock, Duration retellAfter) {
    this.catalog = catalog;
    this.teller = teller;
    this.clock = clock;
    this.retellAfter = retellAfter;
    // A rule that is gone takes what was told about it along.
    catalog.onChange(this::keepOnly);
  }

  /**
   * The evaluator of a node: tells rule entities through sharding ({@link AlertRule#init} first).
   */
  public static AlertEvaluator forSystem(
      ActorSystem<?> system, AlertCatalog catalog, AlertSettings settings, Clock clock) {
    ClusterSharding sharding = ClusterSharding.get(system);
    return new AlertEvaluator(
        catalog,
        (ruleId, command) -> sharding.entityRefFor(AlertRule.ENTITY_KEY, ruleId).tell(command),
        clock,
        settings.retellAfter());
  }

  @Override
  public void observe(ServiceObservation observation) {
    try {
      List<Rule> rules = catalog.rulesFor(observation.serviceId(), observation.tenantId());
      if (rules.isEmpty()) return;
      Instant now = clock.instant();
      for (Rule rule : rules) {
        boolean holds = rule.condition().holds(observation);
        boolean[] tell = {false};
        told.compute(
            new Key(rule.id(), observation.serviceId()),
            (k, last) -> {
              if (last != null
                  && last.version().equals(rule.version())
                  && last.holds() == holds
                  && !retellDue(last, now)) {
                return last;
              }
              tell[0] = true;
              return new Told(rule.version(), holds, now);
            });
        if (tell[0]) teller.tell(rule.id(), new AlertRule.Observe(observation));
      }
    } catch (RuntimeException e) {
      log.warn(
          "alert evaluation failed service={} reason={}", observation.serviceId(), e.toString());
    }
  }

  @Override
  public void gone(String serviceId, String tenantId) {
    try {
      for (Rule rule : catalog.rulesFor(serviceId, tenantId)) {
        told.remove(new Key(rule.id(), serviceId));
        teller.tell(rule.id(), new AlertRule.ForgetService(serviceId));
      }
    } catch (RuntimeException e) {
      log.warn(
          "alert evaluation of a deregistration failed service={} reason={}",
          serviceId,
          e.toString());
    }
  }

  /** How many (rule, service) results this node remembers; for tests and metrics. */
  public int rememberedResults() {
    return told.size();
  }

  private boolean retellDue(Told last, Instant now) {
    return !retellAfter.isZero() && !now.isBefore(last.at().plus(retellAfter));
  }

  private void keepOnly(Set<String> ruleIds) {
    told.keySet().removeIf(k -> !ruleIds.contains(k.ruleId()));
  }
}
