package dev.keel.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.keel.client.KeelClient;
import java.io.PrintWriter;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code keel audit events|state TYPE/ID}: any entity's journal, and its state as of a past instant
 * rebuilt from that journal by Keel ({@code /api/v1/audit/...}, admin token).
 */
@Command(
    name = "audit",
    mixinStandardHelpOptions = true,
    description = "The journal of any entity, and its state as of a past instant.",
    subcommands = {AuditCommand.Events.class, AuditCommand.State.class})
public final class AuditCommand implements Runnable {

  private static final Pattern TYPE = Pattern.compile("^[a-z][a-z-]{0,31}$");
  private static final int PAYLOAD_WIDTH = 80;
  private static final String EXIT_CODES_HEADING = "Exit codes:%n";

  @Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(
        spec.commandLine(), "a subcommand is required: events or state");
  }

  /** {@code TYPE/ID} as the path of its audit resource. */
  static String entityPath(String typeAndId) {
    int slash = typeAndId == null ? -1 : typeAndId.indexOf('/');
    if (slash < 0) {
      throw new CliFailure(
          ExitCode.TROUBLE,
          "'" + typeAndId + "' is not TYPE/ID, such as tenant/t-123 or workflow/nightly-1");
    }
    String type = typeAndId.substring(0, slash);
    if (!TYPE.matcher(type).matches()) {
      throw new CliFailure(
          ExitCode.TROUBLE,
          "entity type '"
              + type
              + "' is not valid (workflow, schedule, service, alert, tenant, hostname)");
    }
    return "/api/v1/audit/" + type + "/" + RawJson.requireId("id", typeAndId.substring(slash + 1));
  }

  private static String query(String... namesAndValues) {
    List<String> parts = new ArrayList<>();
    for (int i = 0; i < namesAndValues.length; i += 2) {
      if (namesAndValues[i + 1] != null) {
        parts.add(
            namesAndValues[i]
                + "="
                + URLEncoder.encode(namesAndValues[i + 1], StandardCharsets.UTF_8));
      }
    }
    return parts.isEmpty() ? "" : "?" + String.join("&", parts);
  }

  /**
   * An ISO-8601 instant, with a message a person can act on (picocli's names the Java exception).
   */
  static final class IsoInstant implements CommandLine.ITypeConverter<Instant> {
    @Override
    public Instant convert(String value) {
      try {
        return Instant.parse(value);
      } catch (DateTimeParseException e) {
        throw new CommandLine.TypeConversionException(
            "'" + value + "' is not an ISO-8601 instant such as 2026-11-22T09:00:00Z");
      }
    }
  }

  private static String text(Instant instant) {
    return instant == null ? null : instant.toString();
  }

  /** What both subcommands take: the entity, and whether to print Keel's JSON only. */
  abstract static class EntityCommand extends ClientCommand {
    @Parameters(paramLabel = "TYPE/ID", description = "The entity, such as tenant/t-123")
    String entity;

    @Option(names = "--json", description = "Print only Keel's JSON")
    boolean json;
  }

  /** {@code keel audit events TYPE/ID [--from INSTANT] [--to INSTANT] [--json]}. */
  @Command(
      name = "events",
      mixinStandardHelpOptions = true,
      description = {
        "The entity's journaled events in order, as a table (SEQ, TIME, TYPE, DATA).",
        "TYPE is workflow, schedule, service, alert, tenant or hostname."
      },
      exitCodeListHeading = EXIT_CODES_HEADING,
      exitCodeList = {
        "0:done (an entity with no events prints the header only)",
        "1:Keel answered no: unknown entity type, invalid instant",
        "2:usage error, no or refused token, Keel unreachable or not ready"
      })
  public static final class Events extends EntityCommand {
    @Option(
        names = "--from",
        converter = IsoInstant.class,
        paramLabel = "INSTANT",
        description = "Only events at or after this ISO-8601 instant")
    Instant from;

    @Option(
        names = "--to",
        converter = IsoInstant.class,
        paramLabel = "INSTANT",
        description = "Only events at or before this ISO-8601 instant")
    Instant to;

    @Override
    int run(KeelClient keel, PrintWriter out) {
      JsonNode events =
          keel.getJson(entityPath(entity) + "/events" + query("from", text(from), "to", text(to)));
      if (json) out.println(RawJson.pretty(events));
      else out.print(table(events));
      return ExitCode.OK;
    }

    static String table(JsonNode events) {
      TextTable t = new TextTable("SEQ", "TIME", "TYPE", "DATA");
      for (JsonNode e : events) {
        t.row(
            e.path("seq").asText(),
            e.path("at").asText(),
            e.path("type").asText(),
            shorten(e.path("data").toString()));
      }
      return t.toString();
    }

    private static String shorten(String payload) {
      return payload.length() <= PAYLOAD_WIDTH
          ? payload
          : payload.substring(0, PAYLOAD_WIDTH - 1) + "…";
    }
  }

  /** {@code keel audit state TYPE/ID --as-of INSTANT [--json]}. */
  @Command(
      name = "state",
      mixinStandardHelpOptions = true,
      description = {
        "The entity as it was at an instant, rebuilt from its journal, in the shape of its live"
            + " resource.",
        "TYPE is workflow, schedule, service, alert, tenant or hostname."
      },
      exitCodeListHeading = EXIT_CODES_HEADING,
      exitCodeList = {
        "0:done",
        "1:Keel answered no: the entity did not exist then, unknown entity type",
        "2:usage error, no or refused token, Keel unreachable or not ready"
      })
  public static final class State extends EntityCommand {
    @Option(
        names = "--as-of",
        required = true,
        converter = IsoInstant.class,
        paramLabel = "INSTANT",
        description = "An ISO-8601 instant, such as 2026-11-22T09:00:00Z")
    Instant asOf;

    @Override
    int run(KeelClient keel, PrintWriter out) {
      JsonNode state = keel.getJson(entityPath(entity) + "/state" + query("asOf", text(asOf)));
      if (!json) out.println(entity + " as of " + asOf + ":");
      out.println(RawJson.pretty(state));
      return ExitCode.OK;
    }
  }
}
