package dev.keel.cli;

import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;

/**
 * A client command given bad arguments: one line, {@code keel: <what> (see keel <command> --help)},
 * exit code 2, with any token from the arguments or {@code KEEL_TOKEN} blanked.
 */
public final class UsageError {

  private UsageError() {}

  /** A command outside this package whose usage errors are reported here too ({@code keel run}). */
  public interface Reported {}

  /**
   * Whether {@code command} is one of the client commands (or their groups), whose usage errors
   * this reports.
   */
  public static boolean concerns(CommandLine command) {
    Object c = command.getCommand();
    return c instanceof ClientCommand
        || c instanceof AlertCommand
        || c instanceof ServicesCommand
        || c instanceof Reported;
  }

  /** Prints the line on the command's stderr; answers the exit code. */
  public static int report(ParameterException ex, String[] args) {
    CommandLine command = ex.getCommandLine();
    String line =
        "keel: "
            + ex.getMessage()
            + " (see "
            + command.getCommandSpec().qualifiedName()
            + " --help)";
    for (String secret : secrets(args, System.getenv("KEEL_TOKEN")))
      line = line.replace(secret, "***");
    command.getErr().println(line.replaceAll("[\\r\\n]+", " "));
    command.getErr().flush();
    return ExitCode.TROUBLE;
  }

  /** Values given to {@code --token} (as the next argument or after '='), and the variable's. */
  static List<String> secrets(String[] args, String fromEnvironment) {
    List<String> secrets = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--token") && i + 1 < args.length) secrets.add(args[i + 1]);
      else if (args[i].startsWith("--token=")) secrets.add(args[i].substring("--token=".length()));
    }
    if (fromEnvironment != null) secrets.add(fromEnvironment);
    secrets.removeIf(s -> s.isBlank());
    return secrets;
  }
}
