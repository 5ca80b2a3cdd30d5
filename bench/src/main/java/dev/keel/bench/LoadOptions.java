package dev.keel.bench;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.Set;

/**
 * The command line of {@link WorkflowLoad}, read once. {@code --name value} and
 * {@code --name=value} are both accepted.
 */
public record LoadOptions(
    URI endpoint,
    String token,
    int workflows,
    int concurrency,
    OptionalDouble rate,
    String workflow,
    int warmup,
    int maxSeconds) {

  static final String USAGE =
      """
      usage: java -cp bench/target/keel-bench.jar dev.keel.bench.WorkflowLoad [options]
        --endpoint URL      node to drive (default http://127.0.0.1:8080)
        --token TOKEN       bearer token (default: env KEEL_TOKEN, then KEEL_ADMIN_TOKEN,
                            then the file <data-dir>/admin-token)
        --data-dir DIR      node data directory holding admin-token (default ./data)
        --workflows N       measured workflows (default 2000)
        --concurrency C     workflows in flight at most (default 64)
        --rate R            target starts per second (default: as fast as C allows)
        --workflow NAME     workflow definition to start (default example)
        --warmup N          workflows run first and not counted (default 200)
        --max-seconds S     overall deadline, warm-up included (default 300)
      """;

  private static final Set<String> NAMES =
      Set.of(
          "endpoint", "token", "data-dir", "workflows", "concurrency", "rate", "workflow",
          "warmup", "max-seconds");

  /**
   * Parses {@code args}; {@code env} supplies the token when {@code --token} is absent.
   *
   * @throws IllegalArgumentException with a one-line reason for anything wrong
   */
  public static LoadOptions parse(String[] args, Map<String, String> env) {
    Map<String, String> given = new HashMap<>();
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      if (!arg.startsWith("--")) {
        throw new IllegalArgumentException("unexpected argument '" + arg + "'");
      }
      String name = arg.substring(2);
      String value;
      int eq = name.indexOf('=');
      if (eq >= 0) {
        value = name.substring(eq + 1);
        name = name.substring(0, eq);
      } else if (i + 1 < args.length) {
        value = args[++i];
      } else {
        throw new IllegalArgumentException("--" + name + " needs a value");
      }
      if (!NAMES.contains(name)) {
        throw new IllegalArgumentException("unknown option --" + name);
      }
      given.put(name, value);
    }

    URI endpoint = endpoint(given.getOrDefault("endpoint", "http://127.0.0.1:8080"));
    int workflows = positive(given, "workflows", 2000, 1);
    int concurrency = positive(given, "concurrency", 64, 1);
    int warmup = positive(given, "warmup", 200, 0);
    int maxSeconds = positive(given, "max-seconds", 300, 1);
    OptionalDouble rate = OptionalDouble.empty();
    if (given.containsKey("rate")) {
      double r = number(given.get("rate"), "rate");
      if (!(r > 0) || Double.isInfinite(r)) {
        throw new IllegalArgumentException("--rate must be a positive number, was " + given.get("rate"));
      }
      rate = OptionalDouble.of(r);
    }
    String workflow = given.getOrDefault("workflow", "example");
    if (workflow.isBlank()) {
      throw new IllegalArgumentException("--workflow must not be empty");
    }
    String token = token(given, env);
    return new LoadOptions(endpoint, token, workflows, concurrency, rate, workflow, warmup, maxSeconds);
  }

  private static URI endpoint(String text) {
    URI uri;
    try {
      uri = new URI(text.endsWith("/") ? text.substring(0, text.length() - 1) : text);
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("--endpoint is not a URL: " + text);
    }
    if (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme()))
        || uri.getHost() == null
        || uri.getRawQuery() != null
        || uri.getRawFragment() != null) {
      throw new IllegalArgumentException(
          "--endpoint must be an http(s) URL without query, like http://127.0.0.1:8080, was " + text);
    }
    return uri;
  }

  private static String token(Map<String, String> given, Map<String, String> env) {
    if (given.containsKey("token")) {
      return nonBlank(given.get("token"), "--token");
    }
    for (String variable : new String[] {"KEEL_TOKEN", "KEEL_ADMIN_TOKEN"}) {
      String value = env.get(variable);
      if (value != null && !value.isBlank()) {
        return value.trim();
      }
    }
    Path file = Path.of(given.getOrDefault("data-dir", "./data"), "admin-token");
    if (Files.isRegularFile(file)) {
      try {
        return nonBlank(Files.readString(file, StandardCharsets.UTF_8), file.toString());
      } catch (IOException e) {
        throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage());
      }
    }
    throw new IllegalArgumentException(
        "no token: pass --token, set KEEL_TOKEN, or point --data-dir at the node's data directory ("
            + file
            + " does not exist)");
  }

  private static String nonBlank(String value, String source) {
    if (value.isBlank()) {
      throw new IllegalArgumentException(source + " is empty");
    }
    return value.trim();
  }

  private static int positive(Map<String, String> given, String name, int fallback, int min) {
    if (!given.containsKey(name)) {
      return fallback;
    }
    try {
      int value = Integer.parseInt(given.get(name).trim());
      if (value < min) {
        throw new IllegalArgumentException("--" + name + " must be at least " + min + ", was " + value);
      }
      return value;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--" + name + " must be a whole number, was " + given.get(name));
    }
  }

  private static double number(String text, String name) {
    try {
      return Double.parseDouble(text.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--" + name + " must be a number, was " + text);
    }
  }

  /** The parameters as printed; the token is never shown. */
  @Override
  public String toString() {
    return "endpoint="
        + endpoint
        + " workflow="
        + workflow
        + " workflows="
        + workflows
        + " concurrency="
        + concurrency
        + " rate="
        + (rate.isPresent() ? rate.getAsDouble() + "/s" : "max")
        + " warmup="
        + warmup
        + " maxSeconds="
        + maxSeconds;
  }
}
