package dev.keel.node;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.spi.FilterReply;
import org.junit.jupiter.api.Test;

/** The misleading Pekko line is dropped however Pekko passes its text; other lines pass. */
class PekkoBootstrapLineFilterTest {

  private final LoggerContext context = new LoggerContext();
  private final PekkoBootstrapLineFilter filter = new PekkoBootstrapLineFilter();

  private LoggingEvent event(String logger, String template, Object... args) {
    return new LoggingEvent("fqcn", context.getLogger(logger), Level.INFO, template, null, args);
  }

  @Test
  void dropsTheBootstrapLine_asATemplateArgumentOrPlain() {
    String line =
        "Cluster Node [pekko://keel@127.0.0.1:25520] - No seed nodes found in configuration,"
            + " relying on Cluster Bootstrap for joining";
    assertThat(filter.decide(event("org.apache.pekko.cluster.Cluster", "{}", line)))
        .isEqualTo(FilterReply.DENY);
    assertThat(filter.decide(event("org.apache.pekko.cluster.Cluster", line)))
        .isEqualTo(FilterReply.DENY);
  }

  @Test
  void letsEverythingElseThrough() {
    assertThat(filter.decide(event("org.apache.pekko.cluster.Cluster", "{}", "Starting up")))
        .isEqualTo(FilterReply.NEUTRAL);
    assertThat(
            filter.decide(
                event(
                    "dev.keel.node.ClusterFormation", "relying on Cluster Bootstrap for joining")))
        .isEqualTo(FilterReply.NEUTRAL);
  }
}
