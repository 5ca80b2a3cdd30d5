package dev.keel.bench;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.BiFunction;

/**
 * The options given to one load program, by name. {@code --name value} and {@code --name=value} are
 * both accepted; an unknown name or a missing value is refused with a one-line {@link
 * IllegalArgumentException}, as is every badly typed value read.
 *
 * <pre>{@code
 * CommandLine line = CommandLine.parse(args, Set.of("endpoint", "token", "data-dir", "services"));
 * int services = line.integer("services", 1000, 1);
 * }</pre>
 */
final class CommandLine {

  private final Map<String, String> given;

  private CommandLine(Map<String, String> given) {
    this.given = given;
  }

  /** Reads {@code args}, accepting only the option {@code names} (without the dashes). */
  static CommandLine parse(String[] args, Set<String> names) {
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
      if (!names.contains(name)) {
        throw new IllegalArgumentException("unknown option --" + name);
      }
      given.put(name, value);
    }
    return new CommandLine(given);
  }

  /**
   * For a program's {@code main}: the options, or empty after printing {@code usage} for {@code
   * --help}; bad options print why and the usage to stderr and exit with status 2.
   */
  static <T> Optional<T> parseOrExit(
      String program,
      String usage,
      String[] args,
      BiFunction<String[], Map<String, String>, T> parse) {
    if (Arrays.asList(args).contains("--help") || Arrays.asList(args).contains("-h")) {
      System.out.print(usage);
      return Optional.empty();
    }
    try {
      return Optional.of(parse.apply(args, System.getenv()));
    } catch (IllegalArgumentException e) {
      System.err.println(program + ": " + e.getMessage());
      System.err.print(usage);
      System.exit(2);
      return Optional.empty();
    }
  }

  boolean has(String name) {
    return given.containsKey(name);
  }

  String text(String name, String fallback) {
    return given.getOrDefault(name, fallback);
  }

  /** A whole number of at least {@code min}, or {@code fallback} when the option is absent. */
  int integer(String name, int fallback, int min) {
    return (int) longInteger(name, fallback, min, Integer.MAX_VALUE);
  }

  /** A whole number in {@code [min, max]}, or {@code fallback} when the option is absent. */
  long longInteger(String name, long fallback, long min, long max) {
    if (!given.containsKey(name)) {
      return fallback;
    }
    long value;
    try {
      value = Long.parseLong(given.get(name).trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "--" + name + " must be a whole number, was " + given.get(name));
    }
    if (value < min) {
      throw new IllegalArgumentException(
          "--" + name + " must be at least " + min + ", was " + value);
    }
    if (value > max) {
      throw new IllegalArgumentException(
          "--" + name + " must be at most " + max + ", was " + value);
    }
    return value;
  }

  /** A number; the option must be present. */
  double number(String name) {
    String text = given.get(name);
    try {
      return Double.parseDouble(text.trim());
    } catch (NumberFormatException | NullPointerException e) {
      throw new IllegalArgumentException("--" + name + " must be a number, was " + text);
    }
  }

  /** An ISO-8601 duration such as {@code PT10S} or {@code PT0.5S}, or {@code fallback}. */
  Duration duration(String name, Duration fallback) {
    if (!given.containsKey(name)) {
      return fallback;
    }
    String text = given.get(name).trim();
    try {
      Duration value = Duration.parse(text);
      if (value.isNegative()) {
        throw new IllegalArgumentException("--" + name + " must not be negative, was " + text);
      }
      return value;
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException(
          "--" + name + " must be an ISO-8601 duration like PT10S, was " + text);
    }
  }

  /** {@code --endpoint}: an http(s) URL without query or trailing slash; default the local node. */
  URI endpoint() {
    return endpoint(given.getOrDefault("endpoint", "http://127.0.0.1:8080"));
  }

  /**
   * {@code --endpoint URL[,URL...]}: the nodes of a cluster, each as {@link #endpoint()} checks it;
   * default the local node.
   */
  java.util.List<URI> endpoints() {
    java.util.List<URI> all = new java.util.ArrayList<>();
    for (String text : given.getOrDefault("endpoint", "http://127.0.0.1:8080").split(",")) {
      if (!text.isBlank()) all.add(endpoint(text.trim()));
    }
    if (all.isEmpty()) throw new IllegalArgumentException("--endpoint names no URL");
    return java.util.List.copyOf(all);
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
          "--endpoint must be an http(s) URL without query, like http://127.0.0.1:8080, was "
              + text);
    }
    return uri;
  }

  /** {@code --data-dir}: the node's data directory (default {@code ./data}). */
  Path dataDir() {
    return Path.of(given.getOrDefault("data-dir", "./data"));
  }

  /**
   * The bearer token: {@code --token}, else the environment's {@code KEEL_TOKEN}, then {@code
   * KEEL_ADMIN_TOKEN}, else the file {@code <data-dir>/admin-token}.
   */
  String token(Map<String, String> env) {
    if (given.containsKey("token")) {
      return nonBlank(given.get("token"), "--token");
    }
    for (String variable : new String[] {"KEEL_TOKEN", "KEEL_ADMIN_TOKEN"}) {
      String value = env.get(variable);
      if (value != null && !value.isBlank()) {
        return value.trim();
      }
    }
    Path file = dataDir().resolve("admin-token");
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
}
