package dev.keel.node;

import static dev.keel.node.NodeHttp.JSON;
import static dev.keel.node.NodeHttp.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.keel.persistence.DatabaseSettings;
import dev.keel.persistence.TestDatabases;
import dev.keel.tenant.domain.FakeDnsServer;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Tenants' custom hostnames on a real node, over HTTP, on the embedded H2 and on PostgreSQL, with a
 * real DNS server on 127.0.0.1 (in this JVM) as the node's name server: a claim gets its TXT
 * challenge, verification fails until the record appears and then succeeds (on request and on the
 * schedule), hostnames are unique across tenants, certificates follow their state machine, bad
 * hostnames are 400s that journal nothing, and deleting a domain or its tenant frees the hostname.
 */
class DomainsIT {

  private static final String ROOT = "tenants.keel.test";

  @Test
  void onEmbeddedH2() throws Exception {
    Path dir = Files.createTempDirectory("keel-it-domains-h2");
    exercise(Map.of("keel.node.data-dir", dir.toString()), DatabaseSettings.embedded(dir));
  }

  @Test
  void onPostgres() throws Exception {
    try (TestDatabases.FreshPostgres pg = TestDatabases.freshPostgres()) {
      Path dir = Files.createTempDirectory("keel-it-domains-pg");
      exercise(
          Map.of(
              "keel.node.data-dir",
              dir.toString(),
              "keel.database.url",
              pg.settings().url(),
              "keel.database.user",
              pg.settings().user()),
          pg.settings());
    }
  }

