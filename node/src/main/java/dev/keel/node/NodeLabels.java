package dev.keel.node;

import ch.qos.logback.classic.LoggerContext;
import org.slf4j.LoggerFactory;

/**
 * The node's {@code --instance-id} and {@code --region} on every log line: put into logback's
 * context as {@code keel.instance} and {@code keel.region}, which {@code logback.xml} prints in
 * both formats (the text pattern and a JSON field each) and leaves out when empty. Context
 * properties, unlike the MDC, reach every thread, Pekko's included.
 */
final class NodeLabels {

  private NodeLabels() {}

  static void apply(String instance, String region) {
    if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) return;
    // Empty rather than absent when not set: an absent one prints as "null".
    context.putProperty("keel.instance", instance);
    context.putProperty("keel.region", region);
  }
}
