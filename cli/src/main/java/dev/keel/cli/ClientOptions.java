package dev.keel.cli;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.Function;
import picocli.CommandLine.Option;

/**
 * Where a client command finds Keel and its token: {@code --endpoint} / {@code KEEL_ENDPOINT}, else
 * the {@code keel run} running in this directory ({@link RunFile}), else the local node; {@code
 * --token} / {@code KEEL_TOKEN} / {@code KEEL_ADMIN_TOKEN}, else the admin token of that run, else
 * the one {@code keel server} generated into {@code <data dir>/admin-token}, the data dir being
 * {@code --data-dir} / {@code KEEL_DATA_DIR} / {@code ./data}. An option wins over its variable.
 */
public final class ClientOptions {

  static final String DEFAULT_ENDPOINT = "http://127.0.0.1:8080";

  @Option(
      names = "--endpoint",
      paramLabel = "URL",
      description = "Keel's URL (KEEL_ENDPOINT; default " + DEFAULT_ENDPOINT + ")")
  String endpoint;

  @Option(
      names = "--token",
      paramLabel = "TOKEN",
      description =
          "Bearer token (KEEL_TOKEN, better: arguments are visible to other users; "
              + "default: the admin token in <data-dir>/admin-token)")
  String token;

  @Option(
      names = "--data-dir",
      paramLabel = "DIR",
      description =
          "Data directory of the local node, for its admin token (KEEL_DATA_DIR; default ./data)")
  String dataDir;

  /** The endpoint and token to use. */
  record Connection(String endpoint, String token) {}

  /** Where a {@code keel run}'s file is looked for; tests replace it. */
  Path workingDir = Path.of("");

  Connection resolve(Function<String, String> env) {
    String url = firstSet(endpoint, env.apply("KEEL_ENDPOINT"));
    String bearer = firstSet(token, env.apply("KEEL_TOKEN"), env.apply("KEEL_ADMIN_TOKEN"));
    // A keel run here stands in for the defaults only: an endpoint or data dir given wins.
    Optional<RunFile> run =
        url == null && firstSet(dataDir, env.apply("KEEL_DATA_DIR")) == null
            ? RunFile.find(workingDir)
            : Optional.empty();
    if (run.isPresent()) {
      return new Connection(
          run.get().endpoint(), bearer != null ? bearer : read(run.get().tokenFile()));
    }
    if (bearer == null) bearer = tokenFile(env);
    return new Connection(url == null ? DEFAULT_ENDPOINT : url, bearer);
  }

  private String tokenFile(Function<String, String> env) {
    String dir = firstSet(dataDir, env.apply("KEEL_DATA_DIR"));
    return read(Path.of(dir == null ? "./data" : dir).resolve("admin-token"));
  }

  private static String read(Path file) {
    try {
      String stored = Files.readString(file).trim();
      if (stored.isEmpty())
        throw new CliFailure(ExitCode.TROUBLE, "the admin token file " + file + " is empty");
      return stored;
    } catch (NoSuchFileException e) {
      throw new CliFailure(
          ExitCode.TROUBLE,
          "no token: pass --token or set KEEL_TOKEN (there is no admin token file "
              + file
              + "; --data-dir or KEEL_DATA_DIR names the node's data directory)");
    } catch (AccessDeniedException e) {
      throw new CliFailure(
          ExitCode.TROUBLE, "cannot read the admin token file " + file + ": permission denied");
    } catch (IOException e) {
      throw new CliFailure(
          ExitCode.TROUBLE, "cannot read the admin token file " + file + ": " + e.getMessage());
    }
  }

  private static String firstSet(String... values) {
    for (String v : values) {
      if (v != null && !v.isBlank()) return v.trim();
    }
    return null;
  }
}
