package dev.keel.node;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.dialect.Dialects;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The OpenAPI document as a judge of real answers: is the answer's status documented for its
 * operation, its content type one the document names for that status, and its body valid against
 * the schema there (networknt's OpenAPI 3.1 dialect resolves the document's own {@code $ref}s).
 * Stricter than the published document in one way: every object schema that lists {@code
 * properties} is closed here ({@code additionalProperties: false}), so a field the node sends but
 * the document does not name fails, and so does a request field the document does not name. Clients
 * may still meet fields they do not know (the contract changes by adding); this only keeps the
 * document complete.
 */
final class OpenApiContract {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** Where the document is said to live, for its {@code $ref}s; nothing is fetched from it. */
  private static final String BASE = "https://keel.dev/openapi.json";

  private final JsonNode document;
  private final SchemaRegistry registry;
  private final Map<String, Schema> schemas = new ConcurrentHashMap<>();

  OpenApiContract(String documentJson) throws Exception {
    ObjectNode strict = (ObjectNode) JSON.readTree(documentJson);
    close(strict);
    this.document = strict;
    String text = JSON.writeValueAsString(strict);
    this.registry =
        SchemaRegistry.withDialect(Dialects.getOpenApi31(), b -> b.schemas(Map.of(BASE, text)));
  }

  /**
   * What is wrong with an answer to {@code method} on {@code template} (a path of the document):
   * empty when the document describes it.
   */
  List<String> check(String method, String template, int status, String contentType, String body) {
    List<String> problems = new ArrayList<>();
    String where = method + " " + template + " -> " + status;
    JsonNode operation =
        document.path("paths").path(template).path(method.toLowerCase(Locale.ROOT));
    if (operation.isMissingNode()) return List.of(where + ": no such operation in the document");
    String pointer =
        "/paths/"
            + escape(template)
            + "/"
            + method.toLowerCase(Locale.ROOT)
            + "/responses/"
            + status;
    JsonNode response = document.at(pointer);
    if (response.isMissingNode())
      return List.of(
          where
              + ": status not documented (documented: "
              + fieldNames(operation.path("responses"))
              + ")");
    if (response.has("$ref")) {
      pointer = response.get("$ref").asText().substring(1);
      response = document.at(pointer);
    }
    JsonNode content = response.path("content");
    if (content.isMissingNode() || content.isEmpty()) {
      if (body != null && !body.isEmpty())
        problems.add(where + ": the document promises no body, the node sent " + abbreviate(body));
      return problems;
    }
    String mediaType =
        contentType == null ? "" : contentType.split(";")[0].trim().toLowerCase(Locale.ROOT);
    if (!content.has(mediaType)) {
      return List.of(
          where
              + ": content type '"
              + mediaType
              + "' not documented (documented: "
              + fieldNames(content)
              + ")");
    }
    if (mediaType.equals("application/json") || mediaType.endsWith("+json")) {
      problems.addAll(validate(pointer + "/content/" + escape(mediaType) + "/schema", body, where));
    }
    return problems;
  }

  /**
   * What is wrong with {@code body} as the request body of {@code method} on {@code template}, as
   * the document describes it.
   */
  List<String> checkRequest(String method, String template, String body) {
    String where = method + " " + template + " request";
    String pointer =
        "/paths/" + escape(template) + "/" + method.toLowerCase(Locale.ROOT) + "/requestBody";
    JsonNode requestBody = document.at(pointer);
    if (requestBody.isMissingNode())
      return List.of(where + ": the document takes no body, the test sent " + abbreviate(body));
    if (!requestBody.path("content").has("application/json"))
      return List.of(where + ": no application/json body documented");
    return validate(pointer + "/content/application~1json/schema", body, where);
  }

  /** What is wrong with {@code body} as an instance of the named component schema. */
  List<String> checkSchema(String component, String body, String where) {
    return validate("/components/schemas/" + component, body, where);
  }

  private List<String> validate(String pointer, String body, String where) {
    Schema schema =
        schemas.computeIfAbsent(
            pointer, p -> registry.getSchema(SchemaLocation.of(BASE + "#" + p)));
    List<String> problems = new ArrayList<>();
    try {
      for (var error : schema.validate(body, InputFormat.JSON)) {
        problems.add(
            where
                + ": "
                + error.getInstanceLocation()
                + " "
                + error.getMessage()
                + " in "
                + abbreviate(body));
      }
    } catch (RuntimeException e) {
      problems.add(where + ": not JSON (" + e.getMessage() + "): " + abbreviate(body));
    }
    return problems;
  }

  /** Closes every object schema that lists its properties and says nothing of others. */
  private static void close(JsonNode node) {
    if (node instanceof ObjectNode object) {
      if (object.path("properties").isObject()
          && !object.has("additionalProperties")
          && "object".equals(object.path("type").asText())) {
        object.put("additionalProperties", false);
      }
      object.properties().forEach(e -> close(e.getValue()));
    } else if (node.isArray()) {
      node.forEach(OpenApiContract::close);
    }
  }

  /** A JSON pointer token (RFC 6901). */
  private static String escape(String token) {
    return token.replace("~", "~0").replace("/", "~1");
  }

  private static List<String> fieldNames(JsonNode node) {
    List<String> names = new ArrayList<>();
    node.fieldNames().forEachRemaining(names::add);
    return names;
  }

  private static String abbreviate(String body) {
    return body.length() <= 400 ? body : body.substring(0, 400) + "…";
  }
}
