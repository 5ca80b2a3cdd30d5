package dev.keel.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;

/**
 * A stub Keel node on loopback for the load programs' tests: {@code /ready} answers 200, every
 * other path is what the test routes.
 */
final class StubNode implements AutoCloseable {

  static final ObjectMapper JSON = new ObjectMapper();
  static final String TOKEN = "test-token";

  private final HttpServer server;

  private StubNode(HttpServer server) {
    this.server = server;
  }

  static StubNode start() throws IOException {
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.setExecutor(Executors.newCachedThreadPool());
    server.createContext("/ready", exchange -> reply(exchange, 200, "{}"));
    server.start();
    return new StubNode(server);
  }

  StubNode route(String pathPrefix, HttpHandler handler) {
    server.createContext(pathPrefix, handler);
    return this;
  }

  String endpoint() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  /** A load program's arguments: this node's endpoint and token, then {@code extra}. */
  String[] args(String... extra) {
    String[] args = new String[extra.length + 4];
    args[0] = "--endpoint";
    args[1] = endpoint();
    args[2] = "--token";
    args[3] = TOKEN;
    System.arraycopy(extra, 0, args, 4, extra.length);
    return args;
  }

  static boolean authorized(HttpExchange exchange) {
    return ("Bearer " + TOKEN).equals(exchange.getRequestHeaders().getFirst("Authorization"));
  }

  /** Answers with a JSON {@code body}, or with none when it is null. */
  static void reply(HttpExchange exchange, int status, String body) throws IOException {
    if (body == null) {
      exchange.sendResponseHeaders(status, -1);
      exchange.close();
      return;
    }
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", "application/json");
    exchange.sendResponseHeaders(status, bytes.length);
    exchange.getResponseBody().write(bytes);
    exchange.close();
  }

  @Override
  public void close() {
    server.stop(0);
  }

  /** A load program's {@code run(out, log)}. */
  interface Program {
    int run(PrintStream out, PrintStream log) throws Exception;
  }

  /** What one run of a load program printed and returned; the report is its last line. */
  record Run(int exitCode, String out, String log) {

    static Run of(Program program) throws Exception {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ByteArrayOutputStream log = new ByteArrayOutputStream();
      int exitCode =
          program.run(
              new PrintStream(out, true, StandardCharsets.UTF_8),
              new PrintStream(log, true, StandardCharsets.UTF_8));
      return new Run(
          exitCode, out.toString(StandardCharsets.UTF_8), log.toString(StandardCharsets.UTF_8));
    }

    JsonNode report() throws IOException {
      String[] lines = out.strip().split("\n");
      return JSON.readTree(lines[lines.length - 1]);
    }
  }
}
