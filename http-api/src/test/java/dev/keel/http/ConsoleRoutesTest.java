package dev.keel.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The console's files as the node serves them (each answer with its CSP and type; nothing outside
 * them), and what the files themselves may not do: inline scripts or handlers, HTML built from
 * strings, storage that outlives the tab, or modules the route would not serve.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConsoleRoutesTest {

  private static final Pattern IMPORT = Pattern.compile("from '\\./([^']+)'");

  /** What would turn a shown value into markup or code, or keep the credential past the tab. */
  private static final List<String> FORBIDDEN_IN_SCRIPTS =
      List.of(
          "innerHTML",
          "outerHTML",
          "insertAdjacentHTML",
          "document.write",
          "eval(",
          "new Function",
          "localStorage",
          "document.cookie");

  @TempDir Path dataDir;

  private RouteServer server;

  @BeforeAll
  void bind() throws Exception {
    HttpApi api =
        new HttpApi(
            Json.mapper(), AdminToken.resolve(Optional.of("test-token-1234567890"), dataDir), 1024);
    server =
        RouteServer.bind(
            "ConsoleRoutesTest", api.withProblemHandling(() -> new ConsoleRoutes(api).files()));
  }

  @AfterAll
  void unbind() throws Exception {
    if (server != null) server.close();
  }

  @Test
  void thePageAndItsFilesComeWithTheirTypeAndAStrictPolicy() throws Exception {
    for (String path : List.of("/ui", "/ui/")) {
      HttpResponse<String> page = server.send(server.request(path));
      assertThat(page.statusCode()).isEqualTo(200);
      assertThat(page.headers().firstValue("Content-Type").orElseThrow()).startsWith("text/html");
      assertThat(page.body()).contains("<script type=\"module\" src=\"/ui/app.js\">");
      assertThat(page.headers().firstValue("Content-Security-Policy"))
          .contains(ConsoleRoutes.CONTENT_SECURITY_POLICY);
      assertThat(page.headers().firstValue("X-Content-Type-Options")).contains("nosniff");
    }
    HttpResponse<String> script = server.send(server.request("/ui/app.js"));
    assertThat(script.statusCode()).isEqualTo(200);
    assertThat(script.headers().firstValue("Content-Type").orElseThrow())
        .startsWith("application/javascript");
    assertThat(script.headers().firstValue("Content-Security-Policy")).isPresent();
    assertThat(
            server
                .send(server.request("/ui/console.css"))
                .headers()
                .firstValue("Content-Type")
                .orElseThrow())
        .startsWith("text/css");
  }

  @Test
  void nothingButTheConsolesOwnFilesIsServed() throws Exception {
    for (String path :
        List.of(
            "/ui/missing.js",
            "/ui/App.js",
            "/ui/.hidden.js",
            "/ui/application.conf",
            "/ui/logback.xml",
            "/ui/app.js/more",
            "/ui/keel%2Fconsole%2Fapp.js",
            "/ui/vendor/uPlot.esm.js",
            "/ui/vendor/app.js",
            "/ui/vendor/",
            "/ui/vendor/uplot.js/more")) {
      HttpResponse<String> answer = server.send(server.request(path));
      assertThat(answer.statusCode()).as(path).isIn(400, 404);
      JsonNode problem = Json.mapper().readTree(answer.body());
      assertThat(problem.get("status").asInt()).as(path).isEqualTo(answer.statusCode());
    }
  }

  @Test
  void thePageHasNoInlineScriptStyleOrHandler() throws Exception {
    String html = resource("index.html");
    Matcher scripts = Pattern.compile("<script[^>]*>").matcher(html);
    while (scripts.find()) assertThat(scripts.group()).contains("src=\"/ui/");
    assertThat(html)
        .doesNotContainPattern("\\son[a-z]+=")
        .doesNotContain("style=")
        .doesNotContain("<style");
  }

  @Test
  void scriptsBuildNoMarkupFromStringsAndImportOnlyServedFiles() throws Exception {
    Set<String> seen = new TreeSet<>();
    List<String> pending = new ArrayList<>(List.of("app.js"));
    while (!pending.isEmpty()) {
      String name = pending.remove(0);
      if (!seen.add(name)) continue;
      if (name.startsWith("vendor/")) {
        // A library's module: served from its WebJar by the vendor route, with the console's CSP.
        HttpResponse<String> library = server.send(server.request("/ui/" + name));
        assertThat(library.statusCode()).as(name).isEqualTo(200);
        assertThat(library.headers().firstValue("Content-Type").orElseThrow())
            .startsWith("application/javascript");
        assertThat(library.headers().firstValue("Content-Security-Policy")).isPresent();
        // uPlot sets styles through the DOM (allowed by the CSP), never as markup or attributes.
        assertThat(library.body())
            .doesNotContain("innerHTML")
            .doesNotContain("setAttribute(\"style");
        continue;
      }
      String source = resource(name);
      for (String forbidden : FORBIDDEN_IN_SCRIPTS)
        assertThat(source).as(name).doesNotContain(forbidden);
      Matcher imports = IMPORT.matcher(source);
      while (imports.find()) pending.add(imports.group(1));
    }
    // Every module the page loads is one the route serves: one level deep, a plain lower-case name.
    assertThat(seen).allMatch(name -> name.matches("(vendor/)?[a-z][a-z0-9-]*\\.js"));
    assertThat(seen)
        .contains(
            "dom.js",
            "api.js",
            "workflows.js",
            "execution.js",
            "services.js",
            "charts.js",
            "cluster.js",
            "vendor/uplot.js");
  }

  private static String resource(String name) throws IOException {
    try (InputStream in =
        ConsoleRoutes.class.getClassLoader().getResourceAsStream(ConsoleRoutes.RESOURCES + name)) {
      assertThat(in).as(name + " is on the class path").isNotNull();
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
