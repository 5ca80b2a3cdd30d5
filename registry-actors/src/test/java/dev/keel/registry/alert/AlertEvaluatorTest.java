package dev.keel.registry.alert;

import static dev.keel.registry.alert.AlertCatalogTest.T0;
import static dev.keel.registry.alert.AlertCatalogTest.view;
import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.persistence.ManualClock;
import dev.keel.registry.alert.AlertRule.Command;
import dev.keel.registry.alert.AlertRule.ForgetService;
import dev.keel.registry.alert.AlertRule.Observe;
import dev.keel.registry.service.ServiceObservation;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

class AlertEvaluatorTest {

  record Told(String ruleId, Command command) {}

  private final ManualClock clock = new ManualClock(T0);
  private final AlertCatalog catalog = new AlertCatalog(null, clock, Duration.ofSeconds(30));
  private final List<Told> told = new CopyOnWriteArrayList<>();
  private final AlertEvaluator evaluator =
      new AlertEvaluator(
          catalog,
          (ruleId, command) -> told.add(new Told(ruleId, command)),
          clock,
          Duration.ofMinutes(5));

  private static ServiceObservation obs(
      String service, String tenant, String status, Map<String, Double> metrics) {
    return new ServiceObservation(service, tenant, "processor", status, metrics, T0);
  }

  private static ServiceObservation obs(String service, String status) {
    return obs(service, null, status, Map.of());
  }

  private List<String> toldRules() {
    List<String> rules = told.stream().map(Told::ruleId).toList();
    told.clear();
    return rules;
  }

  @Test
  void tellsARuleOnlyWhenTheResultForAServiceChanges() {
    catalog.put(view("down", "*", "status != healthy", null, T0));

    ServiceObservation healthy = obs("ingest-1", "healthy");
    evaluator.observe(healthy); // nothing known yet: told
    assertThat(told).containsExactly(new Told("down", new Observe(healthy)));
    told.clear();

    evaluator.observe(healthy);
    evaluator.observe(obs("ingest-1", "healthy"));
    assertThat(toldRules()).isEmpty();

    evaluator.observe(obs("ingest-1", "stale"));
    assertThat(toldRules()).containsExactly("down");
    evaluator.observe(obs("ingest-1", "unhealthy")); // still holds
    evaluator.observe(obs("ingest-1", "degraded"));
    assertThat(toldRules()).isEmpty();
    evaluator.observe(obs("ingest-1", "healthy"));
    assertThat(toldRules()).containsExactly("down");

    // Every service on its own.
    evaluator.observe(obs("ingest-2", "healthy"));
    assertThat(toldRules()).containsExactly("down");
    assertThat(evaluator.rememberedResults()).isEqualTo(2);
  }

  @Test
  void onlyRulesWatchingTheServiceAndItsTenantAreEvaluated() {
    catalog.put(view("one", "ingest-1", "status != healthy", null, T0));
    catalog.put(view("acme", "*", "metrics.lag > 30", "acme", T0));

    evaluator.observe(obs("ingest-2", null, "stale", Map.of()));
    assertThat(toldRules()).isEmpty();
    evaluator.observe(obs("ingest-1", "globex", "stale", Map.of("lag", 40.0)));
    assertThat(toldRules()).containsExactly("one");
    evaluator.observe(obs("ingest-1", "acme", "stale", Map.of("lag", 40.0)));
    assertThat(toldRules()).containsExactly("acme");
  }

  @Test
  void aRedefinedRuleIsToldAgainEvenWhenTheResultIsTheSame() {
    catalog.put(view("r", "*", "status != healthy", null, T0));
    evaluator.observe(obs("ingest-1", "stale"));
    toldRules();

    catalog.put(view("r", "*", "status == stale", null, T0.plusSeconds(1)));
    evaluator.observe(obs("ingest-1", "stale"));
    assertThat(toldRules()).containsExactly("r");
    evaluator.observe(obs("ingest-1", "stale"));
    assertThat(toldRules()).isEmpty();
  }

  @Test
  void aDeletedRuleIsNoLongerEvaluatedAndWhatWasToldAboutItIsForgotten() {
    catalog.put(view("r", "*", "status != healthy", null, T0));
    catalog.put(view("keep", "*", "status == stale", null, T0));
    evaluator.observe(obs("ingest-1", "stale"));
    evaluator.observe(obs("ingest-2", "stale"));
    toldRules();
    assertThat(evaluator.rememberedResults()).isEqualTo(4);

    catalog.remove("r");
    assertThat(evaluator.rememberedResults()).isEqualTo(2);
    evaluator.observe(obs("ingest-1", "healthy"));
    assertThat(toldRules()).containsExactly("keep");
  }

  @Test
  void aDeregisteredServiceIsForgottenByEveryRuleWatchingIt() {
    catalog.put(view("a", "*", "status != healthy", null, T0));
    catalog.put(view("b", "ingest-1", "status == stale", null, T0));
    catalog.put(view("c", "ingest-2", "status == stale", null, T0));
    evaluator.observe(obs("ingest-1", "stale"));
    toldRules();

    evaluator.gone("ingest-1", null);
    assertThat(told)
        .containsExactlyInAnyOrder(
            new Told("a", new ForgetService("ingest-1")),
            new Told("b", new ForgetService("ingest-1")));
    told.clear();

    // Registered again: nothing is known of it, the first observation is told.
    evaluator.observe(obs("ingest-1", "stale"));
    assertThat(toldRules()).containsExactlyInAnyOrder("a", "b");
  }

  @Test
  void anUnchangedResultIsToldAgainAfterTheRetellInterval() {
    catalog.put(view("r", "*", "status != healthy", null, T0));
    evaluator.observe(obs("ingest-1", "stale"));
    toldRules();

    clock.advance(Duration.ofMinutes(4));
    evaluator.observe(obs("ingest-1", "stale"));
    assertThat(toldRules()).isEmpty();
    clock.advance(Duration.ofMinutes(1));
    evaluator.observe(obs("ingest-1", "stale"));
    assertThat(toldRules()).containsExactly("r");

    AlertEvaluator never =
        new AlertEvaluator(catalog, (r, c) -> told.add(new Told(r, c)), clock, Duration.ZERO);
    never.observe(obs("ingest-1", "stale"));
    clock.advance(Duration.ofDays(1));
    never.observe(obs("ingest-1", "stale"));
    assertThat(toldRules()).containsExactly("r");
  }

  @Test
  void aFailingTellNeverReachesTheServiceEntity() {
    catalog.put(view("r", "*", "status != healthy", null, T0));
    AlertEvaluator broken =
        new AlertEvaluator(
            catalog,
            (r, c) -> {
              throw new IllegalStateException("sharding is shutting down");
            },
            clock,
            Duration.ofMinutes(5));
    broken.observe(obs("ingest-1", "stale"));
    broken.gone("ingest-1", null);
  }
}
