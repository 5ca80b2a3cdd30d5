package dev.keel.cli;

import dev.keel.client.KeelApiException;
import dev.keel.client.KeelClient;
import dev.keel.client.KeelUnavailableException;
import java.io.PrintWriter;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.function.Function;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * A command that talks to Keel through {@link KeelClient}. It resolves the endpoint and token,
 * runs, and turns every failure into one line on stderr ({@code keel: <message>}) and an exit code
 * ({@link ExitCode}): never a stack trace, never the token.
 */
abstract class ClientCommand implements Callable<Integer> {

  private static final Duration TIMEOUT = Duration.ofSeconds(10);

  @Mixin ClientOptions connection = new ClientOptions();

  @Spec CommandSpec spec;

  /** The environment; tests replace it. */
  Function<String, String> env = System::getenv;

  Clock clock = Clock.systemUTC();

  /** The command's work; its return value is the exit code. */
  abstract int run(KeelClient keel, PrintWriter out);

  @Override
  public final Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    String token = null;
    try {
      ClientOptions.Connection c = connection.resolve(env);
      token = c.token();
      KeelClient keel;
      try {
        keel =
            KeelClient.builder()
                .endpoint(c.endpoint())
                .token(c.token())
                .serviceId(null)
                .heartbeatInterval(Duration.ofSeconds(10))
                .timeout(TIMEOUT)
                .deregisterOnClose(false)
                .build();
      } catch (IllegalArgumentException e) {
        throw new CliFailure(
            ExitCode.TROUBLE,
            e.getMessage().replaceFirst("^endpoint: ", "--endpoint/KEEL_ENDPOINT: "));
      }
      try (keel) {
        return run(keel, out);
      }
    } catch (RuntimeException e) {
      Failure f = failure(e);
      err.println("keel: " + redact(f.line(), token));
      return f.exitCode();
    } finally {
      out.flush();
      err.flush();
    }
  }

  /** One line and an exit code for anything a command may throw. */
  record Failure(int exitCode, String line) {}

  static Failure failure(RuntimeException e) {
    if (e instanceof CliFailure f) return new Failure(f.exitCode(), f.getMessage());
    if (e instanceof KeelUnavailableException u)
      return new Failure(ExitCode.TROUBLE, u.getMessage());
    if (e instanceof KeelApiException a) {
      if (a.status() == 401 || a.status() == 403) {
        return new Failure(
            ExitCode.TROUBLE,
            a.getMessage() + " (check --token, KEEL_TOKEN or <data-dir>/admin-token)");
      }
      return new Failure(a.status() >= 500 ? ExitCode.TROUBLE : ExitCode.NO, a.getMessage());
    }
    if (e instanceof IllegalArgumentException) return new Failure(ExitCode.TROUBLE, e.getMessage());
    return new Failure(
        ExitCode.TROUBLE, "unexpected " + e.getClass().getSimpleName() + ": " + e.getMessage());
  }

  static String redact(String line, String token) {
    String oneLine = line == null ? "" : line.replaceAll("[\\r\\n]+", " ");
    return token == null || token.isEmpty() ? oneLine : oneLine.replace(token, "***");
  }
}
