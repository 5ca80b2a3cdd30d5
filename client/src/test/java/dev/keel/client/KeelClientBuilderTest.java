package dev.keel.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The builder's defaults from {@code KEEL_*} variables, and what it refuses. */
class KeelClientBuilderTest {

  private static KeelClient.Builder withEnv(Map<String, String> env) {
    return KeelClient.builder(env::get);
  }

  @Test
  void readsTheEnvironment() throws Exception {
    try (FakeKeel keel = new FakeKeel();
        KeelClient client =
            withEnv(
                    Map.of(
                        "KEEL_ENDPOINT",
                        keel.uri() + "/",
                        "KEEL_TOKEN",
                        FakeKeel.TOKEN,
                        "KEEL_SERVICE_ID",
                        "env-svc",
                        "KEEL_HEARTBEAT_INTERVAL",
                        "PT0.1S"))
                .build()) {
      assertThat(client.endpoint()).isEqualTo(keel.uri());
      assertThat(client.serviceId()).contains("env-svc");
      client.register(ServiceInfo.builder().name("n").type("t").build());
      assertThat(keel.requests("PUT", "/api/v1/services/env-svc").get(0).header("Authorization"))
          .isEqualTo("Bearer " + FakeKeel.TOKEN);
      client.startHeartbeats(null, null); // at KEEL_HEARTBEAT_INTERVAL
      FakeKeel.await(
          "beats at 100 ms",
          () -> keel.requests("POST", "/api/v1/services/env-svc/heartbeat").size() >= 3);
    }
  }

  @Test
  void defaults_withoutEnvironment() {
    try (KeelClient client = withEnv(Map.of()).build()) {
      assertThat(client.endpoint()).isEqualTo(URI.create("http://127.0.0.1:8080"));
      assertThat(client.serviceId()).isEmpty();
    }
  }

  @Test
  void intervalAsWholeSeconds() {
    assertThat(KeelClient.Builder.parseInterval("15")).isEqualTo(Duration.ofSeconds(15));
    assertThat(KeelClient.Builder.parseInterval("PT2M")).isEqualTo(Duration.ofMinutes(2));
  }

  @Test
  void settersWinOverTheEnvironment() {
    try (KeelClient client =
        withEnv(Map.of("KEEL_ENDPOINT", "http://env:1", "KEEL_SERVICE_ID", "env-svc"))
            .endpoint("https://keel.example:8443/base/")
            .serviceId("mine")
            .build()) {
      assertThat(client.endpoint()).isEqualTo(URI.create("https://keel.example:8443/base"));
      assertThat(client.serviceId()).contains("mine");
    }
  }

  @Test
  void hostAndPort_meansHttp() {
    try (KeelClient client = withEnv(Map.of("KEEL_ENDPOINT", "keel.internal:9000")).build()) {
      assertThat(client.endpoint()).isEqualTo(URI.create("http://keel.internal:9000"));
    }
  }

  @Test
  void badValues_nameTheirSetting() {
    assertThatThrownBy(() -> withEnv(Map.of("KEEL_HEARTBEAT_INTERVAL", "often")).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("KEEL_HEARTBEAT_INTERVAL: 'often'");
    assertThatThrownBy(() -> withEnv(Map.of("KEEL_HEARTBEAT_INTERVAL", "0")).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("KEEL_HEARTBEAT_INTERVAL");
    assertThatThrownBy(() -> withEnv(Map.of("KEEL_ENDPOINT", "ftp://x")).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("KEEL_ENDPOINT: 'ftp://x'");
    assertThatThrownBy(() -> withEnv(Map.of()).endpoint("http://a b").build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("endpoint");
    assertThatThrownBy(() -> withEnv(Map.of("KEEL_SERVICE_ID", "not/an/id")).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("KEEL_SERVICE_ID");
    assertThatThrownBy(() -> withEnv(Map.of()).endpoint("http://user:secret@keel:1").build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageNotContaining("secret");
    // A bad variable does not matter once a setter replaces it.
    try (KeelClient ok =
        withEnv(Map.of("KEEL_HEARTBEAT_INTERVAL", "often"))
            .heartbeatInterval(Duration.ofSeconds(3))
            .build()) {
      assertThat(ok).isNotNull();
    }
  }
}
