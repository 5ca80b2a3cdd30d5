package dev.keel.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.client.KeelClient;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

/**
 * What {@code --json} prints: Keel's own JSON, pretty, with every page of a list in one {@code
 * items}.
 */
final class RawJson {

  private static final ObjectMapper MAPPER = new ObjectMapper();

  private RawJson() {}

  /** {@code {"items": [...]}} over all pages of {@code path}. */
  static ObjectNode allPages(KeelClient keel, String path) {
    ObjectNode all = MAPPER.createObjectNode();
    ArrayNode items = all.putArray("items");
    String cursor = null;
    do {
      String page =
          path
              + "?limit=500"
              + (cursor == null
                  ? ""
                  : "&cursor=" + URLEncoder.encode(cursor, StandardCharsets.UTF_8));
      JsonNode answer = keel.getJson(page);
      if (answer == null) break;
      answer.path("items").forEach(items::add);
      JsonNode next = answer.get("nextCursor");
      String nextCursor =
          next == null || next.isNull() || next.asText().isEmpty() ? null : next.asText();
      if (nextCursor != null && nextCursor.equals(cursor)) break;
      cursor = nextCursor;
    } while (cursor != null);
    return all;
  }

  static String pretty(JsonNode node) {
    try {
      return MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A path segment for an id; an id that cannot be one is refused as invalid input. */
  static String requireId(String what, String id) {
    if (id == null || !KeelClient.ID.matcher(id).matches()) {
      throw new CliFailure(
          ExitCode.NO,
          what + " '" + id + "' is not valid: it must match " + KeelClient.ID.pattern());
    }
    return id;
  }
}
