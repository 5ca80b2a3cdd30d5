package dev.keel.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real processes: a component's process group, its output, and how it is stopped. */
class ComponentProcessTest {

  @TempDir Path dir;

  private final List<String> console = new CopyOnWriteArrayList<>();

  @Test
  void theCommandRunsInAGroupOfItsOwnWithItsOutputInTheLogAndOnTheConsole() throws Exception {
    ComponentProcess p = start("sh", "-c", "echo hello $NETWORK; echo oops >&2; sleep 60 & wait");
    awaitConsole(2);

    List<Long> members = ProcessGroups.members(p.pgid());
    assertThat(members)
        .as("wrapper, command, its sleep, the watchdog")
        .contains(p.pgid())
        .hasSizeGreaterThanOrEqualTo(3);
    assertThat(ProcessHandle.current().pid()).isNotIn(members);
    assertThat(console).containsExactlyInAnyOrder("c1|hello testnet", "c1|oops");
    assertThat(Files.readString(dir.resolve("logs/c1.log"))).contains("hello testnet\n", "oops\n");

    assertThat(p.stop(Duration.ofSeconds(5))).as("ended within the grace period").isTrue();
    assertThat(ProcessGroups.members(p.pgid())).isEmpty();
    assertThat(p.tail()).containsExactlyInAnyOrder("hello testnet", "oops");
  }

  @Test
  void aCommandThatIgnoresSigtermIsKilledAfterTheGracePeriod() throws Exception {
    ComponentProcess p = start("sh", "-c", "trap '' TERM; echo up; while :; do sleep 0.1; done");
    awaitConsole(1);

    assertThat(p.stop(Duration.ofMillis(500))).as("needed SIGKILL").isFalse();
    assertThat(ProcessGroups.members(p.pgid())).isEmpty();
  }

  @Test
  void theExitCodeOfTheCommandIsTheComponents() throws Exception {
    ComponentProcess p = start("sh", "-c", "echo bye; exit 3");
    for (int i = 0; i < 100 && !p.exited(); i++) Thread.sleep(50);

    assertThat(p.exited()).isTrue();
    assertThat(p.exitCode()).isEqualTo(3);
    assertThat(p.tail()).containsExactly("bye");
  }

  @Test
  void aCommandThatDoesNotExistEndsWithTheShellsNotFound() throws Exception {
    ComponentProcess p = start("./no-such-program");
    for (int i = 0; i < 100 && !p.exited(); i++) Thread.sleep(50);

    assertThat(p.exitCode()).isEqualTo(127);
    assertThat(String.join("\n", p.tail())).contains("no-such-program");
  }

  private ComponentProcess start(String... command) throws Exception {
    return ComponentProcess.start(
        "c1",
        List.of(command),
        dir,
        Map.of("NETWORK", "testnet"),
        dir.resolve("logs/c1.log"),
        (id, line) -> console.add(id + "|" + line));
  }

  private void awaitConsole(int lines) throws InterruptedException {
    for (int i = 0; i < 200 && console.size() < lines; i++) Thread.sleep(25);
    assertThat(console).hasSizeGreaterThanOrEqualTo(lines);
  }
}
