package dev.keel.workflow.outbound;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * {@code keel.workflows.outbound}: what tenants may reach besides public addresses, and how long a
 * connection of theirs is kept for reuse at most.
 */
public record OutboundSettings(String allow, Duration connectionLifetime) {

  public static OutboundSettings fromConfig(Config keelWorkflowsOutbound) {
    return new OutboundSettings(
        keelWorkflowsOutbound.getString("allow"),
        keelWorkflowsOutbound.getDuration("connection-lifetime"));
  }
}
