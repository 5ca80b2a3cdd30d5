package dev.keel.workflow.outbound;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Which addresses a tenant's request may reach, in every way a URL can write them. */
class OutboundRuleTest {

  private static final int NODE_HTTP_PORT = 8080;
  private final OutboundRule rule = OutboundRule.parse("", () -> Set.of(NODE_HTTP_PORT, 25520));

  @ParameterizedTest(name = "{0} is refused as {1}")
  @CsvSource(
      delimiter = '|',
      value = {
        "127.0.0.1|a loopback address",
        "127.1.2.3|a loopback address",
        "2130706433|a loopback address",
        "0x7f000001|a loopback address",
        "0x7f.0.0.1|a loopback address",
        "0177.0.0.1|a loopback address",
        "127.1|a loopback address",
        "[::1]|a loopback address",
        "::1|a loopback address",
        "[::ffff:127.0.0.1]|a loopback address",
        "[::ffff:7f00:1]|a loopback address",
        "[::127.0.0.1]|a loopback address",
        "[64:ff9b::7f00:1]|a loopback address",
        "[2002:7f00:1::]|a loopback address",
        "localhost|a loopback address",
        "LOCALHOST.|a loopback address",
        "api.keel.localhost|a loopback address",
        "0.0.0.0|an unspecified ('this network') address",
        "0|an unspecified ('this network') address",
        "[::]|an unspecified address",
        "10.0.0.1|a private address",
        "172.16.0.1|a private address",
        "172.31.255.255|a private address",
        "192.168.1.1|a private address",
        "[::ffff:10.1.2.3]|a private address",
        "169.254.169.254|a link-local address",
        "0xa9fea9fe|a link-local address",
        "[fe80::1]|a link-local address",
        "[febf::1]|a link-local address",
        "[fc00::1]|a unique-local address",
        "[fd12:3456::1]|a unique-local address",
        "100.64.0.1|a shared (carrier-grade NAT) address",
        "100.127.255.254|a shared (carrier-grade NAT) address",
        "192.0.0.8|a reserved (IETF protocol) address",
        "198.18.0.1|a reserved (benchmarking) address",
        "224.0.0.1|a multicast address",
        "[ff02::1]|a multicast address",
        "255.255.255.255|a reserved address",
        "240.0.0.1|a reserved address"
      })
  void refusesSpecialAddressesInEveryForm(String host, String kind) {
    assertThat(rule.refusalOfLiteral(host, 443))
        .hasValueSatisfying(reason -> assertThat(reason).contains(kind));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "93.184.215.14",
        "8.8.8.8",
        "172.32.0.1",
        "100.128.0.1",
        "169.255.0.1",
        "[2606:4700::1111]",
        "[::ffff:8.8.8.8]",
        "1.1.1.1"
      })
  void letsPublicAddressesThrough(String host) {
    assertThat(rule.refusalOfLiteral(host, 443)).isEmpty();
  }

  @Test
  void hostNamesAreLeftToTheConnection() {
    assertThat(rule.refusalOfLiteral("hooks.example.com", 443)).isEmpty();
    assertThat(rule.refusalOfLiteral("10.example.com", 443))
        .as("a name that starts with digits")
        .isEmpty();
  }

  @Test
  void numericFormsThatAreNoAddressAreRefused() {
    assertThat(rule.refusalOfLiteral("256.1.1.1", 80))
        .hasValueSatisfying(r -> assertThat(r).contains("not a valid IPv4 address"));
    assertThat(rule.refusalOfLiteral("0x1ffffffff", 80)).isPresent();
    assertThat(rule.refusalOfLiteral("[::g]", 80))
        .hasValueSatisfying(r -> assertThat(r).contains("not a valid IPv6 address"));
  }

  @Test
  void theOperatorsListOpensNetworksAndNamesButNeverTheNodesOwnPorts() throws Exception {
    OutboundRule allowing =
        OutboundRule.parse(
            " 10.20.0.0/16, fd00::/8 ,127.0.0.1, Billing.Internal. ", () -> Set.of(NODE_HTTP_PORT));
    assertThat(allowing.refusal(InetAddress.getByName("10.20.3.4"), 443)).isEmpty();
    assertThat(allowing.refusal(InetAddress.getByName("10.21.3.4"), 443)).isPresent();
    assertThat(allowing.refusal(InetAddress.getByName("fd00::5"), 443)).isEmpty();
    assertThat(allowing.refusal(InetAddress.getByName("127.0.0.1"), 9000)).isEmpty();
    assertThat(allowing.refusal(InetAddress.getByName("127.0.0.1"), NODE_HTTP_PORT))
        .hasValueSatisfying(r -> assertThat(r).contains("this node's own ports"));
    assertThat(allowing.refusal(InetAddress.getByName("0.0.0.0"), NODE_HTTP_PORT)).isPresent();
    assertThat(allowing.allowsHost("billing.internal")).isTrue();
    assertThat(allowing.allowsHost("BILLING.internal.")).isTrue();
    assertThat(allowing.allowsHost("other.internal")).isFalse();
    assertThat(allowing.refusalOfLiteral("billing.internal", 443)).isEmpty();
  }

  @Test
  void theNodesOwnPortsAreRefusedOnLoopbackEvenWhenTheAddressIsAllowed() throws Exception {
    OutboundRule allowing = OutboundRule.parse("127.0.0.0/8", () -> Set.of(NODE_HTTP_PORT));
    assertThat(allowing.refusal(InetAddress.getByName("127.0.0.1"), NODE_HTTP_PORT)).isPresent();
    assertThat(allowing.refusal(InetAddress.getByName("8.8.8.8"), NODE_HTTP_PORT))
        .as("not this node's address")
        .isEmpty();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "10.0.0.0/33",
        "10.0.0/8",
        "0x0a000000/8",
        "fd00::/129",
        "10.0.0.0/x",
        "not a host",
        "-bad.example",
        "http://x.example",
        "10.0.0.0/-1"
      })
  void aBadListIsRefusedNamingTheEntry(String entry) {
    assertThatThrownBy(() -> OutboundRule.parse("8.8.8.8/32," + entry, Set::of))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(entry.strip());
  }
}
