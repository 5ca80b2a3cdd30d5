package dev.keel.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HeartbeatOptionsTest {

  private static HeartbeatOptions parse(String... args) {
    return HeartbeatOptions.parse(args, Map.of("KEEL_TOKEN", "secret"));
  }

  @Test
  void defaultsAreTheDocumentedOnes() {
    HeartbeatOptions o = parse();

    assertThat(o.endpoint()).hasToString("http://127.0.0.1:8080");
    assertThat(o.token()).isEqualTo("secret");
    assertThat(o.services()).isEqualTo(1000);
    assertThat(o.interval()).isEqualTo(Duration.ofSeconds(10));
    assertThat(o.duration()).isEqualTo(Duration.ofSeconds(60));
    assertThat(o.warmup()).isEqualTo(Duration.ofSeconds(10));
    assertThat(o.ttlSeconds()).isEqualTo(30);
    assertThat(o.connections()).isEqualTo(48);
    assertThat(o.staleProbe()).isEqualTo(20);
    assertThat(o.nodePid()).isEmpty();
    assertThat(o.databaseUrl()).isEmpty();
    assertThat(o.databaseUser()).isEqualTo("postgres");
    assertThat(o.dataDir()).as("only measured when given").isEmpty();
    assertThat(o.journalSource()).isEqualTo("not measured");
  }

  @Test
  void everyOptionIsReadInBothSpellings() {
    HeartbeatOptions o =
        HeartbeatOptions.parse(
            new String[] {
              "--endpoint=http://127.0.0.1:18080/",
              "--token",
              "t",
              "--services",
              "2000",
              "--interval=PT2S",
              "--duration",
              "PT30S",
              "--warmup",
              "PT0S",
              "--ttl",
              "5",
              "--connections",
              "32",
              "--stale-probe=0",
              "--node-pid",
              "4242",
              "--database-url",
              "jdbc:postgresql://127.0.0.1:5432/bench1",
              "--database-user",
              "keel",
              "--database-password",
              "pw",
              "--data-dir",
              "/tmp/node"
            },
            Map.of());

    assertThat(o.endpoint()).hasToString("http://127.0.0.1:18080");
    assertThat(o.services()).isEqualTo(2000);
    assertThat(o.interval()).isEqualTo(Duration.ofSeconds(2));
    assertThat(o.duration()).isEqualTo(Duration.ofSeconds(30));
    assertThat(o.warmup()).isZero();
    assertThat(o.ttlSeconds()).isEqualTo(5);
    assertThat(o.connections()).isEqualTo(32);
    assertThat(o.staleProbe()).isZero();
    assertThat(o.nodePid()).hasValue(4242);
    assertThat(o.databaseUrl()).hasValue("jdbc:postgresql://127.0.0.1:5432/bench1");
    assertThat(o.databaseUser()).isEqualTo("keel");
    assertThat(o.databasePassword()).isEqualTo("pw");
    assertThat(o.dataDir()).hasValue(Path.of("/tmp/node"));
    assertThat(o.journalSource())
        .isEqualTo("rows of event_journal in jdbc:postgresql://127.0.0.1:5432/bench1");
    assertThat(o.toString())
        .doesNotContain("pw")
        .doesNotContain("token=")
        .contains("services=2000");
  }

  @Test
  void withoutADatabaseTheDataDirectorysH2FileIsMeasured() {
    HeartbeatOptions o = parse("--data-dir", "/tmp/node");

    assertThat(o.journalSource()).isEqualTo("bytes of " + Path.of("/tmp/node", "keel.mv.db"));
  }

  @Test
  void anIntervalNotShorterThanTheTtlIsRefused() {
    assertThatThrownBy(() -> parse("--interval", "PT30S", "--ttl", "30"))
        .hasMessageContaining("--interval (PT30S) must be shorter than --ttl (30 s)");
    assertThatThrownBy(() -> parse("--interval", "PT6S", "--ttl", "5"))
        .hasMessageContaining("shorter than --ttl");
    assertThat(parse("--interval", "PT4.5S", "--ttl", "5").interval())
        .isEqualTo(Duration.ofMillis(4500));
  }

  @Test
  void badValuesAreRefusedWithTheOptionsName() {
    assertThatThrownBy(() -> parse("--interval", "10s"))
        .hasMessageContaining("--interval must be an ISO-8601 duration");
    assertThatThrownBy(() -> parse("--interval", "PT0S"))
        .hasMessageContaining("--interval must be above zero");
    assertThatThrownBy(() -> parse("--duration", "PT0.5S"))
        .hasMessageContaining("--duration must be at least PT1S");
    assertThatThrownBy(() -> parse("--warmup", "-PT1S"))
        .hasMessageContaining("--warmup must not be negative");
    assertThatThrownBy(() -> parse("--services", "0"))
        .hasMessageContaining("--services must be at least 1");
    assertThatThrownBy(() -> parse("--services", "many"))
        .hasMessageContaining("--services must be a whole number");
    assertThatThrownBy(() -> parse("--services", "10", "--stale-probe", "11"))
        .hasMessageContaining("--stale-probe (11) must not exceed --services (10)");
    assertThatThrownBy(() -> parse("--connections", "5000"))
        .hasMessageContaining("--connections must be at most 1024");
    assertThatThrownBy(() -> parse("--node-pid", "0"))
        .hasMessageContaining("--node-pid must be at least 1");
    assertThatThrownBy(() -> parse("--database-url", "jdbc:h2:file:./data/keel"))
        .hasMessageContaining("--database-url must be a PostgreSQL JDBC URL");
    assertThatThrownBy(() -> parse("--workflows", "10"))
        .hasMessageContaining("unknown option --workflows");
    assertThatThrownBy(() -> parse("--services")).hasMessageContaining("--services needs a value");
    assertThatThrownBy(
            () ->
                HeartbeatOptions.parse(
                    new String[] {"--data-dir", "/nonexistent-keel-dir"}, Map.of()))
        .hasMessageContaining("no token");
  }
}
