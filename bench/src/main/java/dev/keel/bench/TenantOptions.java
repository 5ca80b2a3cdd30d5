package dev.keel.bench;

import java.net.URI;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The command line of {@link TenantLoad}, read once. {@code --name value} and {@code --name=value}
 * are both accepted.
 *
 * <p>{@code slugPrefix} starts every slug of the run ({@code <prefix>-w<n>} for the warm-up, {@code
 * <prefix>-m<n>} measured); by default it is new for every run, so that a second run against the
 * same node never meets the first one's slugs.
 */
public record TenantOptions(
    URI endpoint,
    String token,
    int tenants,
    int concurrency,
    int warmup,
    String plan,
    String slugPrefix,
    int maxSeconds) {

  static final String USAGE =
      """
      usage: java -cp bench/target/keel-bench.jar dev.keel.bench.TenantLoad [options]
        --endpoint URL      node to drive (default http://127.0.0.1:8080)
        --token TOKEN       the admin token (default: env KEEL_TOKEN, then KEEL_ADMIN_TOKEN,
                            then the file <data-dir>/admin-token)
        --data-dir DIR      node data directory holding admin-token (default ./data)
        --tenants N         measured tenant creations (default 500)
        --concurrency C     creations in flight at most (default 16)
        --warmup N          tenants created first and not counted (default 20)
        --plan NAME         plan of every tenant (default free)
        --slug-prefix P     first part of every slug (default: new for each run)
        --max-seconds S     overall deadline, warm-up included (default 300)
      """;

  /** Leaves room for {@code -m<n>} within a slug's 63 characters. */
  private static final Pattern PREFIX = Pattern.compile("^[a-z0-9](?:[a-z0-9]|-(?!-)){0,39}$");

  private static final Set<String> NAMES =
      Set.of(
          "endpoint",
          "token",
          "data-dir",
          "tenants",
          "concurrency",
          "warmup",
          "plan",
          "slug-prefix",
          "max-seconds");

  /**
   * Parses {@code args}; {@code env} supplies the token when {@code --token} is absent, and {@code
   * defaultPrefix} the slug prefix when {@code --slug-prefix} is.
   *
   * @throws IllegalArgumentException with a one-line reason for anything wrong
   */
  public static TenantOptions parse(String[] args, Map<String, String> env, String defaultPrefix) {
    CommandLine line = CommandLine.parse(args, NAMES);
    URI endpoint = line.endpoint();
    int tenants = line.integer("tenants", 500, 1);
    int concurrency = line.integer("concurrency", 16, 1);
    int warmup = line.integer("warmup", 20, 0);
    int maxSeconds = line.integer("max-seconds", 300, 1);
    String plan = line.text("plan", "free").trim();
    if (plan.isEmpty()) {
      throw new IllegalArgumentException("--plan must not be empty");
    }
    String prefix = line.text("slug-prefix", defaultPrefix);
    if (!PREFIX.matcher(prefix).matches() || prefix.endsWith("-")) {
      throw new IllegalArgumentException(
          "--slug-prefix must be 1 to 40 lower-case letters, digits or single hyphens, starting and"
              + " ending with a letter or digit, was "
              + prefix);
    }
    return new TenantOptions(
        endpoint, line.token(env), tenants, concurrency, warmup, plan, prefix, maxSeconds);
  }

  /** For {@code main}: the run's own slug prefix, {@code b<time in base 36>}. */
  static TenantOptions parse(String[] args, Map<String, String> env) {
    return parse(args, env, "b" + Long.toString(System.currentTimeMillis(), 36));
  }

  /** The parameters as printed; the token is never shown. */
  @Override
  public String toString() {
    return "endpoint="
        + endpoint
        + " tenants="
        + tenants
        + " concurrency="
        + concurrency
        + " warmup="
        + warmup
        + " plan="
        + plan
        + " slugPrefix="
        + slugPrefix
        + " maxSeconds="
        + maxSeconds;
  }
}
