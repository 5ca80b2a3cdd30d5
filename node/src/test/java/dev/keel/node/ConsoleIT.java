package dev.keel.node;

import static dev.keel.node.NodeHttp.JSON;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.keel.persistence.TestDatabases;
import dev.keel.workflow.execution.NodeWorkflowRegistry;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The console in a real browser against a real node: sign in with the admin token, find an
 * execution started through the API in the list, open it, cancel it from its page and see the
 * status change (and the node agree); a refused action shows the node's problem text; values are
 * shown as text, never as markup; services, schedules (paused from the screen), alerts and tenants
 * show the node's data; the credential stays in the tab's session storage; a tenant's key sees only
 * its own executions and services, and no tenants. Screenshots land in {@code
 * target/console-screenshots/}.
 */
class ConsoleIT {

  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final String WAITS_FOR_SIGNAL =
      "{\"workflow\":\"http-sequence\",\"id\":\"%s\",\"input\":{\"steps\":[{\"name\":\"approval\",\"signal\":\"approve\",\"timeout\":\"P3D\"}]}}";

  @Test
  void operatorUsesTheConsole() throws Exception {
    HeadlessChromium.assumeInstalled();
    Path dir = Files.createTempDirectory("keel-console-it");
    Path shots = Files.createDirectories(Path.of("target", "console-screenshots"));
    try (KeelNode node = NodeHttp.start(Map.of("keel.node.data-dir", dir.toString()))) {
      NodeHttp api = NodeHttp.ready(node);
      String base = "http://127.0.0.1:" + node.httpPort();

      // The page's own answer forbids inline and foreign scripts.
      HttpResponse<String> page = api.send("GET", "/ui", null);
      assertThat(page.statusCode()).isEqualTo(200);
      assertThat(page.headers().firstValue("Content-Security-Policy").orElseThrow())
          .contains("script-src 'self'")
          .contains("default-src 'none'")
          .doesNotContain("unsafe-inline");

      String acmeKey = activeTenant(api, "acme");
      String globexKey = activeTenant(api, "globex");
      started(api.send("POST", "/api/v1/workflows", WAITS_FOR_SIGNAL.formatted("console-waits")));
      started(api.send("POST", "/api/v1/workflows", WAITS_FOR_SIGNAL.formatted("console-refused")));
      started(
          api.sendAuth(
              "POST", "/api/v1/workflows", WAITS_FOR_SIGNAL.formatted("acme-order-1"), acmeKey));
      started(
          api.sendAuth(
              "POST",
              "/api/v1/workflows",
              WAITS_FOR_SIGNAL.formatted("globex-order-1"),
              globexKey));
      // Markup in user input: the console must show it as text.
      started(
          api.send(
              "POST",
              "/api/v1/workflows",
              "{\"workflow\":\"example\",\"id\":\"console-markup\",\"input\":{\"userId\":\"<b"
                  + " id='injected'>u-1</b>\",\"action\":\"signup\"}}"));
      assertThat(
              api.send(
                      "PUT",
                      "/api/v1/services/billing-1",
                      "{\"name\":\"<img id='injected-img'"
                          + " src='/x'>Billing\",\"type\":\"source\",\"ttlSeconds\":600}")
                  .statusCode())
          .isEqualTo(201);
      assertThat(
              api.sendAuth(
                      "PUT",
                      "/api/v1/services/globex-billing",
                      "{\"type\":\"sink\",\"ttlSeconds\":600}",
                      globexKey)
                  .statusCode())
          .isEqualTo(201);
      assertThat(
              api.send(
                      "PUT",
                      "/api/v1/schedules/nightly-signup",
                      "{\"workflow\":\"example\",\"cron\":\"0 3 * * *\","
                          + "\"timezone\":\"UTC\",\"input\":{\"userId\":\"u-1\",\"action\":\"signup\"}}")
                  .statusCode())
          .isEqualTo(201);
      assertThat(
              api.send(
                      "PUT",
                      "/api/v1/alerts/billing-down",
                      "{\"service\":\"billing-1\",\"condition\":\"status != healthy\","
                          + "\"webhook\":\"https://hooks.example.test/keel\"}")
                  .statusCode())
          .isEqualTo(201);
      for (String id : List.of("console-waits", "acme-order-1", "globex-order-1")) {
        api.await(
            "/api/v1/workflows?idPrefix=" + id,
            list -> list.get("items").size() == 1,
            id + " in the read model");
      }

      ChromeDriver browser = HeadlessChromium.start(dir.resolve("chromium-profile"));
      try {
        WebDriverWait wait = new WebDriverWait(browser, WAIT);
        browser.get(base + "/ui");
        signIn(browser, wait, NodeHttp.TOKEN);
        screenshot(browser, shots, "sign-in-done");

        // The list: the execution is there, counts by status include it, a filter narrows the list.
        wait.until(
            ExpectedConditions.presenceOfElementLocated(
                By.cssSelector("a.execution-link[data-id='console-waits']")));
        assertThat(text(browser, "#workflow-counts")).contains("waiting");
        assertThat(waitingCount(browser)).isGreaterThanOrEqualTo(4);
        assertThat(listedIds(browser)).contains("console-waits", "acme-order-1", "globex-order-1");
        browser.findElement(By.name("idPrefix")).sendKeys("acme-");
        browser.findElement(By.cssSelector("#workflow-filters button[type=submit]")).click();
        wait.until(d -> listedIds(browser).equals(List.of("acme-order-1")));
        screenshot(browser, shots, "workflows-filtered");
        browser.findElement(By.cssSelector("#workflow-filters a.button")).click();
        wait.until(d -> listedIds(browser).contains("console-waits"));
        screenshot(browser, shots, "workflows");

        // Its page: waiting for the signal, with its history; cancel it from the screen.
        browser.findElement(By.cssSelector("a.execution-link[data-id='console-waits']")).click();
        wait.until(d -> text(browser, "#execution-summary").contains("waiting"));
        assertThat(text(browser, "#pending-work"))
            .contains("approve")
            .contains("waiting for a signal");
        assertThat(text(browser, "#timeline"))
            .contains("WorkflowStarted")
            .contains("SignalAwaited");
        screenshot(browser, shots, "execution-waiting");
        browser.findElement(By.id("action-cancel")).click();
        browser
            .findElement(By.cssSelector("#form-cancel input[name=reason]"))
            .sendKeys("withdrawn in the console");
        browser.findElement(By.id("confirm-cancel")).click();
        wait.until(d -> text(browser, "#execution-summary").contains("cancelled"));
        wait.until(d -> text(browser, "#timeline").contains("withdrawn in the console"));
        assertThat(browser.findElements(By.id("action-cancel"))).isEmpty();
        screenshot(browser, shots, "execution-cancelled");
        JsonNode cancelled =
            JSON.readTree(api.send("GET", "/api/v1/workflows/console-waits", null).body());
        assertThat(cancelled.get("status").asText()).isEqualTo("cancelled");

        // A refused action (409: finished meanwhile) shows the node's problem text.
        browser.get(base + "/ui#/workflows/console-refused");
        wait.until(d -> text(browser, "#execution-summary").contains("waiting"));
        browser.findElement(By.id("action-pause")).click();
        assertThat(api.send("POST", "/api/v1/workflows/console-refused/cancel", "{}").statusCode())
            .isEqualTo(202);
        HttpResponse<String> refused =
            api.send("POST", "/api/v1/workflows/console-refused/pause", null);
        assertThat(refused.statusCode()).isEqualTo(409);
        browser.findElement(By.id("confirm-pause")).click();
        wait.until(d -> text(browser, "#action-message").contains("409"));
        assertThat(text(browser, "#action-message"))
            .contains(JSON.readTree(refused.body()).get("detail").asText());
        screenshot(browser, shots, "action-refused");

        // User input is text: no element made from it, the markup shown as typed.
        browser.get(base + "/ui#/workflows/console-markup");
        wait.until(d -> text(browser, "main").contains("<b id='injected'>u-1</b>"));
        assertThat(browser.findElements(By.id("injected"))).isEmpty();
        browser.get(base + "/ui#/services");
        wait.until(d -> text(browser, "main").contains("<img id='injected-img' src='/x'>Billing"));
        assertThat(browser.findElements(By.id("injected-img"))).isEmpty();
        assertThat(text(browser, "#service-counts")).contains("healthy");
        assertThat(text(browser, "main")).contains("globex-billing");
        screenshot(browser, shots, "services");

        // Schedules: paused from the screen, as the node then says; alerts and tenants show theirs.
        api.await("/api/v1/schedules", l -> l.get("items").size() == 1, "the schedule projected");
        browser.get(base + "/ui#/schedules");
        wait.until(d -> text(browser, "main").contains("nightly-signup"));
        browser.findElement(By.xpath("//button[text()='Pause']")).click();
        api.await(
            "/api/v1/schedules/nightly-signup",
            sc -> sc.get("paused").asBoolean(),
            "the schedule paused from the console");
        wait.until(d -> !browser.findElements(By.xpath("//button[text()='Resume']")).isEmpty());
        screenshot(browser, shots, "schedules");
        api.await("/api/v1/alerts", l -> l.get("items").size() == 1, "the alert rule projected");
        browser.get(base + "/ui#/alerts");
        wait.until(d -> text(browser, "main").contains("status != healthy"));
        browser.findElement(By.linkText("billing-down")).click();
        wait.until(d -> text(browser, "main").contains("Newest firings"));
        browser.get(base + "/ui#/tenants");
        wait.until(d -> text(browser, "main").contains("globex"));
        assertThat(text(browser, "main")).contains("acme").contains("pro");
        screenshot(browser, shots, "tenants");

        // The credential: in this tab's session storage only, never in the URL or local storage.
        JavascriptExecutor js = browser;
        assertThat(js.executeScript("return window.localStorage.length")).isEqualTo(0L);
        assertThat(js.executeScript("return Object.values(sessionStorage).join(' ')"))
            .asString()
            .contains(NodeHttp.TOKEN);
        assertThat(browser.getCurrentUrl()).doesNotContain(NodeHttp.TOKEN);
        browser.findElement(By.id("sign-out")).click();
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("credential")));
        assertThat(js.executeScript("return sessionStorage.length")).isEqualTo(0L);

        // A tenant's key: its own executions only, and another tenant's is "does not exist".
        signIn(browser, wait, acmeKey);
        wait.until(d -> listedIds(browser).contains("acme-order-1"));
        assertThat(listedIds(browser)).containsExactly("acme-order-1");
        assertThat(text(browser, "#workflow-counts")).startsWith("all 1");
        assertThat(browser.findElement(By.cssSelector("nav a[data-section=tenants]")).isDisplayed())
            .isFalse();
        screenshot(browser, shots, "tenant-workflows");
        browser.get(base + "/ui#/workflows/globex-order-1");
        wait.until(d -> text(browser, "main").contains("does not exist"));
        assertThat(text(browser, "main")).doesNotContain("Pending work");
        browser.get(base + "/ui#/services");
        wait.until(d -> text(browser, "#service-counts").startsWith("all 0"));
        assertThat(text(browser, "main"))
            .doesNotContain("globex-billing")
            .doesNotContain("billing-1");
        browser.get(base + "/ui#/tenants");
        wait.until(d -> text(browser, "main").contains("Only the admin token sees tenants"));
      } finally {
        browser.quit();
      }
    }
  }

  /**
   * On PostgreSQL: an operator repairs failed executions from the console (retry in place, rerun
   * from a step, a bulk retry whose confirmation says how many it touches), reads a service's
   * metric history as charts, and sees the cluster; a viewer key sees the same executions without a
   * single action.
   */
  @Test
  void operatorRepairsExecutionsInBulkAndReadsChartsOnPostgres() throws Exception {
    HeadlessChromium.assumeInstalled();
    Path dir = Files.createTempDirectory("keel-console-repair-it");
    Path shots = Files.createDirectories(Path.of("target", "console-screenshots"));
    DecliningCheckout checkout = new DecliningCheckout("console-checkout");
    try (TestDatabases.FreshPostgres pg = TestDatabases.freshPostgres();
        KeelNode node =
            NodeHttp.start(
                Map.of(
                    "keel.node.data-dir", dir.toString(),
                    "keel.database.url", pg.settings().url(),
                    "keel.database.user", pg.settings().user(),
                    "keel.services.history.flush-interval", "100ms",
                    "keel.services.history.coarse-flush-interval", "100ms"),
                new NodeWorkflowRegistry().register(checkout))) {
      NodeHttp api = NodeHttp.ready(node);
      String base = "http://127.0.0.1:" + node.httpPort();
      for (String id : List.of("co-1", "co-2", "co-3", "co-4")) {
        HttpResponse<String> started =
            api.send(
                "POST",
                "/api/v1/workflows?wait=PT30S",
                "{\"workflow\":\"console-checkout\",\"id\":\""
                    + id
                    + "\",\"input\":{\"customer\":\"c-1\"}}");
        assertThat(started.statusCode()).as(started.body()).isEqualTo(201);
        assertThat(JSON.readTree(started.body()).get("status").asText()).isEqualTo("failed");
      }
      api.await(
          "/api/v1/workflows?status=failed&workflow=console-checkout",
          l -> l.get("items").size() == 4,
          "four failed checkouts listed");
      assertThat(
              api.send("PUT", "/api/v1/services/pump-1", "{\"type\":\"source\",\"ttlSeconds\":600}")
                  .statusCode())
          .isEqualTo(201);
      for (int i = 0; i < 5; i++) {
        assertThat(
                api.send(
                        "POST",
                        "/api/v1/services/pump-1/heartbeat",
                        "{\"metrics\":{\"lag\":" + (10 * i) + "}}")
                    .statusCode())
            .isEqualTo(200);
      }
      api.await(
          "/api/v1/services/pump-1/metrics?since=PT1H",
          m -> m.get("metrics").size() == 1,
          "the heartbeats' metric kept");
      // A viewer: the executions, and not one button to act on them.
      JsonNode initech = activeTenantCreated(api, "initech");
      String tenantAdmin = initech.get("apiKey").asText();
      String tenantId = initech.get("id").asText();
      HttpResponse<String> viewer =
          api.sendAuth(
              "POST",
              "/api/v1/tenants/" + tenantId + "/keys",
              "{\"name\":\"wallboard\",\"role\":\"viewer\"}",
              tenantAdmin);
      assertThat(viewer.statusCode()).as(viewer.body()).isEqualTo(201);
      HttpResponse<String> failing =
          api.sendAuth(
              "POST",
              "/api/v1/workflows?wait=PT30S",
              "{\"workflow\":\"console-checkout\",\"id\":\"initech-1\",\"input\":{\"customer\":\"c-1\"}}",
              tenantAdmin);
      assertThat(failing.statusCode()).as(failing.body()).isEqualTo(201);
      api.await(
          "/api/v1/workflows?idPrefix=initech-1",
          l -> l.get("items").size() == 1,
          "the tenant's execution listed");

      ChromeDriver browser = HeadlessChromium.start(dir.resolve("chromium-profile"));
      try {
        WebDriverWait wait = new WebDriverWait(browser, WAIT);
        browser.get(base + "/ui");
        signIn(browser, wait, JSON.readTree(viewer.body()).get("apiKey").asText());
        wait.until(d -> listedIds(browser).contains("initech-1"));
        assertThat(listedIds(browser)).containsExactly("initech-1");
        assertThat(browser.findElements(By.id("bulk-actions"))).isEmpty();
        browser.get(base + "/ui#/workflows/initech-1");
        wait.until(d -> text(browser, "#execution-summary").contains("failed"));
        assertThat(browser.findElements(By.cssSelector("#execution-actions button"))).isEmpty();
        screenshot(browser, shots, "viewer-execution");
        browser.findElement(By.id("sign-out")).click();

        // The admin: retry co-1 in place once the card processor is back.
        signIn(browser, wait, NodeHttp.TOKEN);
        checkout.decline.set(false);
        browser.get(base + "/ui#/workflows/co-1");
        wait.until(d -> text(browser, "#execution-summary").contains("failed"));
        browser.findElement(By.id("action-retry")).click();
        browser
            .findElement(By.cssSelector("#form-retry input[name=reason]"))
            .sendKeys("processor back");
        browser.findElement(By.id("confirm-retry")).click();
        wait.until(d -> text(browser, "#execution-summary").contains("completed"));
        wait.until(d -> text(browser, "#timeline").contains("WorkflowRetried"));
        screenshot(browser, shots, "execution-retried");
        assertThat(status(api, "co-1")).isEqualTo("completed");

        // Rerun co-2 from "charge" as a new execution: the console opens it, linked to co-2.
        browser.get(base + "/ui#/workflows/co-2");
        wait.until(d -> text(browser, "#execution-summary").contains("failed"));
        browser.findElement(By.id("action-rerun")).click();
        new org.openqa.selenium.support.ui.Select(
                browser.findElement(By.cssSelector("#form-rerun select[name=fromStep]")))
            .selectByValue("charge");
        browser.findElement(By.cssSelector("#form-rerun input[name=id]")).sendKeys("co-2-again");
        browser.findElement(By.id("confirm-rerun")).click();
        wait.until(d -> text(browser, "#execution-id").equals("co-2-again"));
        wait.until(d -> text(browser, "#execution-summary").contains("completed"));
        assertThat(text(browser, "#execution-summary")).contains("Rerun of").contains("co-2");
        assertThat(text(browser, "#timeline")).contains("StepsCopied");
        JsonNode rerun =
            JSON.readTree(api.send("GET", "/api/v1/workflows/co-2-again", null).body());
        assertThat(rerun.get("rerunOf").asText()).isEqualTo("co-2");
        assertThat(rerun.get("status").asText()).isEqualTo("completed");

        // Bulk: the failed checkouts left (co-2 itself and co-3, co-4, and the tenant's), counted
        // before the confirmation, retried by one workflows-bulk execution.
        api.await(
            "/api/v1/workflows?status=failed&workflow=console-checkout",
            l -> l.get("items").size() == 4,
            "co-1 no longer listed as failed");
        browser.get(base + "/ui#/workflows?status=failed&workflow=console-checkout");
        wait.until(d -> !browser.findElements(By.id("bulk-retry")).isEmpty());
        assertThat(text(browser, "#bulk-retry")).isEqualTo("Retry all 4…");
        browser.findElement(By.id("bulk-retry")).click();
        assertThat(text(browser, "#bulk-confirmation"))
            .startsWith("Retry 4 executions (status failed, workflow console-checkout)");
        screenshot(browser, shots, "bulk-confirmation");
        browser.findElement(By.id("confirm-bulk")).click();
        wait.until(d -> text(browser, "#execution-summary").contains("workflows-bulk"));
        wait.until(d -> text(browser, "#execution-summary").contains("completed"));
        assertThat(text(browser, "main")).contains("\"matched\": 4").contains("\"done\": 4");
        for (String id : List.of("co-2", "co-3", "co-4", "initech-1"))
          assertThat(status(api, id)).as(id).isEqualTo("completed");

        // A service's metric history as a chart, and the cluster.
        browser.get(base + "/ui#/services/pump-1");
        wait.until(
            ExpectedConditions.presenceOfElementLocated(
                By.cssSelector("figure.chart[data-metric=lag] canvas")));
        assertThat(
                Integer.parseInt(
                    browser
                        .findElement(By.cssSelector("figure.chart[data-metric=lag]"))
                        .getAttribute("data-points")))
            .isPositive();
        screenshot(browser, shots, "service-metrics");
        browser.get(base + "/ui#/cluster");
        wait.until(d -> text(browser, "#cluster-members").contains("this node"));
        assertThat(text(browser, "#cluster-members")).contains("up").contains("leader");
        wait.until(d -> text(browser, "#cluster-projections").contains("workflow"));
        screenshot(browser, shots, "cluster");

        // A tenant's page: its named keys; one created (the secret shown once) and revoked.
        browser.get(base + "/ui#/tenants/" + tenantId);
        wait.until(d -> text(browser, "#tenant-keys").contains("wallboard"));
        browser.findElement(By.cssSelector("#key-form input[name=name]")).sendKeys("ci-bot");
        new org.openqa.selenium.support.ui.Select(
                browser.findElement(By.cssSelector("#key-form select[name=role]")))
            .selectByValue("operator");
        browser.findElement(By.id("create-key")).click();
        wait.until(ExpectedConditions.presenceOfElementLocated(By.id("new-key-secret")));
        String secret = browser.findElement(By.id("new-key-secret")).getAttribute("value");
        assertThat(secret).isNotBlank();
        HttpResponse<String> asBot = api.sendAuth("GET", "/api/v1/workflows", null, secret);
        assertThat(asBot.statusCode()).as(asBot.body()).isEqualTo(200);
        wait.until(d -> text(browser, "#tenant-keys").contains("ci-bot"));
        screenshot(browser, shots, "tenant-keys");
        browser.findElement(By.cssSelector("#tenant-keys button[data-key=ci-bot]")).click();
        browser.switchTo().alert().accept();
        wait.until(d -> text(browser, "#tenant-message").contains("revoked"));
        assertThat(api.sendAuth("GET", "/api/v1/workflows", null, secret).statusCode())
            .isEqualTo(401);
        assertThat(browser.getCurrentUrl()).doesNotContain(secret);
      } finally {
        browser.quit();
      }
    }
  }

  private static String status(NodeHttp api, String id) throws Exception {
    return JSON.readTree(api.send("GET", "/api/v1/workflows/" + id, null).body())
        .get("status")
        .asText();
  }

  private static void signIn(ChromeDriver browser, WebDriverWait wait, String token) {
    WebElement credential =
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("credential")));
    credential.sendKeys(token);
    browser.findElement(By.id("sign-in")).click();
    wait.until(ExpectedConditions.presenceOfElementLocated(By.id("workflow-list")));
  }

  private static String activeTenant(NodeHttp api, String slug) throws Exception {
    return activeTenantCreated(api, slug).get("apiKey").asText();
  }

  /** The tenant as its creation answered (its id and first key), once it is active. */
  private static JsonNode activeTenantCreated(NodeHttp api, String slug) throws Exception {
    HttpResponse<String> created =
        api.send(
            "POST",
            "/api/v1/tenants",
            "{\"slug\":\"" + slug + "\",\"name\":\"" + slug + "\",\"plan\":\"pro\"}");
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    JsonNode tenant = JSON.readTree(created.body());
    api.await(
        "/api/v1/tenants/" + tenant.get("id").asText(),
        t -> t.get("status").asText().equals("active"),
        slug + " active");
    return tenant;
  }

  private static void started(HttpResponse<String> response) {
    assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
  }

  /** The element's text, or "" while it is not there (or is being redrawn: waits ask again). */
  private static String text(ChromeDriver browser, String css) {
    try {
      List<WebElement> found = browser.findElements(By.cssSelector(css));
      return found.isEmpty() ? "" : found.get(0).getText();
    } catch (org.openqa.selenium.StaleElementReferenceException redrawn) {
      return "";
    }
  }

  private static List<String> listedIds(ChromeDriver browser) {
    return browser.findElements(By.cssSelector("#workflow-list a.execution-link")).stream()
        .map(a -> a.getAttribute("data-id"))
        .toList();
  }

  private static long waitingCount(ChromeDriver browser) {
    String text =
        browser.findElement(By.cssSelector("#workflow-counts a[data-status=waiting] b")).getText();
    return Long.parseLong(text.trim());
  }

  private static void screenshot(ChromeDriver browser, Path dir, String name) throws Exception {
    Files.write(dir.resolve(name + ".png"), browser.getScreenshotAs(OutputType.BYTES));
  }
}
