package dev.keel.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.keel.client.KeelClient;
import dev.keel.client.WorkflowExecution;
import dev.keel.client.WorkflowFilter;
import dev.keel.client.WorkflowPage;
import dev.keel.client.WorkflowSummary;
import java.io.PrintWriter;
import java.time.Instant;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code keel workflows list|show|history|signal|cancel|retry|rerun}: executions as an operator
 * sees and repairs them, each with {@code --json} for Keel's own JSON.
 */
@Command(
    name = "workflows",
    mixinStandardHelpOptions = true,
    description = "Workflow executions: list, inspect, signal, cancel, retry, rerun.",
    subcommands = {
      WorkflowsCommand.ListExecutions.class,
      WorkflowsCommand.Show.class,
      WorkflowsCommand.History.class,
      WorkflowsCommand.Signal.class,
      WorkflowsCommand.Cancel.class,
      WorkflowsCommand.Retry.class,
      WorkflowsCommand.Rerun.class
    })
public final class WorkflowsCommand implements Runnable {

  static final String EXIT_CODES_HEADING = "Exit codes:%n";

  /** Records to JSON as Keel writes them (ISO-8601 instants). */
  private static final ObjectMapper JSON =
      JsonMapper.builder()
          .addModule(new JavaTimeModule())
          .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
          .build();

