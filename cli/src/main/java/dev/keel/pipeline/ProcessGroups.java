package dev.keel.pipeline;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Linux process groups: whether any live member is left (from {@code /proc}, zombies not counted:
 * they hold no resources and wait only for their parent to read their status), and signals to a
 * whole group through {@code kill(1)}.
 */
final class ProcessGroups {

  private static final Path PROC = Path.of("/proc");

  private ProcessGroups() {}

  /** Pids of the live members of group {@code pgid}. */
  static List<Long> members(long pgid) {
    List<Long> pids = new ArrayList<>();
    try (DirectoryStream<Path> dirs =
        Files.newDirectoryStream(PROC, p -> p.getFileName().toString().matches("\\d+"))) {
      for (Path dir : dirs) {
        String stat;
        try {
          stat = Files.readString(dir.resolve("stat"));
        } catch (IOException goneMeanwhile) {
          continue;
        }
        // pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses, so split after the
        // last ')'.
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        if (fields.length > 2
            && !fields[0].equals("Z")
            && !fields[0].equals("X")
            && Long.parseLong(fields[2]) == pgid) {
          pids.add(Long.parseLong(dir.getFileName().toString()));
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot read /proc: " + e.getMessage(), e);
    }
    return pids;
  }

  static boolean alive(long pgid) {
    return !members(pgid).isEmpty();
  }

  static void signal(long pgid, String signal) {
    try {
      Process kill =
          new ProcessBuilder("kill", "-" + signal, "--", "-" + pgid)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      kill.waitFor(5, TimeUnit.SECONDS);
    } catch (IOException e) {
      throw new IllegalStateException("cannot run kill: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Waits until the group has no live member; answers false when {@code within} ran out first. */
  static boolean awaitGone(long pgid, Duration within) {
    Instant deadline = Instant.now().plus(within);
    while (alive(pgid)) {
      if (Instant.now().isAfter(deadline)) return false;
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return !alive(pgid);
      }
    }
    return true;
  }
}
