package dev.keel.tenant.domain;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.tenant.domain.DnsTxtResolver.LookupFailed;
import dev.keel.tenant.domain.DnsTxtResolver.NoRecords;
import dev.keel.tenant.domain.DnsTxtResolver.NoSuchName;
import dev.keel.tenant.domain.DnsTxtResolver.Records;
import dev.keel.tenant.domain.DnsTxtResolver.TimedOut;
import dev.keel.tenant.domain.DnsTxtResolver.TxtAnswer;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The real resolver against a real DNS server on 127.0.0.1 that answers over UDP: each outcome a
 * check can have is told apart, and a record that appears is found on the next lookup.
 */
class DnsJavaTxtResolverTest {

  private FakeDnsServer dns;
  private DnsJavaTxtResolver resolver;

  @BeforeEach
  void start() throws Exception {
    dns = FakeDnsServer.start();
    resolver =
        DnsJavaTxtResolver.create(
            Optional.of(dns.address()), Duration.ofMillis(500), Runnable::run);
  }

  @AfterEach
  void stop() {
    dns.close();
  }

  private TxtAnswer txt(String name) throws Exception {
    return resolver.txt(name).toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void anUnknownNameIsNxdomainThenTheRecordAppearsAndIsFound() throws Exception {
    assertThat(txt("_keel-challenge.shop.example.com")).isEqualTo(new NoSuchName());

    dns.putTxt("_keel-challenge.shop.example.com", "tok3n-value");

    assertThat(txt("_keel-challenge.shop.example.com"))
        .isEqualTo(new Records(java.util.List.of("tok3n-value")));
    assertThat(txt("_Keel-Challenge.SHOP.example.com."))
        .as("DNS names are case-insensitive")
        .isEqualTo(new Records(java.util.List.of("tok3n-value")));
  }

  @Test
  void everyTxtValueIsReturned() throws Exception {
    dns.putTxt("_keel-challenge.shop.example.com", "v=spf1 -all", "tok3n-value");

    assertThat(((Records) txt("_keel-challenge.shop.example.com")).values())
        .containsExactlyInAnyOrder("v=spf1 -all", "tok3n-value");
  }

  @Test
  void aNameWithoutTxtRecordsIsToldApartFromOneThatDoesNotExist() throws Exception {
    dns.exists("_keel-challenge.shop.example.com");

    assertThat(txt("_keel-challenge.shop.example.com")).isEqualTo(new NoRecords());
  }

  @Test
  void aServerThatDoesNotAnswerIsATimeout() throws Exception {
    dns.silent(true);

    assertThat(txt("_keel-challenge.shop.example.com"))
        .isEqualTo(new TimedOut(Duration.ofMillis(500)));
    assertThat(dns.queries()).isPositive();
  }

  @Test
  void aNameThatIsNotADnsNameIsALookupFailureNotAnException() throws Exception {
    assertThat(txt("a..b")).isInstanceOf(LookupFailed.class);
  }

  @Test
  void theServerSettingTakesHostPortAndBracketedIpv6() {
    assertThat(DomainSettings.dnsServer("127.0.0.1:5353"))
        .hasValueSatisfying(a -> assertThat(a.getPort()).isEqualTo(5353));
    assertThat(DomainSettings.dnsServer("127.0.0.1"))
        .hasValueSatisfying(a -> assertThat(a.getPort()).isEqualTo(53));
    assertThat(DomainSettings.dnsServer("[::1]:5353"))
        .hasValueSatisfying(a -> assertThat(a.getAddress().getHostAddress()).contains(":"));
    assertThat(DomainSettings.dnsServer("")).isEmpty();
    for (String bad : new String[] {"::1", "127.0.0.1:http", "127.0.0.1:70000", ":53"}) {
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> DomainSettings.dnsServer(bad))
          .as(bad)
          .isInstanceOfSatisfying(
              DomainSettings.SettingProblem.class,
              p -> assertThat(p.setting()).isEqualTo("KEEL_DNS_SERVER"));
    }
  }
}
