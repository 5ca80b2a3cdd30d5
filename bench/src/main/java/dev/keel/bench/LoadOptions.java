package dev.keel.bench;

import java.net.URI;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.Set;

/**
 * The command line of {@link WorkflowLoad}, read once. {@code --name value} and {@code
 * --name=value} are both accepted.
 */
public record LoadOptions(
    java.util.List<URI> endpoints,
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
        --endpoint URL      node to drive (default http://127.0.0.1:8080); URL,URL,... for the
                            nodes of a cluster: workflow i goes to node i mod N; https://
                            uses KEEL_TLS_CA, KEEL_TLS_CERT and KEEL_TLS_KEY
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
          "endpoint",
          "token",
          "data-dir",
          "workflows",
          "concurrency",
          "rate",
          "workflow",
          "warmup",
          "max-seconds");

  /**
   * Parses {@code args}; {@code env} supplies the token when {@code --token} is absent.
   *
   * @throws IllegalArgumentException with a one-line reason for anything wrong
   */
  public static LoadOptions parse(String[] args, Map<String, String> env) {
    CommandLine line = CommandLine.parse(args, NAMES);
    java.util.List<URI> endpoints = line.endpoints();
    for (URI endpoint : endpoints) {
      if (!"http".equals(endpoint.getScheme()) && !"https".equals(endpoint.getScheme())) {
        throw new IllegalArgumentException(
            "--endpoint must be an http:// or https:// URL (https: KEEL_TLS_CA, KEEL_TLS_CERT and"
                + " KEEL_TLS_KEY), was "
                + endpoint);
      }
    }
    int workflows = line.integer("workflows", 2000, 1);
    int concurrency = line.integer("concurrency", 64, 1);
    int warmup = line.integer("warmup", 200, 0);
    int maxSeconds = line.integer("max-seconds", 300, 1);
    OptionalDouble rate = OptionalDouble.empty();
    if (line.has("rate")) {
      double r = line.number("rate");
      if (!(r > 0) || Double.isInfinite(r)) {
        throw new IllegalArgumentException(
            "--rate must be a positive number, was " + line.text("rate", ""));
      }
      rate = OptionalDouble.of(r);
    }
    String workflow = line.text("workflow", "example");
    if (workflow.isBlank()) {
      throw new IllegalArgumentException("--workflow must not be empty");
    }
    String token = line.token(env);
    return new LoadOptions(
        endpoints, token, workflows, concurrency, rate, workflow, warmup, maxSeconds);
  }

  /** The first node: the only one unless several were given. */
  public URI endpoint() {
    return endpoints.get(0);
  }

  /** The nodes as given, comma-separated. */
  public String endpointList() {
    return String.join(",", endpoints.stream().map(URI::toString).toList());
  }

  /** The parameters as printed; the token is never shown. */
  @Override
  public String toString() {
    return "endpoint="
        + endpointList()
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
