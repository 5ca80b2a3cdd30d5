package dev.keel.registry.alert;

import static dev.keel.registry.alert.AlertRule.ANY_SERVICE;
import static dev.keel.registry.alert.AlertRule.ID;
import static dev.keel.registry.alert.AlertRule.MAX_COOLDOWN_SECONDS;

import dev.keel.persistence.grammar.Ids;
import dev.keel.persistence.grammar.Texts;
import dev.keel.registry.alert.AlertRule.AlertDefinition;
import dev.keel.registry.service.FieldProblem;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;

/**
 * What an {@link AlertDefinition} must be before a rule keeps it, and the form it is kept in:
 * routes list the problems in one 400, the rule refuses a definition that has any.
 */
public final class AlertDefinitionRules {

  private AlertDefinitionRules() {}

  /** Every problem of a definition, by field; empty when the rule may keep it. */
  public static List<FieldProblem> problems(AlertDefinition def) {
    List<FieldProblem> problems = new ArrayList<>();
    if (def == null) {
      problems.add(new FieldProblem("body", "an alert definition is required"));
      return problems;
    }
    if (def.service() == null || def.service().isEmpty()) {
      problems.add(new FieldProblem("service", "is required: a service id or " + ANY_SERVICE));
    } else if (!def.service().equals(ANY_SERVICE) && !ID.matcher(def.service()).matches()) {
      problems.add(
          new FieldProblem(
              "service", "must be a service id (" + ID.pattern() + ") or " + ANY_SERVICE));
    }
    if (def.condition() == null) {
      problems.add(new FieldProblem("condition", "is required, e.g. 'status != healthy'"));
    } else if (Texts.characterProblem(def.condition(), false).isPresent()) {
      // A NUL inside a quoted value would reach keel_alerts.condition and stop the alerts read
      // model on PostgreSQL.
      problems.add(
          new FieldProblem("condition", Texts.characterProblem(def.condition(), false).get()));
    } else {
      try {
        AlertCondition.parse(def.condition());
      } catch (InvalidConditionException e) {
        problems.add(new FieldProblem("condition", e.getMessage()));
      }
    }
    if (def.webhook() == null || def.webhook().isEmpty()) {
      if (def.repair() == null)
        problems.add(new FieldProblem("webhook", "is required unless a repair is given"));
    } else if (!WebhookDeliveryWorkflow.isWebhookUrl(def.webhook())) {
      // Never the URL itself: it may carry a token.
      problems.add(
          new FieldProblem(
              "webhook",
              "must be an absolute http or https URL with a host, at most "
                  + WebhookDeliveryWorkflow.MAX_URL_LENGTH
                  + " characters"));
    }
    if (def.cooldownSeconds() < 0 || def.cooldownSeconds() > MAX_COOLDOWN_SECONDS) {
      problems.add(
          new FieldProblem("cooldownSeconds", "must be between 0 and " + MAX_COOLDOWN_SECONDS));
    }
    if (def.tenantId() != null)
      Ids.tenantIdProblem(def.tenantId())
          .ifPresent(p -> problems.add(new FieldProblem("tenantId", p)));
    if (def.repair() != null) problems.addAll(AlertRepair.problems(def.repair()));
    return problems;
  }

  /** The problems in one line, as a rejection's detail. */
  static String describe(List<FieldProblem> problems) {
    return String.join("; ", problems.stream().map(p -> p.field() + " " + p.message()).toList());
  }

  /**
   * The definition as the rule keeps it: the condition in its canonical text. Call on a valid
   * definition.
   */
  public static AlertDefinition normalized(AlertDefinition def) {
    String canonical = AlertCondition.parse(def.condition()).toString();
    return new AlertDefinition(
        def.service(),
        canonical,
        def.webhook() == null || def.webhook().isEmpty() ? null : def.webhook(),
        def.cooldownSeconds(),
        def.tenantId(),
        def.repair());
  }

  /** Whether a rule defined as {@code def} watches {@code serviceId} of {@code tenantId}. */
  public static boolean watches(AlertDefinition def, String serviceId, String tenantId) {
    return watchesService(def, serviceId)
        && (def.tenantId() == null || def.tenantId().equals(tenantId));
  }

  /** Whether a rule defined as {@code def} watches {@code serviceId}, of whichever tenant. */
  static boolean watchesService(AlertDefinition def, String serviceId) {
    return ANY_SERVICE.equals(def.service()) || def.service().equals(serviceId);
  }

  /** A webhook URL as logs may show it: it may carry a token in its query or user info. */
  static String redacted(String webhook) {
    if (webhook == null) return "none";
    try {
      return WebhookDeliveryWorkflow.withoutSecrets(URI.create(webhook));
    } catch (IllegalArgumentException e) {
      return "(unparsable)";
    }
  }
}
