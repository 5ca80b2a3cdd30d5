package dev.keel.http;

import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.HttpCharsets;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * {@code GET /metrics} (Prometheus text format, no token, this node's meters) and {@code GET
 * /api/v1/metrics} (admin only, the aggregated JSON figures). Translation only.
 */
public final class MetricsRoutes {

  /** The Prometheus text exposition format, version 0.0.4. */
  static final ContentType.WithCharset PROMETHEUS_TEXT =
      MediaTypes.TEXT_PLAIN.toContentType(HttpCharsets.UTF_8);

  private final HttpApi api;
  private final Supplier<String> scrape;
  private final Supplier<CompletionStage<?>> figures;

  public MetricsRoutes(HttpApi api, Supplier<String> scrape, Supplier<CompletionStage<?>> figures) {
    this.api = api;
    this.scrape = scrape;
    this.figures = figures;
  }

  /** {@code /metrics}, outside {@code /api/v1}. */
  public Route prometheus() {
    return api.path(
        "metrics",
        () ->
            api.get(
                () ->
                    api.complete(
                        HttpResponse.create()
                            .withEntity(HttpEntities.create(PROMETHEUS_TEXT, scrape.get()))
                            .addHeader(
                                org.apache.pekko.http.javadsl.model.headers.RawHeader.create(
                                    "Cache-Control", "no-store")))));
  }

  /** {@code /api/v1/metrics}. */
  public Route figures(Caller caller) {
    return api.path(
        "metrics", () -> api.get(() -> api.adminOnly(caller, () -> api.answerOk(figures.get()))));
  }
}