  private void exercise(Map<String, String> db, DatabaseSettings dbSettings) throws Exception {
    try (FakeDnsServer dns = FakeDnsServer.start()) {
      Map<String, String> config = new HashMap<>(db);
      config.put("keel.tenants.dns-server", dns.hostAndPort());
      config.put("keel.tenants.root-domain", ROOT);
      config.put("keel.tenants.domains.dns-timeout", "2s");
      // Scheduled checks every second, so that the schedule itself can be seen to verify a
      // hostname.
      config.put("keel.tenants.domains.check-backoff", "1s");
      config.put("keel.tenants.domains.check-every", "1s");
      try (KeelNode node = NodeHttp.start(config)) {
        NodeHttp api = NodeHttp.ready(node);
        Tenant acme = createTenant(api, "acme");
        Tenant globex = createTenant(api, "globex");
        String acmeDomains = "/api/v1/tenants/" + acme.id + "/domains";
        String globexDomains = "/api/v1/tenants/" + globex.id + "/domains";

        // A claim: 201 with the challenge, in the hostname's normal form; the same again is 200.
        HttpResponse<String> created =
            api.sendAuth("POST", acmeDomains, "{\"hostname\":\" Shop.Example.COM. \"}", acme.key);
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        JsonNode shop = JSON.readTree(created.body());
        assertThat(shop.get("hostname").asText()).isEqualTo("shop.example.com");
        assertThat(shop.get("status").asText()).isEqualTo("pending_verification");
        assertThat(shop.get("verification").get("type").asText()).isEqualTo("TXT");
        assertThat(shop.get("verification").get("name").asText())
            .isEqualTo("_keel-challenge.shop.example.com");
        String challenge = shop.get("verification").get("value").asText();
        assertThat(challenge).matches("[A-Za-z0-9_-]{43}");
        assertThat(shop.get("certificate").get("status").asText()).isEqualTo("none");
        assertThat(shop.get("createdAt").asText())
            .matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");
        assertThat(shop.get("nextCheckAt").isNull()).isFalse();
        assertThat(shop.get("verificationErrors").isArray()).isTrue();
        HttpResponse<String> again =
            api.sendAuth("POST", acmeDomains, "{\"hostname\":\"shop.example.com\"}", acme.key);
        assertThat(again.statusCode()).as(again.body()).isEqualTo(200);
        assertThat(JSON.readTree(again.body()).get("verification").get("value").asText())
            .isEqualTo(challenge);

        // Verify now, without the record: still pending, with the reason.
        HttpResponse<String> notYet =
            api.sendAuth("POST", acmeDomains + "/shop.example.com/verify", null, acme.key);
        assertThat(notYet.statusCode()).as(notYet.body()).isEqualTo(200);
        JsonNode pending = JSON.readTree(notYet.body());
        assertThat(pending.get("status").asText()).isEqualTo("pending_verification");
        JsonNode errors = pending.get("verificationErrors");
        assertThat(errors.get(errors.size() - 1).get("code").asText()).isEqualTo("nxdomain");
        assertThat(errors.get(errors.size() - 1).get("reason").asText())
            .contains("_keel-challenge.shop.example.com");
        assertThat(pending.get("lastCheckedAt").isNull()).isFalse();

        // The record appears: verified.
        dns.putTxt("_keel-challenge.shop.example.com", challenge);
        HttpResponse<String> verified =
            api.sendAuth("POST", acmeDomains + "/shop.example.com/verify", null, acme.key);
        assertThat(verified.statusCode()).as(verified.body()).isEqualTo(200);
        assertThat(JSON.readTree(verified.body()).get("status").asText()).isEqualTo("verified");
        assertThat(JSON.readTree(verified.body()).get("verifiedAt").isNull()).isFalse();

        // The journal tells the story, for the admin's audit.
        JsonNode history =
            JSON.readTree(
                api.send("GET", "/api/v1/audit/hostname/shop.example.com/events", null).body());
        List<String> types = new ArrayList<>();
        history.forEach(e -> types.add(e.get("type").asText()));
        assertThat(types)
            .startsWith("DomainClaimed")
            .contains("VerificationCheckFailed")
            .endsWith("DomainVerified");

        // Unique across tenants: another tenant's claim is a 409 that does not say whose it is.
        HttpResponse<String> taken =
            api.sendAuth("POST", globexDomains, "{\"hostname\":\"shop.example.com\"}", globex.key);
        assertProblem(taken, 409);
        assertThat(taken.body())
            .contains("claimed by another tenant")
            .doesNotContain(acme.id)
            .doesNotContain("acme");
        // ... and to it the hostname does not exist, whichever path it tries.
        assertProblem(
            api.sendAuth("GET", globexDomains + "/shop.example.com", null, globex.key), 404);
        assertProblem(
            api.sendAuth("DELETE", globexDomains + "/shop.example.com", null, globex.key), 404);
        assertProblem(
            api.sendAuth("GET", acmeDomains + "/shop.example.com", null, globex.key), 404);

        // An internationalised hostname, in a body and (percent-encoded) in a path; verified by the
        // schedule alone.
        HttpResponse<String> idn =
            api.sendAuth("POST", acmeDomains, "{\"hostname\":\"Bücher.example\"}", acme.key);
        assertThat(idn.statusCode()).as(idn.body()).isEqualTo(201);
        JsonNode books = JSON.readTree(idn.body());
        assertThat(books.get("hostname").asText()).isEqualTo("xn--bcher-kva.example");
        dns.putTxt(
            "_keel-challenge.xn--bcher-kva.example",
            books.get("verification").get("value").asText());
        JsonNode scheduled =
            api.awaitAuth(
                acmeDomains + "/b%C3%BCcher.example",
                acme.key,
                d -> d.get("status").asText().equals("verified"),
                "verified by a scheduled check");
        assertThat(scheduled.get("hostname").asText()).isEqualTo("xn--bcher-kva.example");

        // Certificates: their own state machine, beside verification.
        String cert = acmeDomains + "/shop.example.com/certificate";
        assertThat(api.sendAuth("PUT", cert, "{\"status\":\"pending\"}", acme.key).statusCode())
            .isEqualTo(200);
        HttpResponse<String> issued =
            api.sendAuth(
                "PUT",
                cert,
                "{\"status\":\"issued\",\"expiresAt\":\"2027-02-20T09:00:00.000Z\"}",
                acme.key);
        assertThat(issued.statusCode()).as(issued.body()).isEqualTo(200);
        assertThat(JSON.readTree(issued.body()).get("certificate").get("status").asText())
            .isEqualTo("issued");
        assertThat(JSON.readTree(issued.body()).get("certificate").get("expiresAt").asText())
            .isEqualTo("2027-02-20T09:00:00.000Z");
        HttpResponse<String> illegal =
            api.sendAuth("PUT", cert, "{\"status\":\"failed\"}", acme.key);
        assertProblem(illegal, 409);
        assertThat(JSON.readTree(illegal.body()).get("detail").asText())
            .contains("expired or pending");

        // Bad input: 400 naming the field, nothing journaled.
        long before = NodeHttp.journalEvents(dbSettings, "hostname");
        List<String> badHostnames =
            new ArrayList<>(
                List.of(
                    "1.2.3.4",
                    "[::1]",
                    "-bad.example.com",
                    "*.example.com",
                    "localhost",
                    "a".repeat(64) + ".example.com",
                    "acme." + ROOT,
                    ROOT,
                    "under_score.example.com"));
        badHostnames.add(
            String.join(".", "a".repeat(63), "b".repeat(63), "c".repeat(63), "d".repeat(59), "io"));
        for (String bad : badHostnames) {
          assertProblem(
              api.sendAuth("POST", acmeDomains, "{\"hostname\":\"" + bad + "\"}", acme.key),
              400,
              "hostname");
        }
        assertProblem(api.sendAuth("POST", acmeDomains, "{}", acme.key), 400, "hostname");
        assertProblem(
            api.sendAuth("POST", acmeDomains, "{\"hostname\":42,\"colour\":\"red\"}", acme.key),
            400,
            "hostname",
            "colour");
        assertProblem(
            api.sendAuth("GET", acmeDomains + "/1.2.3.4", null, acme.key), 400, "hostname");
        assertProblem(
            api.sendAuth("PUT", cert, "{\"status\":\"revoked\"}", acme.key), 400, "status");
        assertProblem(
            api.sendAuth("PUT", cert, "{\"status\":\"issued\"}", acme.key), 400, "expiresAt");
        assertProblem(
            api.sendAuth(
                "PUT", cert, "{\"status\":\"issued\",\"expiresAt\":\"next week\"}", acme.key),
            400,
            "expiresAt");
        assertProblem(
            api.sendAuth("GET", acmeDomains + "?cursor=***", null, acme.key), 400, "cursor");
        assertThat(NodeHttp.journalEvents(dbSettings, "hostname"))
            .as("bad requests journal nothing")
            .isEqualTo(before);

        // The list: the tenant's own, by hostname, paged.
        JsonNode list =
            api.awaitAuth(
                acmeDomains,
                acme.key,
                l ->
                    l.get("items").size() == 2
                        && l.get("items")
                            .get(0)
                            .get("certificate")
                            .get("status")
                            .asText()
                            .equals("issued")
                        && l.get("items").get(1).get("status").asText().equals("verified"),
                "listed both domains");
        assertThat(list.get("items").get(0).get("hostname").asText()).isEqualTo("shop.example.com");
        assertThat(list.get("items").get(1).get("hostname").asText())
            .isEqualTo("xn--bcher-kva.example");
        JsonNode page =
            JSON.readTree(api.sendAuth("GET", acmeDomains + "?limit=1", null, acme.key).body());
        assertThat(page.get("items")).hasSize(1);
        JsonNode next =
            JSON.readTree(
                api.sendAuth(
                        "GET",
                        acmeDomains + "?limit=1&cursor=" + page.get("nextCursor").asText(),
                        null,
                        acme.key)
                    .body());
        assertThat(next.get("items").get(0).get("hostname").asText())
            .isEqualTo("xn--bcher-kva.example");
        assertThat(
                JSON.readTree(api.sendAuth("GET", globexDomains, null, globex.key).body())
                    .get("items"))
            .isEmpty();

        // Delete: 204, gone, the same again 204; now another tenant can claim it, with a new
        // challenge.
        assertThat(
                api.sendAuth("DELETE", acmeDomains + "/shop.example.com", null, acme.key)
                    .statusCode())
            .isEqualTo(204);
        assertProblem(api.sendAuth("GET", acmeDomains + "/shop.example.com", null, acme.key), 404);
        assertThat(
                api.sendAuth("DELETE", acmeDomains + "/shop.example.com", null, acme.key)
                    .statusCode())
            .isEqualTo(204);
        HttpResponse<String> reclaimed =
            api.sendAuth("POST", globexDomains, "{\"hostname\":\"shop.example.com\"}", globex.key);
        assertThat(reclaimed.statusCode()).as(reclaimed.body()).isEqualTo(201);
        JsonNode globexShop = JSON.readTree(reclaimed.body());
        assertThat(globexShop.get("status").asText()).isEqualTo("pending_verification");
        assertThat(globexShop.get("verification").get("value").asText()).isNotEqualTo(challenge);
        assertThat(globexShop.get("certificate").get("status").asText()).isEqualTo("none");

        // Deleting a tenant frees its hostnames (its deprovisioning releases them) and takes no new
        // ones.
        assertThat(api.send("DELETE", "/api/v1/tenants/" + acme.id, null).statusCode())
            .isEqualTo(202);
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        int status = 0;
        while (System.nanoTime() < deadline) {
          status =
              api.sendAuth("POST", globexDomains, "{\"hostname\":\"bücher.example\"}", globex.key)
                  .statusCode();
          if (status == 201) break;
          assertThat(status).as("claimed by acme until released").isEqualTo(409);
          Thread.sleep(200);
        }
        assertThat(status).as("acme's hostname freed by its deletion").isEqualTo(201);
        assertProblem(api.send("POST", acmeDomains, "{\"hostname\":\"new.example.com\"}"), 404);
      }
    }
  }

  private record Tenant(String id, String key) {}

  private static Tenant createTenant(NodeHttp api, String slug) throws Exception {
    HttpResponse<String> created =
        api.send(
            "POST",
            "/api/v1/tenants",
            "{\"slug\":\"" + slug + "\",\"name\":\"" + slug + " Inc\",\"plan\":\"pro\"}");
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    JsonNode t = JSON.readTree(created.body());
    return new Tenant(t.get("id").asText(), t.get("apiKey").asText());
  }
}
