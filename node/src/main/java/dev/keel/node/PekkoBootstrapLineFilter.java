package dev.keel.node;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.filter.Filter;
import ch.qos.logback.core.spi.FilterReply;

/**
 * Drops Pekko Cluster's start-up line "No seed nodes found in configuration, relying on Cluster
 * Bootstrap for joining": Keel configures no seed nodes in Pekko and joins itself ({@link
 * ClusterFormation} logs how, bootstrap included), so the line misled readers of a plain node's
 * log.
 */
public final class PekkoBootstrapLineFilter extends Filter<ILoggingEvent> {
  static final String LINE = "relying on Cluster Bootstrap for joining";

  @Override
  public FilterReply decide(ILoggingEvent event) {
    // Pekko hands its text over as an argument ("{}"), so the formatted message is what to read.
    String message = event.getFormattedMessage();
    return message != null
            && message.contains(LINE)
            && event.getLoggerName().startsWith("org.apache.pekko.cluster")
        ? FilterReply.DENY
        : FilterReply.NEUTRAL;
  }
}
