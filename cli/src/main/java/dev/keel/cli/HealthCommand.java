package dev.keel.cli;

import dev.keel.client.KeelClient;
import dev.keel.client.ServiceHealth;
import java.io.PrintWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code keel health ID}: prints the service's status; the exit code says whether it is healthy,
 * for scripts.
 */
@Command(
    name = "health",
    mixinStandardHelpOptions = true,
    description = "Print a service's status: healthy, degraded, unhealthy or stale.",
    exitCodeListHeading = "Exit codes:%n",
    exitCodeList = {
      "0:the service is healthy",
      "1:it is not healthy, or not registered",
      "2:usage error, no or refused token, Keel unreachable or not ready"
    })
public final class HealthCommand extends ClientCommand {

  @Parameters(paramLabel = "ID", description = "A service id")
  String id;

  @Override
  int run(KeelClient keel, PrintWriter out) {
    ServiceHealth health = keel.health(RawJson.requireId("service id", id));
    out.println(health.status() == null ? "unknown" : health.status().wire());
    return health.isHealthy() ? ExitCode.OK : ExitCode.NO;
  }
}
