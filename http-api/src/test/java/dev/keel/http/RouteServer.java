package dev.keel.http;

import com.typesafe.config.ConfigFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * A route tree on a real local server (no cluster, no database) for route tests, and a client for
 * it.
 */
final class RouteServer implements AutoCloseable {

  private final ActorTestKit testKit;
  private final ServerBinding binding;
  private final String base;
  private final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();

  private RouteServer(ActorTestKit testKit, ServerBinding binding) {
    this.testKit = testKit;
    this.binding = binding;
    this.base = "http://127.0.0.1:" + binding.localAddress().getPort();
  }

  static RouteServer bind(String name, Route route) throws Exception {
    ActorTestKit testKit =
        ActorTestKit.create(name, ConfigFactory.parseString("pekko.actor.provider = local"));
    try {
      return new RouteServer(
          testKit,
          Http.get(testKit.system())
              .newServerAt("127.0.0.1", 0)
              .bind(route)
              .toCompletableFuture()
              .get(10, TimeUnit.SECONDS));
    } catch (Exception e) {
      testKit.shutdownTestKit();
      throw e;
    }
  }

  HttpRequest.Builder request(String path) {
    return HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10));
  }

  HttpResponse<String> send(HttpRequest.Builder builder) throws Exception {
    return http.send(builder.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
  }

  HttpResponse<byte[]> sendBytes(HttpRequest.Builder builder) throws Exception {
    return http.send(builder.build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  @Override
  public void close() throws Exception {
    try {
      binding.unbind().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } finally {
      testKit.shutdownTestKit();
    }
  }
}