  @Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(
        spec.commandLine(),
        "a subcommand is required: list, show, history, signal, cancel, retry or rerun");
  }

  /** What every subcommand takes: whether to print Keel's JSON only. */
  abstract static class WorkflowCommand extends ClientCommand {
    @Option(names = "--json", description = "Print only Keel's JSON")
    boolean json;

    /** An execution: its JSON, or one line and its steps. */
    void print(PrintWriter out, WorkflowExecution e) {
      if (json) {
        out.println(RawJson.pretty(JSON.valueToTree(e)));
        return;
      }
      out.println(
          e.id()
              + "  "
              + e.workflow()
              + "  "
              + e.status()
              + (e.error() == null ? "" : "  error: " + e.error())
              + (e.rerunOf() == null ? "" : "  rerun of " + e.rerunOf()));
      if (!e.steps().isEmpty()) {
        TextTable t = new TextTable("STEP", "KIND", "STATUS", "ATTEMPTS", "OUTPUT");
        for (WorkflowExecution.Step s : e.steps()) {
          t.row(
              s.name(),
              s.kind(),
              s.status(),
              String.valueOf(s.attempts()),
              s.output() == null || s.output().isNull() ? "" : s.output().toString());
        }
        out.print(t);
      }
      if (e.output() != null && !e.output().isNull()) out.println("output: " + e.output());
      if (!e.reruns().isEmpty()) out.println("reruns: " + String.join(", ", e.reruns()));
    }
  }

  /** A command about one execution. */
  abstract static class OneExecution extends WorkflowCommand {
    @Parameters(index = "0", paramLabel = "ID", description = "The execution's id")
    String id;

    String id() {
      return RawJson.requireId("workflow id", id);
    }
  }

  @Command(
      name = "list",
      mixinStandardHelpOptions = true,
      description = "Executions, newest first (one page; --cursor for the next).",
      exitCodeListHeading = EXIT_CODES_HEADING,
      exitCodeList = {
        "0:done",
        "1:Keel answered no: invalid filter",
        "2:usage error, no or refused token, Keel unreachable or not ready"
      })
  public static final class ListExecutions extends WorkflowCommand {
    @Option(
        names = "--status",
        description = "running, sleeping, waiting, paused, completed," + " failed or cancelled")
    String status;

    @Option(names = "--workflow", description = "Only executions of this workflow")
    String workflow;

    @Option(names = "--tenant", description = "Only this tenant's (admin token only)")
    String tenant;

    @Option(
        names = "--from",
        converter = AuditCommand.IsoInstant.class,
        paramLabel = "INSTANT",
        description = "Created at or after this ISO-8601 instant")
    Instant from;

    @Option(
        names = "--to",
        converter = AuditCommand.IsoInstant.class,
        paramLabel = "INSTANT",
        description = "Created before this ISO-8601 instant")
    Instant to;

    @Option(names = "--limit", defaultValue = "50", description = "At most this many (1 to 500)")
    int limit;

    @Option(names = "--cursor", description = "The nextCursor of the page before")
    String cursor;

    @Override
    int run(KeelClient keel, PrintWriter out) {
      WorkflowFilter filter =
          WorkflowFilter.all()
              .withStatus(status)
              .withWorkflow(workflow)
              .withTenantId(tenant)
              .createdBetween(from, to);
      WorkflowPage page = keel.listWorkflows(filter, limit, cursor);
      if (json) {
        out.println(RawJson.pretty(JSON.valueToTree(page)));
        return ExitCode.OK;
      }
      TextTable t = new TextTable("ID", "WORKFLOW", "STATUS", "TENANT", "CREATED");
      for (WorkflowSummary w : page.items()) {
        t.row(
            w.id(),
            w.workflow(),
            w.status(),
            w.tenantId() == null ? "-" : w.tenantId(),
            String.valueOf(w.createdAt()));
      }
      out.print(t);
      if (page.nextCursor() != null) out.println("next page: --cursor " + page.nextCursor());
      return ExitCode.OK;
    }
  }

  @Command(
      name = "show",
      mixinStandardHelpOptions = true,
      description = "One execution with its steps.",
      exitCodeListHeading = EXIT_CODES_HEADING,
      exitCodeList = {
        "0:done",
        "1:Keel answered no: unknown execution",
        "2:usage error, no or refused token, Keel unreachable or not ready"
      })
  public static final class Show extends OneExecution {
    @Override
    int run(KeelClient keel, PrintWriter out) {
      print(out, keel.getWorkflow(id()));
      return ExitCode.OK;
    }
  }

  @Command(
      name = "history",
      mixinStandardHelpOptions = true,
      description = "The execution's journaled events in order (SEQ, TIME, TYPE, DATA).",
      exitCodeListHeading = EXIT_CODES_HEADING,
      exitCodeList = {
        "0:done",
        "1:Keel answered no: unknown execution",
        "2:usage error, no or refused token, Keel unreachable or not ready"
      })
  public static final class History extends OneExecution {
    @Override
    int run(KeelClient keel, PrintWriter out) {
      JsonNode events = keel.workflowHistory(id());
      if (json) out.println(RawJson.pretty(events));
      else out.print(AuditCommand.Events.table(events));
      return ExitCode.OK;
    }
  }

  @Command(
      name = "signal",
      mixinStandardHelpOptions = true,
      description = "Send a signal to an execution; kept until it waits for it.",
      exitCodeListHeading = EXIT_CODES_HEADING,
      exitCodeList = {
        "0:done",
        "1:Keel answered no: unknown or finished execution, payload not JSON",
        "2:usage error, no or refused token, Keel unreachable or not ready"
      })
  public static final class Signal extends OneExecution {
    @Parameters(index = "1", paramLabel = "NAME", description = "The signal's name")
    String name;

    @Option(names = "--payload", paramLabel = "JSON", description = "The signal's JSON body")
    String payload;

    @Override
    int run(KeelClient keel, PrintWriter out) {
      JsonNode body = null;
      if (payload != null) {
        try {
          body = JSON.readTree(payload);
        } catch (java.io.IOException e) {
          throw new CliFailure(ExitCode.NO, "--payload is not JSON: " + e.getMessage());
        }
      }
      keel.signalWorkflow(id(), RawJson.requireId("signal name", name), body);
      if (json) out.println("{\"workflowId\":\"" + id + "\",\"signal\":\"" + name + "\"}");
      else out.println("signal " + name + " sent to " + id);
      return ExitCode.OK;
    }
  }

  @Command(
      name = "cancel",
      mixinStandardHelpOptions = true,
      description = "Cancel a running execution.",
      exitCodeListHeading = EXIT_CODES_HEADING,
      exitCodeList = {
        "0:done",
        "1:Keel answered no: unknown or already finished execution",
        "2:usage error, no or refused token, Keel unreachable or not ready"
      })
  public static final class Cancel extends OneExecution {
    @Option(names = "--reason", description = "Why; becomes the execution's error")
    String reason;

    @Override
    int run(KeelClient keel, PrintWriter out) {
      print(out, keel.cancelWorkflow(id(), reason));
      return ExitCode.OK;
    }
  }

  @Command(
      name = "retry",
      mixinStandardHelpOptions = true,
      description = {
        "Run a failed or cancelled execution again from the call it ended on;",
        "completed steps keep their results and do not run again."
      },
      exitCodeListHeading = EXIT_CODES_HEADING,
      exitCodeList = {
        "0:done",
        "1:Keel answered no: unknown execution, not failed or cancelled",
        "2:usage error, no or refused token, Keel unreachable or not ready"
      })
  public static final class Retry extends OneExecution {
    @Option(names = "--reason", description = "Why, recorded in the history")
    String reason;

    @Override
    int run(KeelClient keel, PrintWriter out) {
      print(out, keel.retryWorkflow(id(), reason));
      return ExitCode.OK;
    }
  }

  @Command(
      name = "rerun",
      mixinStandardHelpOptions = true,
      description = {
        "Start a new execution from a step of this one: the steps before it copied,",
        "that step and the rest run again with the current code."
      },
      exitCodeListHeading = EXIT_CODES_HEADING,
      exitCodeList = {
        "0:done",
        "1:Keel answered no: unknown execution, a step it never reached, id in use",
        "2:usage error, no or refused token, Keel unreachable or not ready"
      })
  public static final class Rerun extends OneExecution {
    @Option(
        names = "--from-step",
        required = true,
        paramLabel = "STEP",
        description = "The first step to run again")
    String fromStep;

    @Option(names = "--id", description = "The new execution's id (default: Keel chooses)")
    String newId;

    @Override
    int run(KeelClient keel, PrintWriter out) {
      if (newId != null) RawJson.requireId("new workflow id", newId);
      print(out, keel.rerunWorkflow(id(), fromStep, newId));
      return ExitCode.OK;
    }
  }
}
