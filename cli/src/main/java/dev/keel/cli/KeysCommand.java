package dev.keel.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.keel.client.ApiKey;
import dev.keel.client.KeelClient;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Comparator;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code keel keys list|create|revoke}: named API keys with a role. Without {@code --tenant} the
 * command works on the caller's own keys: a tenant key's tenant, or for the admin token the
 * cluster-wide keys (it asks {@code GET /api/v1/caller} which one it holds).
 */
@Command(
    name = "keys",
    mixinStandardHelpOptions = true,
    description = {
      "Named API keys with a role: viewer (read only), operator (also act on executions),",
      "admin (everything of its tenant). A tenant's keys, or the cluster-wide ones (admin token)."
    },
    subcommands = {KeysCommand.ListKeys.class, KeysCommand.Create.class, KeysCommand.Revoke.class})
public final class KeysCommand implements Runnable {

  @Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(
        spec.commandLine(), "a subcommand is required: list, create or revoke");
  }

  /** The {@code --tenant} option every subcommand takes. */
  abstract static class KeysSubcommand extends ClientCommand {
    @Option(
        names = "--tenant",
        paramLabel = "ID",
        description =
            "The tenant whose keys these are (default: the key's own tenant; for the admin token,"
                + " the cluster-wide keys)")
    String tenant;

    /** The tenant to work on, or null for the cluster-wide keys. */
    String tenantId(KeelClient keel) {
      if (tenant != null) return RawJson.requireId("tenant id", tenant);
      JsonNode caller = keel.getJson("/api/v1/caller");
      return caller.hasNonNull("tenantId") ? caller.get("tenantId").asText() : null;
    }

    static String owner(String tenantId) {
      return tenantId == null ? "cluster-wide" : "tenant " + tenantId;
    }
  }

  /** {@code keel keys list [--tenant ID] [--json]}. */
  @Command(
      name = "list",
      mixinStandardHelpOptions = true,
      description =
          "The keys as a table (ID, NAME, ROLE, STATUS, EXPIRES, CREATED), never secrets.",
      exitCodeListHeading = "Exit codes:%n",
      exitCodeList = {
        "0:done",
        "1:Keel answered no",
        "2:usage error, no or refused token, not allowed for this key, Keel unreachable or not"
            + " ready"
      })
  public static final class ListKeys extends KeysSubcommand {
    @Option(names = "--json", description = "Print Keel's JSON instead")
    boolean json;

    @Override
    int run(KeelClient keel, PrintWriter out) {
      String tenantId = tenantId(keel);
      List<ApiKey> keys = keel.keys().list(tenantId);
      if (json) {
        out.println(
            RawJson.pretty(
                keel.getJson(
                    tenantId == null
                        ? "/api/v1/cluster-keys"
                        : "/api/v1/tenants/" + tenantId + "/keys")));
      } else {
        out.print(table(keys, clock.instant()));
      }
      return ExitCode.OK;
    }

    static String table(List<ApiKey> keys, Instant now) {
      TextTable t = new TextTable("ID", "NAME", "ROLE", "STATUS", "EXPIRES", "CREATED");
      keys.stream()
          .sorted(
              Comparator.comparing(
                  ApiKey::createdAt, Comparator.nullsLast(Comparator.naturalOrder())))
          .forEach(
              k ->
                  t.row(
                      k.id(),
                      k.name(),
                      k.role(),
                      k.status(),
                      k.expiresAt() == null ? "never" : k.expiresAt().toString(),
                      HumanTime.ago(k.createdAt(), now)));
      return t.toString();
    }
  }

  /** {@code keel keys create NAME --role R [--expires WHEN] [--tenant ID] [--json]}. */
  @Command(
      name = "create",
      mixinStandardHelpOptions = true,
      description = {
        "Create a key. Its secret is printed once: Keel keeps only a hash of it.",
        "Cluster-wide keys (admin token, no --tenant) are viewer or operator."
      },
      exitCodeListHeading = "Exit codes:%n",
      exitCodeList = {
        "0:done",
        "1:Keel answered no: invalid input, an active key has that name, 100 keys exist",
        "2:usage error, no or refused token, not allowed for this key, Keel unreachable or not"
            + " ready"
      })
  public static final class Create extends KeysSubcommand {
    @Parameters(paramLabel = "NAME", description = "The key's name, such as dashboards")
    String name;

    @Option(
        names = "--role",
        required = true,
        paramLabel = "ROLE",
        description = "viewer, operator or admin")
    String role;

    @Option(
        names = "--expires",
        paramLabel = "WHEN",
        description =
            "When it stops working: an instant (2027-01-01T00:00:00Z) or a duration from now"
                + " (P90D, PT12H); default never")
    String expires;

    @Option(names = "--json", description = "Print Keel's JSON instead (the secret included)")
    boolean json;

    @Override
    int run(KeelClient keel, PrintWriter out) {
      Instant expiresAt = expires == null ? null : when(expires, clock.instant());
      String tenantId = tenantId(keel);
      ApiKey key = keel.keys().create(tenantId, name, role, expiresAt);
      if (json) {
        com.fasterxml.jackson.databind.node.ObjectNode tree =
            com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
        tree.put("id", key.id());
        tree.put("name", key.name());
        tree.put("role", key.role());
        tree.put("status", key.status());
        tree.put("expiresAt", key.expiresAt() == null ? null : key.expiresAt().toString());
        tree.put("createdAt", key.createdAt() == null ? null : key.createdAt().toString());
        tree.put("apiKey", key.apiKey());
        out.println(RawJson.pretty(tree));
        return ExitCode.OK;
      }
      out.println(
          "key "
              + key.id()
              + " ("
              + key.name()
              + ", "
              + key.role()
              + ", "
              + owner(tenantId)
              + (key.expiresAt() == null ? "" : ", expires " + key.expiresAt())
              + ") created. Its secret, shown this once:");
      out.println(key.apiKey());
      return ExitCode.OK;
    }

    static Instant when(String text, Instant now) {
      try {
        return text.startsWith("P") ? now.plus(Duration.parse(text)) : Instant.parse(text);
      } catch (DateTimeParseException | ArithmeticException e) {
        throw new CliFailure(
            ExitCode.TROUBLE,
            "--expires: '"
                + text
                + "' is neither an instant (2027-01-01T00:00:00Z) nor a duration (P90D, PT12H)");
      }
    }
  }

  /** {@code keel keys revoke KEY_ID [--tenant ID]}. */
  @Command(
      name = "revoke",
      mixinStandardHelpOptions = true,
      description = "Revoke a key: it is refused at once, on every node.",
      exitCodeListHeading = "Exit codes:%n",
      exitCodeList = {
        "0:done",
        "1:Keel answered no: unknown key",
        "2:usage error, no or refused token, not allowed for this key, Keel unreachable or not"
            + " ready"
      })
  public static final class Revoke extends KeysSubcommand {
    @Parameters(paramLabel = "KEY_ID", description = "The key's id (keel keys list)")
    String keyId;

    @Override
    int run(KeelClient keel, PrintWriter out) {
      String tenantId = tenantId(keel);
      keel.keys().revoke(tenantId, RawJson.requireId("key id", keyId));
      out.println("key " + keyId + " (" + owner(tenantId) + ") revoked");
      return ExitCode.OK;
    }
  }
}
