package dev.keel.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How the client commands find a {@code keel run} in their directory ({@link RunFile}) and which
 * token they take: the terminal flow "keel run here, keel status in another terminal".
 */
class RunFileTest {

  private static final String RUN_TOKEN = "run-admin-token-0123456789";

  @TempDir Path dir;

  private final Map<String, String> env = new HashMap<>();

  private ClientOptions options() {
    ClientOptions o = new ClientOptions();
    o.workingDir = dir;
    return o;
  }

  private Path liveRun() throws Exception {
    Path token = dir.resolve(".keel/admin-token");
    Files.createDirectories(token.getParent());
    Files.writeString(token, RUN_TOKEN + "\n");
    return new RunFile("http://127.0.0.1:19234", token, ProcessHandle.current().pid()).write(dir);
  }

  @Test
  void aRunningRunsFile_isFoundWithNoFlags_andIsOwnerOnly() throws Exception {
    Path file = liveRun();
    assertThat(Files.getPosixFilePermissions(file))
        .containsExactlyInAnyOrder(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
    assertThat(Files.readString(file))
        .as("the token itself is not in the file")
        .doesNotContain(RUN_TOKEN);
    ClientOptions.Connection c = options().resolve(env::get);
    assertThat(c.endpoint()).isEqualTo("http://127.0.0.1:19234");
    assertThat(c.token()).isEqualTo(RUN_TOKEN);
  }

  @Test
  void aFileWhoseProcessIsGone_isIgnored() throws Exception {
    Path token = dir.resolve("admin-token");
    Files.writeString(token, RUN_TOKEN);
    // A pid that no process has: the run was killed with -9 and left its file.
    long gone = Long.MAX_VALUE - 7;
    new RunFile("http://127.0.0.1:19235", token, gone).write(dir);
    assertThat(RunFile.find(dir)).isEmpty();
    env.put("KEEL_TOKEN", "explicit-token-0123456789");
    assertThat(options().resolve(env::get).endpoint()).isEqualTo(ClientOptions.DEFAULT_ENDPOINT);
  }

  @Test
  void anEndpointOrTokenGiven_winsOverTheRun() throws Exception {
    liveRun();
    env.put("KEEL_TOKEN", "explicit-token-0123456789");
    assertThat(options().resolve(env::get))
        .isEqualTo(
            new ClientOptions.Connection("http://127.0.0.1:19234", "explicit-token-0123456789"));
    env.put("KEEL_ENDPOINT", "http://127.0.0.1:19299");
    assertThat(options().resolve(env::get).endpoint()).isEqualTo("http://127.0.0.1:19299");
  }

  @Test
  void adminTokenVariable_isUsedWhenKeelTokenIsUnset() throws Exception {
    env.put("KEEL_ADMIN_TOKEN", "admin-from-env-0123456789");
    assertThat(options().resolve(env::get).token()).isEqualTo("admin-from-env-0123456789");
    env.put("KEEL_TOKEN", "tenant-key-0123456789");
    assertThat(options().resolve(env::get).token()).isEqualTo("tenant-key-0123456789");
  }

  @Test
  void noRunHere_meansTheLocalNodeDefaults() throws Exception {
    assertThat(RunFile.find(dir)).isEmpty();
    Files.createDirectories(dir.resolve("data"));
    Files.writeString(dir.resolve("data/admin-token"), "server-token-0123456789");
    env.put("KEEL_DATA_DIR", dir.resolve("data").toString());
    liveRun(); // a data dir given wins over the run
    assertThat(options().resolve(env::get))
        .isEqualTo(
            new ClientOptions.Connection(
                ClientOptions.DEFAULT_ENDPOINT, "server-token-0123456789"));
  }
}
