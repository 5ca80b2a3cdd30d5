package dev.keel.cli;

import dev.keel.client.KeelClient;
import dev.keel.client.ServiceSummary;
import dev.keel.client.ServiceView;
import dev.keel.client.ServiceWatch;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code keel status [ID] [--json]}: all services as a table, or one service in full. */
@Command(
    name = "status",
    mixinStandardHelpOptions = true,
    description = {
      "Show registered services.",
      "Without ID: every service as a table (ID, TYPE, STATUS, UPTIME, LAST HEARTBEAT).",
      "With ID: that service's fields, metrics and details.",
      "With --watch: one line per registry change as it happens (until interrupted)."
    },
    exitCodeListHeading = "Exit codes:%n",
    exitCodeList = {
      "0:done",
      "1:Keel answered no: unknown id, invalid input",
      "2:usage error, no or refused token, Keel unreachable or not ready"
    })
public final class StatusCommand extends ClientCommand {

  @Parameters(arity = "0..1", paramLabel = "ID", description = "A service id")
  String id;

  @Option(names = "--json", description = "Print Keel's JSON instead")
  boolean json;

  @Option(
      names = "--watch",
      description =
          "Print registry changes as they happen (registrations, status transitions,"
              + " deregistrations), of service ID only when given")
  boolean watch;

  @Option(names = "--type", description = "With --watch: only services of this type")
  String type;

  @Override
  int run(KeelClient keel, PrintWriter out) {
    if (watch) return watch(keel, out);
    if (id == null) {
      if (json) {
        out.println(RawJson.pretty(RawJson.allPages(keel, "/api/v1/services")));
      } else {
        out.print(table(keel.listServices(null, null), clock.instant()));
      }
    } else {
      RawJson.requireId("service id", id);
      if (json) {
        out.println(RawJson.pretty(keel.getJson("/api/v1/services/" + id)));
      } else {
        out.print(details(keel.getService(id), clock.instant()));
      }
    }
    return ExitCode.OK;
  }

  private int watch(KeelClient keel, PrintWriter out) {
    if (id != null) RawJson.requireId("service id", id);
    Map<String, String> filter = new java.util.HashMap<>();
    if (type != null) filter.put("type", type);
    java.util.concurrent.CountDownLatch forever = new java.util.concurrent.CountDownLatch(1);
    try (ServiceWatch w =
        keel.watchServices(
            filter,
            null,
            c -> {
              if (id != null && !id.equals(c.serviceId())) return;
              synchronized (out) {
                out.println(json ? jsonLine(c) : line(c));
                out.flush();
              }
            })) {
      forever.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return ExitCode.OK;
  }

  private static final com.fasterxml.jackson.databind.ObjectMapper LINES =
      new com.fasterxml.jackson.databind.ObjectMapper()
          .registerModule(new com.fasterxml.jackson.datatype.jsr310.JavaTimeModule())
          .disable(com.fasterxml.jackson.databind.SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);

  /** One change as one line of JSON. */
  static String jsonLine(ServiceWatch.Change c) {
    try {
      return LINES.writeValueAsString(c);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException("a change always serializes", e);
    }
  }

  /** {@code <at> <kind> <service> <from> -> <to> (<reason>)}: one change, one line. */
  static String line(ServiceWatch.Change c) {
    String what =
        switch (c.kind()) {
          case "status" -> c.previousStatus() + " -> " + c.status();
          case "deregistered" -> "gone";
          default -> c.status() == null ? "" : c.status();
        };
    return c.at()
        + "  "
        + String.format("%-12s", c.kind())
        + "  "
        + c.serviceId()
        + "  "
        + what
        + (c.reason() == null ? "" : "  (" + c.reason() + ")");
  }

  static String table(List<ServiceSummary> services, Instant now) {
    TextTable t = new TextTable("ID", "TYPE", "STATUS", "UPTIME", "LAST HEARTBEAT");
    services.stream()
        .sorted(Comparator.comparing(ServiceSummary::id))
        .forEach(
            s ->
                t.row(
                    s.id(),
                    s.type(),
                    s.status() == null ? "-" : s.status().wire(),
                    HumanTime.since(s.registeredAt(), now),
                    HumanTime.ago(s.lastHeartbeatAt(), now)));
    return t.toString();
  }

  static String details(ServiceView s, Instant now) {
    TextTable t = new TextTable("id", s.id());
    t.row("name", s.name());
    t.row("type", s.type());
    t.row("endpoint", s.endpoint());
    t.row(
        "status",
        (s.status() == null ? "-" : s.status().wire())
            + (s.statusSince() == null
                ? ""
                : " for "
                    + HumanTime.since(s.statusSince(), now)
                    + " (since "
                    + s.statusSince()
                    + ")"));
    t.row(
        "registered",
        s.registeredAt() == null
            ? "-"
            : s.registeredAt() + " (uptime " + HumanTime.since(s.registeredAt(), now) + ")");
    t.row(
        "last heartbeat",
        s.lastHeartbeatAt() == null
            ? "-"
            : HumanTime.ago(s.lastHeartbeatAt(), now) + " (" + s.lastHeartbeatAt() + ")");
    t.row(
        "stale after", s.nextHeartbeatBefore() == null ? "-" : s.nextHeartbeatBefore().toString());
    t.row("ttl", s.ttlSeconds() == null ? "-" : s.ttlSeconds() + "s");
    t.row(
        "deregister after",
        s.deregisterAfterSeconds() == null ? "-" : s.deregisterAfterSeconds() + "s stale");
    if (s.tenantId() != null) t.row("tenant", s.tenantId());
    StringBuilder b = new StringBuilder(t.toString());
    section(b, "metadata", s.metadata());
    section(
        b,
        "metrics",
        s.metrics().entrySet().stream()
            .collect(
                java.util.stream.Collectors.toMap(
                    Map.Entry::getKey,
                    e -> HumanTime.number(e.getValue()),
                    (a, x) -> a,
                    java.util.TreeMap::new)));
    section(b, "details", s.details());
    return b.toString();
  }

  private static void section(StringBuilder b, String title, Map<String, String> entries) {
    if (entries.isEmpty()) {
      b.append(title).append(": none\n");
      return;
    }
    b.append(title).append(":\n");
    int width = entries.keySet().stream().mapToInt(String::length).max().orElse(0);
    new java.util.TreeMap<>(entries)
        .forEach(
            (k, v) ->
                b.append("  ")
                    .append(k)
                    .append(" ".repeat(width - k.length() + 2))
                    .append(v == null ? "-" : v)
                    .append('\n'));
  }
}
