package dev.keel.cli;

import dev.keel.client.Alert;
import dev.keel.client.AlertRule;
import dev.keel.client.KeelClient;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code keel alert create|list|delete}: alert rules that call a webhook when a service enters a
 * condition.
 */
@Command(
    name = "alert",
    mixinStandardHelpOptions = true,
    description = "Alert rules: call a webhook when a service enters a condition.",
    subcommands = {
      AlertCommand.Create.class,
      AlertCommand.ListRules.class,
      AlertCommand.Delete.class
    })
public final class AlertCommand implements Runnable {

  @Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(
        spec.commandLine(), "a subcommand is required: create, list or delete");
  }

  /** {@code keel alert create ID --service S --condition C --webhook URL [--cooldown SECONDS]}. */
  @Command(
      name = "create",
      mixinStandardHelpOptions = true,
      description = {
        "Create or replace an alert rule.",
        "Conditions compare status or metrics.<name> with ==, !=, <, <=, >, >= to a word or a"
            + " number,",
        "such as 'status != healthy' or 'metrics.lag_seconds > 30'."
      },
      exitCodeListHeading = "Exit codes:%n",
      exitCodeList = {
        "0:done",
        "1:Keel answered no: invalid input (each bad field is listed), conflict",
        "2:usage error, no or refused token, Keel unreachable or not ready"
      })
  public static final class Create extends ClientCommand {
    @Parameters(paramLabel = "ID", description = "The rule's id")
    String id;

    @Option(
        names = "--service",
        required = true,
        paramLabel = "S",
        description = "A service id, or * for every service")
    String service;

    @Option(
        names = "--condition",
        required = true,
        paramLabel = "C",
        description = "When to fire, such as 'status != healthy'")
    String condition;

    @Option(
        names = "--webhook",
        required = true,
        paramLabel = "URL",
        description = "http(s) URL that gets a POST per firing")
    String webhook;

    @Option(
        names = "--cooldown",
        paramLabel = "SECONDS",
        description =
            "Least time between two firings for one service (Keel's default when left out)")
    Integer cooldown;

    @Override
    int run(KeelClient keel, PrintWriter out) {
      Alert saved =
          keel.putAlert(
              RawJson.requireId("alert id", id),
              new AlertRule(service, condition, webhook, cooldown));
      out.println(
          "alert "
              + saved.id()
              + " saved: when "
              + saved.service()
              + " has "
              + saved.condition()
              + ", POST "
              + saved.webhook()
              + (saved.cooldownSeconds() == null
                  ? ""
                  : " (cooldown " + saved.cooldownSeconds() + "s)"));
      return ExitCode.OK;
    }
  }

  /** {@code keel alert list [--json]}. */
  @Command(
      name = "list",
      mixinStandardHelpOptions = true,
      description =
          "Every alert rule as a table (ID, SERVICE, CONDITION, WEBHOOK, COOLDOWN, LAST FIRED).",
      exitCodeListHeading = "Exit codes:%n",
      exitCodeList = {
        "0:done",
        "1:Keel answered no",
        "2:usage error, no or refused token, Keel unreachable or not ready"
      })
  public static final class ListRules extends ClientCommand {
    @Option(names = "--json", description = "Print Keel's JSON instead")
    boolean json;

    @Override
    int run(KeelClient keel, PrintWriter out) {
      if (json) out.println(RawJson.pretty(RawJson.allPages(keel, "/api/v1/alerts")));
      else out.print(table(keel.listAlerts(), clock.instant()));
      return ExitCode.OK;
    }

    static String table(List<Alert> alerts, Instant now) {
      TextTable t =
          new TextTable("ID", "SERVICE", "CONDITION", "WEBHOOK", "COOLDOWN", "LAST FIRED");
      alerts.stream()
          .sorted(Comparator.comparing(Alert::id))
          .forEach(
              a -> {
                Instant last =
                    a.lastFiredAt() != null
                        ? a.lastFiredAt()
                        : a.firings().stream()
                            .map(Alert.Firing::firedAt)
                            .filter(java.util.Objects::nonNull)
                            .max(Comparator.naturalOrder())
                            .orElse(null);
                t.row(
                    a.id(),
                    a.service(),
                    a.condition(),
                    a.webhook(),
                    a.cooldownSeconds() == null ? "-" : a.cooldownSeconds() + "s",
                    HumanTime.ago(last, now));
              });
      return t.toString();
    }
  }

  /** {@code keel alert delete ID}. */
  @Command(
      name = "delete",
      mixinStandardHelpOptions = true,
      description = "Delete an alert rule.",
      exitCodeListHeading = "Exit codes:%n",
      exitCodeList = {
        "0:done",
        "1:Keel answered no: unknown id",
        "2:usage error, no or refused token, Keel unreachable or not ready"
      })
  public static final class Delete extends ClientCommand {
    @Parameters(paramLabel = "ID", description = "The rule's id")
    String id;

    @Override
    int run(KeelClient keel, PrintWriter out) {
      keel.deleteAlert(RawJson.requireId("alert id", id));
      out.println("alert " + id + " deleted");
      return ExitCode.OK;
    }
  }
}
