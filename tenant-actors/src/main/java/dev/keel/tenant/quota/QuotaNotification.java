package dev.keel.tenant.quota;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/**
 * The one summary {@code quota-check} posts: a Slack-compatible payload ({@code text} for
 * notifications and clients without blocks, {@code blocks} for the message), which any other
 * webhook receiver can read as plain JSON too.
 */
final class QuotaNotification {

  /** Slack takes at most 50 blocks a message; the rest is counted in one line. */
  static final int MAX_TENANT_BLOCKS = 40;

  private static final ObjectMapper JSON = new ObjectMapper();

  private QuotaNotification() {}

  static ObjectNode payload(
      String period, int checked, List<TenantUsage> reached, int failures, String workflowId) {
    String summary =
        reached.size()
            + " of "
            + checked
            + (checked == 1 ? " tenant is" : " tenants are")
            + " at or over a plan limit";
    ObjectNode payload = JSON.createObjectNode();
    payload.put("text", "Keel quota check " + period + ": " + summary);
    ArrayNode blocks = payload.putArray("blocks");
    ObjectNode header = blocks.addObject().put("type", "header");
    header.putObject("text").put("type", "plain_text").put("text", "Keel quota check " + period);
    section(
        blocks,
        summary
            + " (workflow starts counted in "
            + period
            + "; services and domains as of the check).");
    for (TenantUsage t : reached.subList(0, Math.min(reached.size(), MAX_TENANT_BLOCKS))) {
      StringBuilder text =
          new StringBuilder("*")
              .append(escape(t.slug()))
              .append("* (plan ")
              .append(escape(t.plan()))
              .append(", `")
              .append(escape(t.tenantId()))
              .append("`)");
      for (QuotaUsage q : t.reached()) {
        text.append("\n• ")
            .append(q.quota())
            .append(": ")
            .append(q.used())
            .append(" of ")
            .append(q.limit())
            .append(q.used() > q.limit() ? " (over)" : " (at limit)");
      }
      section(blocks, text.toString());
    }
    if (reached.size() > MAX_TENANT_BLOCKS) {
      section(
          blocks,
          "…and " + (reached.size() - MAX_TENANT_BLOCKS) + " more: see the workflow's output.");
    }
    String context = "workflow `" + escape(workflowId) + "`";
    if (failures > 0)
      context +=
          " · " + failures + (failures == 1 ? " tenant" : " tenants") + " could not be checked";
    blocks
        .addObject()
        .put("type", "context")
        .putArray("elements")
        .addObject()
        .put("type", "mrkdwn")
        .put("text", context);
    return payload;
  }

  private static void section(ArrayNode blocks, String mrkdwn) {
    blocks
        .addObject()
        .put("type", "section")
        .putObject("text")
        .put("type", "mrkdwn")
        .put("text", mrkdwn);
  }

  /** Slack's three control characters in mrkdwn text. */
  private static String escape(String text) {
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }
}
