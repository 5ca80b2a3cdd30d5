package dev.keel.persistence.grammar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keel.persistence.grammar.Hostnames.InvalidHostnameException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** What a tenant may claim, and the one spelling each claimable name gets (the entity id). */
class HostnamesTest {

  private static final String ROOT = "tenants.keel.dev";

  private static String normalise(String raw) {
    return Hostnames.normalise(raw, ROOT);
  }

  private static void refused(String raw, String... messageParts) {
    assertThatThrownBy(() -> normalise(raw))
        .as("'%s' is refused", raw)
        .isInstanceOf(InvalidHostnameException.class)
        .hasMessageContainingAll(messageParts);
  }

  @ParameterizedTest(name = "''{0}'' → {1}")
  @CsvSource(
      delimiter = '|',
      value = {
        "shop.example.com|shop.example.com",
        "  Shop.Example.COM  |shop.example.com",
        "shop.example.com.|shop.example.com",
        "bücher.example|xn--bcher-kva.example",
        "BÜCHER.example|xn--bcher-kva.example",
        "münchen.de|xn--mnchen-3ya.de",
        "例え.テスト|xn--r8jz45g.xn--zckzah",
        "shop。example。com|shop.example.com",
        "xn--bcher-kva.example|xn--bcher-kva.example",
        "a-b.c-d.example|a-b.c-d.example",
        "123.example.com|123.example.com",
        "x.io|x.io",
      })
  void normalisesToLowerCaseAsciiWithoutTheTrailingDot(String raw, String expected) {
    assertThat(normalise(raw)).isEqualTo(expected);
  }

  @Test
  void twoSpellingsOfOneNameAreOneName() {
    assertThat(normalise("Bücher.Example.")).isEqualTo(normalise("xn--bcher-kva.example"));
  }

  @Test
  void labelsAreAtMost63Characters() {
    String label63 = "a".repeat(63);
    assertThat(normalise(label63 + ".example.com")).isEqualTo(label63 + ".example.com");
    refused("a".repeat(64) + ".example.com", "64 characters", "at most 63");
  }

  @Test
  void namesAreAtMost253Characters() {
    // Four labels of 63 and one of 1 with their dots: exactly 253.
    String name253 =
        String.join(".", "a".repeat(63), "b".repeat(63), "c".repeat(63), "d".repeat(58), "io");
    assertThat(name253).hasSize(253);
    assertThat(normalise(name253)).isEqualTo(name253);
    String name254 =
        String.join(".", "a".repeat(63), "b".repeat(63), "c".repeat(63), "d".repeat(59), "io");
    assertThat(name254).hasSize(254);
    refused(name254, "254 characters", "at most 253");
  }

  @Test
  void theLengthCountsThePunycodeForm() {
    // 60 Unicode characters become a much longer ASCII label.
    refused("ü".repeat(60) + ".example", "punycode", "at most 63");
  }

  @Test
  void ipAddressesAreNotHostnames() {
    refused("1.2.3.4", "IP address");
    refused("[::1]", "IP address");
    refused("::1", "IP address");
    refused("2001:db8::1", "IP address");
    refused("example.com:8080", "port");
  }

  @Test
  void theTopLevelLabelIsNotAllDigits() {
    refused("example.123", "top-level label '123' is all digits");
    refused("1.2.3", "all digits");
  }

  @Test
  void labelsHoldOnlyLettersDigitsAndHyphensAndDoNotStartOrEndWithOne() {
    refused("-bad.example.com", "'-bad'", "hyphen");
    refused("bad-.example.com", "'bad-'", "hyphen");
    refused("under_score.example.com", "'under_score'", "letters, digits and hyphens");
    refused("sp ace.example.com", "letters, digits and hyphens");
    refused("_keel-challenge.example.com", "letters, digits and hyphens");
  }

  @Test
  void wildcardsAreRefused() {
    refused("*.example.com", "wildcards");
    refused("shop*.example.com", "wildcards");
  }

  @Test
  void emptyLabelsAndSingleLabelsAreRefused() {
    refused("shop..example.com", "empty label");
    refused(".example.com", "empty label");
    refused("localhost", "single label");
    refused(".", "no labels");
    refused("   ", "is required");
    refused(null, "is required");
  }

  @Test
  void brokenPunycodeIsRefused() {
    refused("xn--zz-.example", "hyphen");
    refused("xn--99999999.example", "not valid punycode");
  }

  @Test
  void theRootDomainAndEverythingUnderItAreRefused() {
    refused("tenants.keel.dev", "under tenants.keel.dev", "default domain");
    refused("acme.tenants.keel.dev", "under tenants.keel.dev");
    refused("shop.acme.Tenants.Keel.Dev.", "under tenants.keel.dev");
    // Only names under it: a name that merely ends with the same letters is someone else's.
    assertThat(normalise("mytenants.keel.dev")).isEqualTo("mytenants.keel.dev");
    assertThat(normalise("keel.dev")).isEqualTo("keel.dev");
  }

  @Test
  void withoutARootDomainOnlyTheSyntaxIsChecked() {
    assertThat(Hostnames.normalise("acme.tenants.keel.dev", "")).isEqualTo("acme.tenants.keel.dev");
    assertThat(Hostnames.syntax("Tenants.Keel.Dev.")).isEqualTo("tenants.keel.dev");
  }

  @Test
  void controlCharactersAreRefusedNotTrimmed() {
    // trim() would have made "example.test\u0000" a claim on example.test.
    refused("example.test\u0000", "control characters", "U+0000");
    refused("\u0000example.test", "control characters");
    refused("exam\u0000ple.test", "control characters");
    refused("example.test\t", "control characters");
    refused("example.test\n", "control characters");
    refused("ex\ud800ample.test", "lone surrogate");
  }
}
