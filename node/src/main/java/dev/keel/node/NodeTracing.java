package dev.keel.node;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import dev.keel.persistence.KeelTracing;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.AutoConfiguredOpenTelemetrySdk;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.bridge.SLF4JBridgeHandler;

/**
 * The node's traces ({@code --otel}, {@code KEEL_OTEL}): when on, an OpenTelemetry SDK configured
 * the standard way ({@code OTEL_EXPORTER_OTLP_ENDPOINT}, {@code OTEL_SERVICE_NAME}, {@code
 * OTEL_RESOURCE_ATTRIBUTES} and the other {@code OTEL_*} variables, read by the SDK's
 * autoconfiguration) that exports spans over OTLP/HTTP, installed as the actor system's {@link
 * KeelTracing}. When off, no SDK exists and every span site is a check of one boolean.
 */
final class NodeTracing implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(NodeTracing.class);

  /**
   * The SDK logs through java.util.logging; its lines go to SLF4J, in the node's log format, and
   * not to standard error. Held here: java.util.logging keeps its loggers only weakly.
   */
  private static final java.util.logging.Logger SDK_LOG =
      java.util.logging.Logger.getLogger("io.opentelemetry");

  static {
    SDK_LOG.setUseParentHandlers(false);
    SDK_LOG.addHandler(new SLF4JBridgeHandler());
  }

  private final Optional<OpenTelemetrySdk> sdk;

  private NodeTracing(Optional<OpenTelemetrySdk> sdk) {
    this.sdk = sdk;
  }

  /** From {@code keel.tracing}; a bad value stops the start naming {@code KEEL_OTEL}. */
  static NodeTracing fromConfig(Config config, NodeSettings settings) {
    Config tracing = config.getConfig("keel.tracing");
    boolean enabled;
    try {
      enabled = tracing.getBoolean("enabled");
    } catch (ConfigException e) {
      throw new ConfigProblem("KEEL_OTEL", "must be true or false");
    }
    if (!enabled) return new NodeTracing(Optional.empty());
    Map<String, String> overrides = new HashMap<>();
    for (Map.Entry<String, ConfigValue> e : tracing.getConfig("sdk-overrides").entrySet()) {
      // otel.x.y = 1 and "otel.x.y" = 1 alike: the SDK's property name.
      overrides.put(
          String.join(".", ConfigUtil.splitPath(e.getKey())),
          String.valueOf(e.getValue().unwrapped()));
    }
    try {
      OpenTelemetrySdk sdk =
          AutoConfiguredOpenTelemetrySdk.builder()
              // Defaults: the OTEL_* variables and -Dotel.* properties win over these.
              .addPropertiesSupplier(() -> defaults(settings))
              // keel.tracing.sdk-overrides win over everything (tests point the exporter here).
              .addPropertiesCustomizer(properties -> overrides)
              .disableShutdownHook()
              .build()
              .getOpenTelemetrySdk();
      return new NodeTracing(Optional.of(sdk));
    } catch (RuntimeException e) {
      // The SDK names the OTEL_* setting it could not use.
      throw new ConfigProblem("KEEL_OTEL", "cannot configure OpenTelemetry: " + e.getMessage());
    }
  }

  /**
   * Keel exports traces only, over OTLP/HTTP with protobuf (the one protocol it ships a sender
   * for), as service {@code keel} unless told otherwise.
   */
  private static Map<String, String> defaults(NodeSettings settings) {
    Map<String, String> defaults = new HashMap<>();
    defaults.put("otel.service.name", "keel");
    defaults.put("otel.traces.exporter", "otlp");
    defaults.put("otel.metrics.exporter", "none");
    defaults.put("otel.logs.exporter", "none");
    defaults.put("otel.exporter.otlp.protocol", "http/protobuf");
    if (!settings.instanceId().isEmpty())
      defaults.put("otel.resource.attributes", "service.instance.id=" + settings.instanceId());
    return defaults;
  }

  /**
   * Installs the SDK as {@code system}'s tracer, before entities and routes start; it is flushed
   * and shut down as the system ends.
   */
  void install(ActorSystem<?> system) {
    if (sdk.isEmpty()) return;
    KeelTracing.get(system).install(sdk.get());
    CoordinatedShutdown.get(Adapter.toClassic(system))
        .addTask(
            CoordinatedShutdown.PhaseActorSystemTerminate(),
            "close-tracing",
            () -> {
              close();
              return CompletableFuture.completedFuture(Done.getInstance());
            });
    log.info("traces on: spans are exported over OTLP");
  }

  /** Exports what is buffered, then stops the SDK; nothing when traces are off. */
  @Override
  public void close() {
    sdk.ifPresent(s -> s.shutdown().join(10, TimeUnit.SECONDS));
  }
}
