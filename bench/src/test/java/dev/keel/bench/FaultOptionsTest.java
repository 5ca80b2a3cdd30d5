package dev.keel.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class FaultOptionsTest {

  private static final String URL = "jdbc:postgresql://127.0.0.1:5432/keel_fault";

  private static FaultOptions parse(String... args) {
    return FaultOptions.parse(args, 42L);
  }

  @Test
  void defaultsAreTheDocumentedOnes() {
    FaultOptions o = parse("--database-url", URL);

    assertThat(o.nodes()).isEqualTo(3);
    assertThat(o.repetitions()).isEqualTo(5);
    assertThat(o.scenarios()).containsExactly(FaultScenario.values());
    assertThat(o.rate()).isEqualTo(3.0);
    assertThat(o.loadBefore()).isEqualTo(Duration.ofSeconds(10));
    assertThat(o.loadAfter()).isEqualTo(Duration.ofSeconds(5));
    assertThat(o.stall()).isEqualTo(Duration.ofSeconds(10));
    assertThat(o.leaseTimeout()).isEqualTo(Duration.ofSeconds(20));
    assertThat(o.stallPastLease()).isEqualTo(Duration.ofSeconds(30));
    assertThat(o.seed()).isEqualTo(42L);
    assertThat(o.jar()).isEqualTo(Path.of("cli/target/keel.jar"));
    assertThat(o.databaseUser()).isEqualTo("postgres");
  }

  @Test
  void shortIsOneRepetitionWithShorterPhases_unlessGivenToo() {
    FaultOptions brief = parse("--short", "--database-url", URL);
    FaultOptions twice =
        parse("--database-url=" + URL, "--short", "--repetitions", "2", "--load-before", "PT8S");

    assertThat(brief.repetitions()).isEqualTo(1);
    assertThat(brief.loadBefore()).isEqualTo(Duration.ofSeconds(5));
    assertThat(brief.loadAfter()).isEqualTo(Duration.ofSeconds(3));
    assertThat(twice.repetitions()).isEqualTo(2);
    assertThat(twice.loadBefore()).isEqualTo(Duration.ofSeconds(8));
  }

  @Test
  void scenariosAreNamedByTheirLabels_inTheOrderGiven() {
    FaultOptions o =
        parse("--database-url", URL, "--scenarios", "rolling-restart, kill-first-seed");

    assertThat(o.scenarios())
        .isEqualTo(List.of(FaultScenario.ROLLING_RESTART, FaultScenario.KILL_FIRST_SEED));
  }

  @Test
  void badValuesAreRefusedNamingTheOption() {
    assertThatThrownBy(() -> parse()).hasMessageContaining("--database-url");
    assertThatThrownBy(() -> parse("--database-url", "jdbc:h2:./data"))
        .hasMessageContaining("--database-url must name a PostgreSQL");
    assertThatThrownBy(() -> parse("--database-url", URL, "--nodes", "2"))
        .hasMessageContaining("--nodes must be at least 3");
    assertThatThrownBy(() -> parse("--database-url", URL, "--nodes", "9"))
        .hasMessageContaining("--nodes must be at most 7");
    assertThatThrownBy(() -> parse("--database-url", URL, "--scenarios", "kill-all"))
        .hasMessageContaining("unknown scenario 'kill-all'");
    assertThatThrownBy(() -> parse("--database-url", URL, "--rate", "0"))
        .hasMessageContaining("--rate");
    assertThatThrownBy(() -> parse("--database-url", URL, "--stall", "PT25S"))
        .hasMessageContaining("--stall must be shorter than --lease-timeout");
    assertThatThrownBy(() -> parse("--database-url", URL, "--lease-timeout", "PT5S"))
        .hasMessageContaining("--lease-timeout must be at least PT6S");
    assertThatThrownBy(() -> parse("--database-url", URL, "--kill", "1"))
        .hasMessageContaining("unknown option --kill");
  }
}
