package dev.keel.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.ConfigFactory;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code --database-replica-url} and its credentials as an operator sets them, and the refusals.
 */
class ReplicaSettingsTest {

  private static final String PRIMARY = "jdbc:postgresql://10.0.0.1:5432/keel";
  private static final String REPLICA = "jdbc:postgresql://10.0.0.2:5432/keel";

  @Test
  void noReplicaByDefault() {
    assertThat(settings(Map.of("keel.database.url", PRIMARY)).replica()).isEmpty();
  }

  @Test
  void theReplicaTakesThePrimarysCredentialsUnlessGivenItsOwn() {
    Map<String, String> given =
        Map.of(
            "keel.database.url",
            PRIMARY,
            "keel.database.user",
            "keel",
            "keel.database.password",
            "primary-secret",
            "keel.database.replica.url",
            REPLICA);
    var same = settings(given).replica().orElseThrow();
    assertThat(same.url()).isEqualTo(REPLICA);
    assertThat(same.user()).isEqualTo("keel");
    assertThat(same.password()).isEqualTo("primary-secret");
    Map<String, String> own = new HashMap<>(given);
    own.put("keel.database.replica.user", "reader");
    own.put("keel.database.replica.password", "reader-secret");
    var separate = settings(own).replica().orElseThrow();
    assertThat(separate.user()).isEqualTo("reader");
    assertThat(separate.password()).isEqualTo("reader-secret");
  }

  @Test
  void aReplicaBesideTheEmbeddedDatabaseOrNotPostgresIsRefused_namingTheSetting() {
    assertThatThrownBy(() -> settings(Map.of("keel.database.replica.url", REPLICA)))
        .isInstanceOfSatisfying(
            ConfigProblem.class,
            p -> {
              assertThat(p.setting()).isEqualTo("KEEL_DATABASE_REPLICA_URL");
              assertThat(p.line()).contains("PostgreSQL primary");
            });
    assertThatThrownBy(
            () ->
                settings(
                    Map.of(
                        "keel.database.url",
                        PRIMARY,
                        "keel.database.replica.url",
                        "jdbc:mysql://10.0.0.2/keel?password=hunter2")))
        .isInstanceOfSatisfying(
            ConfigProblem.class,
            p -> {
              assertThat(p.setting()).isEqualTo("KEEL_DATABASE_REPLICA_URL");
              assertThat(p.line()).doesNotContain("hunter2");
            });
  }

  private static NodeSettings settings(Map<String, String> values) {
    Map<String, Object> all = new HashMap<>(values);
    // Independent of whoever runs the build: no KEEL_* variable of theirs decides these.
    all.putIfAbsent("keel.cluster.seed-nodes", "");
    all.putIfAbsent("keel.cluster.discovery", "none");
    all.putIfAbsent("keel.database.url", "");
    all.putIfAbsent("keel.database.replica.url", "");
    all.putIfAbsent("keel.database.replica.user", "");
    all.putIfAbsent("keel.database.replica.password", "");
    return NodeSettings.fromConfig(
        ConfigFactory.parseMap(all).withFallback(ConfigFactory.load()).resolve());
  }
}
