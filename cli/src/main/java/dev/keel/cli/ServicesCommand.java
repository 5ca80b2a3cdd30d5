package dev.keel.cli;

import dev.keel.client.KeelClient;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code keel services deregister ID}. */
@Command(
    name = "services",
    mixinStandardHelpOptions = true,
    description = "Manage registered services.",
    subcommands = {ServicesCommand.Deregister.class})
public final class ServicesCommand implements Runnable {

  @Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(
        spec.commandLine(), "a subcommand is required: deregister");
  }

  /** {@code keel services deregister ID}: Keel forgets the service (it may register again). */
  @Command(
      name = "deregister",
      mixinStandardHelpOptions = true,
      description = "Deregister a service: Keel forgets it until it registers again.",
      exitCodeListHeading = "Exit codes:%n",
      exitCodeList = {
        "0:done",
        "1:Keel answered no: unknown id",
        "2:usage error, no or refused token, Keel unreachable or not ready"
      })
  public static final class Deregister extends ClientCommand {
    @Parameters(paramLabel = "ID", description = "A service id")
    String id;

    @Override
    int run(KeelClient keel, PrintWriter out) {
      keel.deregister(RawJson.requireId("service id", id));
      out.println("service " + id + " deregistered");
      return ExitCode.OK;
    }
  }
}
