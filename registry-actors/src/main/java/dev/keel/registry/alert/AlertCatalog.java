package dev.keel.registry.alert;

import dev.keel.registry.alert.AlertReadModel.CatalogRow;
import dev.keel.registry.alert.AlertRule.AlertView;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.apache.pekko.actor.Cancellable;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The alert rules this node evaluates heartbeats against: read from the rule list ({@code
 * keel_alerts}) every {@link AlertSettings#catalogRefresh()} on the blocking dispatcher, and
 * updated at once when a rule is put or deleted through this node's {@link AlertService}.
 *
 * <p>The list trails the rule entities by the projection's lag, so a rule put or deleted here wins
 * over what the list says for {@link AlertSettings#catalogLocalGrace()}, or until the list shows
 * the same or a newer version. Lookups ({@link #rulesFor}) read an immutable index and never block.
 */
public final class AlertCatalog {

  private static final Logger log = LoggerFactory.getLogger(AlertCatalog.class);

  /**
   * A rule as evaluated in memory. {@code version} is the instant of its last definition (at
   * microsecond precision, as the list keeps it): an evaluator treats a new version as a rule it
   * has never told anything.
   */
  public record Rule(
      String id, String service, AlertCondition condition, String tenantId, Instant version) {

    /** Whether this rule watches {@code serviceId} of {@code tenantId}. */
    public boolean watches(String serviceId, String tenantId) {
      return (AlertRule.ANY_SERVICE.equals(service) || service.equals(serviceId))
          && (this.tenantId == null || this.tenantId.equals(tenantId));
    }
  }

  /** Where an entry comes from: the list, or a put through this node at {@code since}. */
  private record Entry(Rule rule, boolean local, Instant since) {}

  /** Rules by the service they name; {@code anyService} for {@code *}. */
  private record Index(
      Map<String, List<Rule>> byService, List<Rule> anyService, Map<String, Rule> byId) {
    static final Index EMPTY = new Index(Map.of(), List.of(), Map.of());
  }

  private final AlertReadModel source;
  private final Clock clock;
  private final Duration localGrace;
  private final List<Consumer<Set<String>>> listeners = new CopyOnWriteArrayList<>();
  private final Map<String, Entry> entries = new HashMap<>();
  private final Map<String, Instant> deletedHere = new HashMap<>();
  private volatile Index index = Index.EMPTY;
  private volatile boolean failing;
  private volatile Cancellable refreshing;

  public AlertCatalog(AlertReadModel source, Clock clock, Duration localGrace) {
    this.source = source;
    this.clock = clock;
    this.localGrace = localGrace;
  }

  /**
   * Reads the list now and then every {@code interval}, on the blocking dispatcher, until the
   * system stops.
   */
  public AlertCatalog start(ActorSystem<?> system, Duration interval) {
    var blocking =
        system.dispatchers().lookup(DispatcherSelector.fromConfig("keel.blocking-dispatcher"));
    refreshing =
        system
            .scheduler()
            .scheduleWithFixedDelay(Duration.ZERO, interval, this::refreshFromSource, blocking);
    return this;
  }

  /** Stops the periodic reading (the actor system's end stops it too). */
  public void stop() {
    Cancellable c = refreshing;
    if (c != null) c.cancel();
  }

  /** Called with the ids of all rules whenever a rule comes or goes. */
  public void onChange(Consumer<Set<String>> listener) {
    listeners.add(listener);
  }

  /** The rules that watch {@code serviceId} of {@code tenantId}. */
  public List<Rule> rulesFor(String serviceId, String tenantId) {
    Index i = index;
    List<Rule> named = i.byService().getOrDefault(serviceId, List.of());
    if (named.isEmpty() && i.anyService().isEmpty()) return List.of();
    List<Rule> rules = new ArrayList<>(named.size() + i.anyService().size());
    for (Rule r : named) if (r.watches(serviceId, tenantId)) rules.add(r);
    for (Rule r : i.anyService()) if (r.watches(serviceId, tenantId)) rules.add(r);
    return rules;
  }

  public Collection<Rule> all() {
    return index.byId().values();
  }

  /** A rule put through this node: it applies at once. */
  public void put(AlertView view) {
    Rule rule =
        new Rule(
            view.id(),
            view.service(),
            AlertCondition.parseCanonical(view.condition()),
            view.tenantId(),
            micros(view.updatedAt()));
    synchronized (this) {
      entries.put(view.id(), new Entry(rule, true, clock.instant()));
      deletedHere.remove(view.id());
      publish();
    }
  }

  /** A rule deleted through this node: it stops applying at once. */
  public void remove(String id) {
    synchronized (this) {
      entries.remove(id);
      deletedHere.put(id, clock.instant());
      publish();
    }
  }

  /** One reading of the list. */
  void refreshFromSource() {
    List<CatalogRow> rows;
    try {
      rows = source.allRules();
    } catch (Exception e) {
      if (!failing)
        log.warn(
            "alert catalog refresh failed, keeping the rules known so far rules={} reason={}",
            index.byId().size(),
            e.toString());
      failing = true;
      return;
    }
    if (failing) log.info("alert catalog refresh works again rules={}", rows.size());
    failing = false;
    refresh(rows);
  }

  /** Lays the list's {@code rows} over what this node knows; see the class comment for who wins. */
  synchronized void refresh(List<CatalogRow> rows) {
    Instant now = clock.instant();
    deletedHere.values().removeIf(at -> at.plus(localGrace).isBefore(now));
    Map<String, Entry> next = new HashMap<>();
    for (CatalogRow row : rows) {
      Instant version = micros(row.updatedAt());
      Instant deletedAt = deletedHere.get(row.id());
      if (deletedAt != null && !version.isAfter(deletedAt))
        continue; // deleted here; the list has not caught up
      Entry known = entries.get(row.id());
      if (known != null && known.local() && known.rule().version().isAfter(version)) {
        next.put(row.id(), known); // put here; the list has not caught up
        continue;
      }
      if (known != null && known.rule().version().equals(version) && sameRow(known.rule(), row)) {
        next.put(row.id(), new Entry(known.rule(), false, known.since())); // unchanged: no parsing
        continue;
      }
      try {
        next.put(
            row.id(),
            new Entry(
                new Rule(
                    row.id(),
                    row.service(),
                    AlertCondition.parseCanonical(row.condition()),
                    row.tenantId(),
                    version),
                false,
                now));
      } catch (InvalidConditionException e) {
        log.warn(
            "alert rule skipped, its condition does not parse alertId={} reason={}",
            row.id(),
            e.getMessage());
      }
    }
    entries.forEach(
        (id, e) -> {
          if (e.local() && !next.containsKey(id) && !e.since().plus(localGrace).isBefore(now))
            next.put(id, e);
        });
    entries.clear();
    entries.putAll(next);
    publish();
  }

  private static boolean sameRow(Rule rule, CatalogRow row) {
    return rule.service().equals(row.service())
        && rule.condition().toString().equals(row.condition())
        && Objects.equals(rule.tenantId(), row.tenantId());
  }

  /** Builds the lookup index from {@link #entries}; called with the lock held. */
  private void publish() {
    Map<String, List<Rule>> byService = new HashMap<>();
    List<Rule> any = new ArrayList<>();
    Map<String, Rule> byId = new HashMap<>();
    for (Entry e : entries.values()) {
      Rule r = e.rule();
      byId.put(r.id(), r);
      if (AlertRule.ANY_SERVICE.equals(r.service())) any.add(r);
      else byService.computeIfAbsent(r.service(), s -> new ArrayList<>()).add(r);
    }
    Map<String, List<Rule>> frozen = new HashMap<>();
    byService.forEach((s, rules) -> frozen.put(s, List.copyOf(rules)));
    Index before = index;
    index = new Index(Map.copyOf(frozen), List.copyOf(any), Map.copyOf(byId));
    if (before.byId().keySet().equals(byId.keySet())) return;
    Set<String> ids = Set.copyOf(byId.keySet());
    for (Consumer<Set<String>> listener : listeners) {
      try {
        listener.accept(ids);
      } catch (RuntimeException e) {
        log.warn("alert catalog listener failed reason={}", e.toString());
      }
    }
  }

  private static Instant micros(Instant at) {
    return at.truncatedTo(ChronoUnit.MICROS);
  }
}
