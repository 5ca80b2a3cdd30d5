package dev.keel.registry.alert;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.keel.registry.service.FieldProblem;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What an alert rule starts on each firing besides (or instead of) its webhook: the workflow {@code
 * workflow} with {@code input}, as the execution {@code <alert>:<firing>} owned by the rule's
 * tenant.
 *
 * <p><b>Substitution.</b> In {@code input}, a string that is exactly a placeholder becomes the
 * firing's value with its JSON type: {@code ${alert}}, {@code ${firing}} (a number), {@code
 * ${service}}, {@code ${status}}, {@code ${firedAt}}, {@code ${metrics}} (the metrics object) and
 * {@code ${metrics.<name>}} (a number, or null when the firing has no such metric). Within a longer
 * string, each placeholder is replaced by its text. Anything else is passed as is.
 */
public record AlertRepair(String workflow, JsonNode input) {

  /** Workflow names as the registry accepts them. */
  private static final Pattern WORKFLOW = dev.keel.persistence.grammar.Ids.PATTERN;

  private static final Pattern PLACEHOLDER = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_.]*)}");
  private static final int MAX_WORKFLOW_ID = 128;
  private static final int MAX_INPUT_CHARS = 16_384;

  public AlertRepair {
    if (input == null || input.isNull()) input = JsonNodeFactory.instance.objectNode();
  }

  /** The problems of a repair, by field ({@code repair.workflow}, {@code repair.input}). */
  static List<FieldProblem> problems(AlertRepair repair) {
    List<FieldProblem> problems = new ArrayList<>();
    if (repair.workflow() == null || !WORKFLOW.matcher(repair.workflow()).matches())
      problems.add(
          new FieldProblem("repair.workflow", "must be a workflow name (" + WORKFLOW + ")"));
    if (!repair.input().isObject())
      problems.add(new FieldProblem("repair.input", "must be a JSON object"));
    else if (repair.input().toString().length() > MAX_INPUT_CHARS)
      problems.add(
          new FieldProblem("repair.input", "must be at most " + MAX_INPUT_CHARS + " characters"));
    return problems;
  }

  /**
   * The execution id of firing {@code seq}'s repair: {@code <ruleId>:<seq>}, within the id grammar;
   * for rule ids too long for that, a hash of the rule id stands in for it.
   */
  public static String workflowId(String ruleId, long seq) {
    String id = ruleId + ":" + seq;
    if (id.length() <= MAX_WORKFLOW_ID) return id;
    try {
      byte[] hash =
          MessageDigest.getInstance("SHA-256").digest(ruleId.getBytes(StandardCharsets.UTF_8));
      return "alert-" + HexFormat.of().formatHex(hash, 0, 20) + ":" + seq;
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }

  /** The input with the firing's values put in (see the class comment). */
  JsonNode inputFor(
      String ruleId,
      long seq,
      String service,
      String status,
      Map<String, Double> metrics,
      Instant firedAt) {
    Map<String, JsonNode> values = new TreeMap<>();
    JsonNodeFactory f = JsonNodeFactory.instance;
    values.put("alert", f.textNode(ruleId));
    values.put("firing", f.numberNode(seq));
    values.put("service", f.textNode(service));
    values.put("status", f.textNode(status));
    values.put("firedAt", f.textNode(firedAt.toString()));
    ObjectNode m = f.objectNode();
    new TreeMap<>(metrics).forEach(m::put);
    values.put("metrics", m);
    metrics.forEach((name, v) -> values.put("metrics." + name, f.numberNode(v)));
    return substitute(input, values);
  }

  private static JsonNode substitute(JsonNode node, Map<String, JsonNode> values) {
    if (node.isTextual()) {
      String text = node.asText();
      Matcher whole = PLACEHOLDER.matcher(text);
      if (whole.matches()) {
        String key = whole.group(1);
        if (values.containsKey(key)) return values.get(key).deepCopy();
        return key.startsWith("metrics.") ? JsonNodeFactory.instance.nullNode() : node;
      }
      Matcher m = PLACEHOLDER.matcher(text);
      StringBuilder out = new StringBuilder();
      while (m.find()) {
        JsonNode v = values.get(m.group(1));
        m.appendReplacement(
            out,
            Matcher.quoteReplacement(
                v == null ? m.group() : v.isTextual() ? v.asText() : v.toString()));
      }
      m.appendTail(out);
      return TextNode.valueOf(out.toString());
    }
    if (node.isObject()) {
      ObjectNode copy = JsonNodeFactory.instance.objectNode();
      node.fields().forEachRemaining(e -> copy.set(e.getKey(), substitute(e.getValue(), values)));
      return copy;
    }
    if (node.isArray()) {
      var copy = JsonNodeFactory.instance.arrayNode();
      node.forEach(e -> copy.add(substitute(e, values)));
      return copy;
    }
    return node;
  }
}
