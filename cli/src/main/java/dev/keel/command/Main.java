package dev.keel.command;

import dev.keel.cli.AlertCommand;
import dev.keel.cli.AuditCommand;
import dev.keel.cli.HealthCommand;
import dev.keel.cli.KeysCommand;
import dev.keel.cli.MetricsCommand;
import dev.keel.cli.ServicesCommand;
import dev.keel.cli.StatusCommand;
import dev.keel.cli.UsageError;
import dev.keel.cli.WorkflowsCommand;
import dev.keel.node.CommonPool;
import dev.keel.pipeline.RunCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code keel} command line: the list of commands and how a bad flag is reported. {@link
 * ServerCommand} starts a node, {@link RunCommand} runs a pipeline, and the client commands ({@code
 * status}, {@code health}, {@code alert}, {@code services}, {@code audit}) talk to a node over
 * HTTP.
 */
@Command(
    name = "keel",
    mixinStandardHelpOptions = true,
    version = "keel 0.1.0",
    description = "Keel: an event-sourced control plane.",
    subcommands = {
      ServerCommand.class,
      StatusCommand.class,
      HealthCommand.class,
      MetricsCommand.class,
      AlertCommand.class,
      ServicesCommand.class,
      AuditCommand.class,
      WorkflowsCommand.class,
      KeysCommand.class,
      RunCommand.class
    })
public final class Main implements Runnable {

  public static void main(String[] args) {
    CommonPool.atLeastTwoThreads();
    CommandLine cli = new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true);
    // A bad flag value is one line naming the setting, like every other configuration problem.
    cli.setParameterExceptionHandler(
        (ex, badArgs) -> {
          if (UsageError.concerns(ex.getCommandLine())
              || ex.getCommandLine().getCommand() instanceof Main) {
            return UsageError.report(ex, args);
          }
          String setting =
              ex.getArgSpec() instanceof CommandLine.Model.OptionSpec option
                  ? "KEEL_"
                      + option
                          .longestName()
                          .replaceFirst("^--", "")
                          .replace('-', '_')
                          .toUpperCase(java.util.Locale.ROOT)
                  : "arguments";
          System.err.println(
              "keel: " + setting + ": " + ex.getMessage() + " (see keel server --help)");
          return 2;
        });
    int code = cli.execute(args);
    if (code == 2) {
      // The node may already have begun a CoordinatedShutdown that would end the JVM with 0; the
      // configuration problem's exit code must win.
      System.out.flush();
      System.err.flush();
      Runtime.getRuntime().halt(2);
    }
    if (code != 0) System.exit(code);
  }

  @Override
  public void run() {
    new CommandLine(this).usage(System.out);
  }
}
