package dev.keel.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.swagger.v3.parser.OpenAPIV3Parser;
import io.swagger.v3.parser.core.models.ParseOptions;
import io.swagger.v3.parser.core.models.SwaggerParseResult;
import java.io.ByteArrayInputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The OpenAPI document ({@code openapi/keel.yaml}) is a valid OpenAPI 3.1 document whose operations
 * are exactly {@link RouteTable}'s endpoints, and {@link ApiDocsRoutes} serves it as JSON and its
 * browsable view without a token. {@code OpenApiContractIT} checks a real node's answers against
 * it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OpenApiDocumentTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Set<String> METHODS =
      Set.of("get", "put", "post", "delete", "patch", "head", "options", "trace");

  @TempDir Path dataDir;

  private String yaml;
  private JsonNode document;
  private RouteServer server;

  @BeforeAll
  void load() throws Exception {
    try (var in = getClass().getClassLoader().getResourceAsStream(ApiDocsRoutes.DOCUMENT)) {
      yaml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    document = new ObjectMapper(new YAMLFactory()).readTree(yaml);
    HttpApi api =
        new HttpApi(
            Json.mapper(),
            AdminToken.resolve(Optional.of("docs-test-token-0123456789"), dataDir),
            1024);
    server =
        RouteServer.bind(
            "OpenApiDocumentTest", api.withProblemHandling(() -> new ApiDocsRoutes(api).routes()));
  }

  @AfterAll
  void unbind() throws Exception {
    if (server != null) server.close();
  }

  @Test
  void isAValidOpenApi31Document() {
    ParseOptions options = new ParseOptions();
    options.setResolve(true);
    SwaggerParseResult result = new OpenAPIV3Parser().readContents(yaml, null, options);
    assertThat(result.getMessages()).as("what swagger-parser finds wrong").isEmpty();
    assertThat(result.getOpenAPI().getOpenapi()).isEqualTo("3.1.0");
    assertThat(result.getOpenAPI().getPaths()).isNotEmpty();
  }

  @Test
  void operationsAreExactlyTheRouteTable() {
    Set<String> documented = new TreeSet<>();
    document
        .path("paths")
        .properties()
        .forEach(
            path ->
                path.getValue()
                    .properties()
                    .forEach(
                        op -> {
                          if (METHODS.contains(op.getKey()))
                            documented.add(
                                op.getKey().toUpperCase(Locale.ROOT) + " " + path.getKey());
                        }));
    Set<String> routed = new TreeSet<>();
    for (RouteTable.Endpoint e : RouteTable.ENDPOINTS) routed.add(e.method() + " " + e.template());
    assertThat(documented).as("operations of the OpenAPI document vs RouteTable").isEqualTo(routed);
  }

  /**
   * What generated clients rely on: unique operation ids, every path variable declared, a problem
   * schema for every error.
   */
  @Test
  void everyOperationIsComplete() {
    List<String> problems = new ArrayList<>();
    Set<String> operationIds = new HashSet<>();
    Pattern variable = Pattern.compile("\\{([^}]+)}");
    document
        .path("paths")
        .properties()
        .forEach(
            path -> {
              Set<String> variables = new TreeSet<>();
              Matcher m = variable.matcher(path.getKey());
              while (m.find()) variables.add(m.group(1));
              Set<String> pathLevel = pathParameters(path.getValue().path("parameters"));
              path.getValue()
                  .properties()
                  .forEach(
                      op -> {
                        if (!METHODS.contains(op.getKey())) return;
                        String where = op.getKey() + " " + path.getKey();
                        if (!operationIds.add(op.getValue().path("operationId").asText("")))
                          problems.add(where + ": missing or repeated operationId");
                        Set<String> declared = new TreeSet<>(pathLevel);
                        declared.addAll(pathParameters(op.getValue().path("parameters")));
                        if (!declared.equals(variables))
                          problems.add(
                              where + ": path parameters " + declared + ", template " + variables);
                        op.getValue()
                            .path("responses")
                            .properties()
                            .forEach(
                                r -> {
                                  boolean error =
                                      r.getKey().startsWith("4") || r.getKey().startsWith("5");
                                  JsonNode response = resolve(r.getValue());
                                  if (error
                                      && !response
                                          .path("content")
                                          .has("application/problem+json")) {
                                    problems.add(
                                        where
                                            + " "
                                            + r.getKey()
                                            + ": an error without a problem document");
                                  }
                                });
                      });
            });
    assertThat(problems).isEmpty();
  }

  @Test
  void servesTheDocumentAsJsonWithoutAToken() throws Exception {
    HttpResponse<String> response = server.send(server.request("/api/v1/openapi.json"));
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type")).hasValue("application/json");
    assertThat(JSON.readTree(response.body())).isEqualTo(document);
  }

  @Test
  void servesTheBrowsableViewAndItsFiles() throws Exception {
    HttpResponse<String> page = server.send(server.request("/api/docs"));
    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(page.headers().firstValue("Content-Type").orElse("")).startsWith("text/html");
    for (Matcher m = Pattern.compile("(?:src|href)=\"docs/([^\"]+)\"").matcher(page.body());
        m.find(); ) {
      HttpResponse<String> file = server.send(server.request("/api/docs/" + m.group(1)));
      assertThat(file.statusCode()).as(m.group(1)).isEqualTo(200);
    }
    assertThat(server.send(server.request("/api/docs/keel-docs.js")).body())
        .contains("url: \"v1/openapi.json\"", "validatorUrl: null");

    HttpResponse<byte[]> bundle =
        server.sendBytes(
            server.request("/api/docs/swagger-ui-bundle.js").header("Accept-Encoding", "gzip"));
    assertThat(bundle.headers().firstValue("Content-Encoding")).hasValue("gzip");
    String unzipped =
        new String(
            new GZIPInputStream(new ByteArrayInputStream(bundle.body())).readAllBytes(),
            StandardCharsets.UTF_8);
    assertThat(unzipped).contains("SwaggerUIBundle");

    HttpResponse<String> unknown = server.send(server.request("/api/docs/index.html"));
    assertThat(unknown.statusCode()).isEqualTo(404);
    assertThat(unknown.headers().firstValue("Content-Type").orElse(""))
        .startsWith("application/problem+json");
  }

  private JsonNode resolve(JsonNode node) {
    return node.has("$ref") ? document.at(node.get("$ref").asText().substring(1)) : node;
  }

  private Set<String> pathParameters(JsonNode parameters) {
    Set<String> names = new TreeSet<>();
    for (JsonNode p : parameters) {
      JsonNode parameter = resolve(p);
      if (parameter.path("in").asText().equals("path")) names.add(parameter.path("name").asText());
    }
    return names;
  }
}
