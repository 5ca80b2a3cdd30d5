package dev.keel.http;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads the fields of a JSON request body, adding what is wrong to a list so that a route answers
 * one 400 naming every bad field (API.md, Conventions) instead of stopping at the first.
 */
public final class BodyFields {

  private final JsonNode body;
  private final List<ApiProblem.FieldError> errors;

  /**
   * @throws ApiProblem 400 when {@code body} is not a JSON object
   */
  public BodyFields(JsonNode body, Set<String> known, List<ApiProblem.FieldError> errors) {
    if (body == null || !body.isObject())
      throw ApiProblem.badRequest("body", "must be a JSON object");
    this.body = body;
    this.errors = errors;
    for (Iterator<String> it = body.fieldNames(); it.hasNext(); ) {
      String field = it.next();
      if (!known.contains(field))
        errors.add(new ApiProblem.FieldError(field, "is not a known field"));
    }
  }

  private JsonNode present(String field, boolean required) {
    JsonNode node = body.get(field);
    if (node == null || node.isNull()) {
      if (required) errors.add(new ApiProblem.FieldError(field, "is required"));
      return null;
    }
    return node;
  }

  /** A string field; null when absent (an error too when {@code required}) or not a string. */
  public String text(String field, boolean required) {
    JsonNode node = present(field, required);
    if (node == null) return null;
    if (!node.isTextual()) {
      errors.add(new ApiProblem.FieldError(field, "must be a string"));
      return null;
    }
    return node.asText();
  }

  /** A whole-number field; {@code fallback} when absent or wrong. */
  public Integer integer(String field, Integer fallback) {
    JsonNode node = present(field, false);
    if (node == null) return fallback;
    if (!node.isIntegralNumber() || !node.canConvertToInt()) {
      errors.add(new ApiProblem.FieldError(field, "must be a whole number"));
      return fallback;
    }
    return node.intValue();
  }

  /** A boolean field; {@code fallback} when absent or wrong. */
  public boolean bool(String field, boolean fallback) {
    JsonNode node = present(field, false);
    if (node == null) return fallback;
    if (!node.isBoolean()) {
      errors.add(new ApiProblem.FieldError(field, "must be true or false"));
      return fallback;
    }
    return node.booleanValue();
  }

  /**
   * An object of strings ({@code {"k": "v"}}); empty when absent, each non-string value an error.
   */
  public Map<String, String> stringMap(String field) {
    Map<String, String> map = new LinkedHashMap<>();
    JsonNode node = present(field, false);
    if (node == null) return map;
    if (!node.isObject()) {
      errors.add(new ApiProblem.FieldError(field, "must be an object of strings"));
      return map;
    }
    node.fields()
        .forEachRemaining(
            e -> {
              if (e.getValue().isTextual()) map.put(e.getKey(), e.getValue().asText());
              else
                errors.add(new ApiProblem.FieldError(field + "." + e.getKey(), "must be a string"));
            });
    return map;
  }

  /**
   * An object of numbers ({@code {"lag": 1.5}}); empty when absent, each non-number value an error.
   */
  public Map<String, Double> numberMap(String field) {
    Map<String, Double> map = new LinkedHashMap<>();
    JsonNode node = present(field, false);
    if (node == null) return map;
    if (!node.isObject()) {
      errors.add(new ApiProblem.FieldError(field, "must be an object of numbers"));
      return map;
    }
    node.fields()
        .forEachRemaining(
            e -> {
              if (e.getValue().isNumber()) map.put(e.getKey(), e.getValue().doubleValue());
              else
                errors.add(new ApiProblem.FieldError(field + "." + e.getKey(), "must be a number"));
            });
    return map;
  }

  /** The raw node of a field, or null when absent. */
  public JsonNode node(String field) {
    return body.get(field);
  }
}
