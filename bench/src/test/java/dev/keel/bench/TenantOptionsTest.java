package dev.keel.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class TenantOptionsTest {

  private static TenantOptions parse(String... args) {
    return TenantOptions.parse(args, Map.of("KEEL_TOKEN", " secret\n"), "brun1");
  }

  @Test
  void defaultsAreTheDocumentedOnes() {
    TenantOptions o = parse();

    assertThat(o.endpoint()).hasToString("http://127.0.0.1:8080");
    assertThat(o.token()).isEqualTo("secret");
    assertThat(o.tenants()).isEqualTo(500);
    assertThat(o.concurrency()).isEqualTo(16);
    assertThat(o.warmup()).isEqualTo(20);
    assertThat(o.plan()).isEqualTo("free");
    assertThat(o.slugPrefix()).isEqualTo("brun1");
    assertThat(o.maxSeconds()).isEqualTo(300);
    assertThat(o.toString()).doesNotContain("secret");
  }

  @Test
  void everyOptionIsReadInBothSpellings() {
    TenantOptions o =
        TenantOptions.parse(
            new String[] {
              "--endpoint=http://127.0.0.1:18093/",
              "--token",
              "t",
              "--tenants",
              "2000",
              "--concurrency=32",
              "--warmup",
              "0",
              "--plan",
              "pro",
              "--slug-prefix=load-7",
              "--max-seconds",
              "60"
            },
            Map.of(),
            "unused");

    assertThat(o.endpoint()).hasToString("http://127.0.0.1:18093");
    assertThat(o.token()).isEqualTo("t");
    assertThat(o.tenants()).isEqualTo(2000);
    assertThat(o.concurrency()).isEqualTo(32);
    assertThat(o.warmup()).isZero();
    assertThat(o.plan()).isEqualTo("pro");
    assertThat(o.slugPrefix()).isEqualTo("load-7");
    assertThat(o.maxSeconds()).isEqualTo(60);
  }

  @Test
  void eachRunHasItsOwnValidSlugPrefix() throws Exception {
    String[] args = {"--token", "t"};
    TenantOptions first = TenantOptions.parse(args, Map.of());
    Thread.sleep(5);
    TenantOptions second = TenantOptions.parse(args, Map.of());

    assertThat(first.slugPrefix()).matches("b[0-9a-z]+").isNotEqualTo(second.slugPrefix());
  }

  @Test
  void badValuesAreRefusedNamingTheOption() {
    assertThatThrownBy(() -> parse("--tenants", "0"))
        .hasMessageContaining("--tenants must be at least 1");
    assertThatThrownBy(() -> parse("--concurrency", "many"))
        .hasMessageContaining("--concurrency must be a whole number");
    assertThatThrownBy(() -> parse("--warmup", "-1")).hasMessageContaining("--warmup");
    assertThatThrownBy(() -> parse("--plan", " ")).hasMessageContaining("--plan must not be empty");
    assertThatThrownBy(() -> parse("--endpoint", "ftp://x")).hasMessageContaining("--endpoint");
    assertThatThrownBy(() -> parse("--speed", "1")).hasMessageContaining("unknown option --speed");
    assertThatThrownBy(() -> parse("--tenants")).hasMessageContaining("--tenants needs a value");
    for (String prefix : new String[] {"Bench", "-b", "b-", "b--c", "b_c", "", "a".repeat(41)}) {
      assertThatThrownBy(() -> parse("--slug-prefix", prefix))
          .as(prefix)
          .hasMessageContaining("--slug-prefix");
    }
    assertThatThrownBy(
            () ->
                TenantOptions.parse(
                    new String[] {"--data-dir", "/nonexistent-keel-dir"}, Map.of(), "b"))
        .hasMessageContaining("no token");
  }
}
