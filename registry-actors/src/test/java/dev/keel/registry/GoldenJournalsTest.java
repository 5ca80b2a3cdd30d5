package dev.keel.registry;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.persistence.GoldenJournal;
import dev.keel.registry.alert.AlertRule;
import dev.keel.registry.service.RegisteredService;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Journals of services and alert rules written by earlier versions (src/test/resources/golden)
 * still read with the node's serialization and replay through today's event handlers to the state
 * they had.
 */
class GoldenJournalsTest {

  private final GoldenJournal golden = GoldenJournal.get();

  @Test
  void everyGoldenJournalReplays() {
    assertThat(golden.replayAll(RegisteredService.AUDIT))
        .allSatisfy(r -> assertThat(r.view()).isPresent());
    assertThat(golden.replayAll(AlertRule.AUDIT)).allSatisfy(r -> assertThat(r.view()).isPresent());
  }

  @Test
  void degradedThenUpdatedService() {
    RegisteredService.ServiceView v =
        (RegisteredService.ServiceView)
            golden
                .replay(RegisteredService.AUDIT, "2026-11-22-degraded-then-updated")
                .view()
                .orElseThrow();
    assertThat(v.id()).isEqualTo("golden-svc");
    assertThat(v.name()).isEqualTo("Golden v2");
    assertThat(v.type()).isEqualTo("processor");
    assertThat(v.endpoint()).isEqualTo("10.0.0.8:8080");
    assertThat(v.metadata()).isEqualTo(Map.of("zone", "b"));
    assertThat(v.ttlSeconds()).isEqualTo(3600);
    // Re-registration counts as a heartbeat: healthy again.
    assertThat(v.status()).isEqualTo("healthy");
  }

  @Test
  void firedThenRedefinedAlert() {
    AlertRule.AlertView v =
        (AlertRule.AlertView)
            golden.replay(AlertRule.AUDIT, "2026-11-22-fired-then-redefined").view().orElseThrow();
    assertThat(v.id()).isEqualTo("golden-a");
    assertThat(v.service()).isEqualTo("golden-svc");
    assertThat(v.condition()).isEqualTo("status == stale");
    assertThat(v.cooldownSeconds()).isEqualTo(120);
    assertThat(v.firingCount()).isEqualTo(1);
    assertThat(v.firings())
        .singleElement()
        .satisfies(
            f -> {
              assertThat(f.service()).isEqualTo("golden-svc");
              assertThat(f.status()).isEqualTo("degraded");
              assertThat(f.metrics()).isEqualTo(Map.of("lag", 7.5));
              assertThat(f.deliveryWorkflowId()).isEqualTo("alert.golden-a.1");
              assertThat(f.delivery()).isEqualTo("started");
            });
  }
}
