package dev.keel.pipeline;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

/**
 * One running component: its command in a process group of its own, its output appended to its log
 * file and handed, line by line, to the console.
 *
 * <p>How no process outlives {@code keel run}, even when it is killed with SIGKILL: the command is
 * started as {@code setsid sh -c WRAPPER keel-component COMMAND...}. {@code setsid} makes the
 * wrapper the leader of a new session and process group (its pid is the group id), and the command
 * runs in that group. The wrapper's stdin is a pipe whose write end only this JVM holds and never
 * writes to or closes while the component may run. A watchdog in the group blocks reading that
 * pipe: it can only see end-of-file when the JVM is gone, and then it kills the whole group ({@code
 * kill -KILL 0}). The kernel closes the pipe for any kind of JVM death, so this needs no polling
 * and no help from the dying JVM. A normal stop sends SIGTERM to the group (the wrapper waits for
 * the command, the watchdog just dies), and SIGKILL to the group after the grace period.
 *
 * <p>The command runs as an asynchronous list of a non-interactive shell, so it starts with SIGINT
 * ignored and stdin from /dev/null; keel run stops components with SIGTERM, which is unaffected.
 */
final class ComponentProcess {

  /** Lines of output kept in memory for the message that names a failed component. */
  static final int TAIL_LINES = 20;

  private static final String WRAPPER =
      String.join(
          "\n",
          "exec 3<&0 </dev/null",
          "trap 'stopping=1' TERM INT HUP",
          "\"$@\" 3<&- &",
          "child=$!",
          "{ while read -r _; do :; done; kill -KILL 0; } <&3 3<&- &",
          "watchdog=$!",
          // From here on the wrapper's own notices ("Terminated" for a command ended by a signal)
          // are noise.
          "exec 3<&- 2>/dev/null",
          // wait returns early when a trapped signal arrives: wait again until the command has
          // ended.
          "while :; do wait \"$child\"; code=$?; kill -0 \"$child\" 2>/dev/null || break; done",
          "kill \"$watchdog\" 2>/dev/null",
          "exit \"$code\"");

  private final String id;
  private final Process process;

  /** Held open for the component's whole life: closing it (or the JVM dying) kills the group. */
  private final OutputStream lifeline;

  private final Instant startedAt;
  private final Deque<String> tail = new ArrayDeque<>();
  private final Thread pump;
  private volatile boolean released;

  private ComponentProcess(
      String id,
      Process process,
      Instant startedAt,
      Path logFile,
      BiConsumer<String, String> console)
      throws IOException {
    this.id = id;
    this.process = process;
    this.lifeline = process.getOutputStream();
    this.startedAt = startedAt;
    BufferedWriter log =
        Files.newBufferedWriter(
            logFile, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    log.write(
        "---- keel run: " + id + " started at " + startedAt + " (pid " + process.pid() + ")\n");
    log.flush();
    this.pump = new Thread(() -> pump(log, console), "keel-run-output-" + id);
    pump.setDaemon(true);
    pump.start();
  }

  /**
   * Starts {@code command} in {@code workDir} with {@code env} added to this JVM's environment;
   * output goes to {@code logFile} (appended) and to {@code console} as (id, line).
   */
  static ComponentProcess start(
      String id,
      List<String> command,
      Path workDir,
      Map<String, String> env,
      Path logFile,
      BiConsumer<String, String> console)
      throws IOException {
    List<String> argv =
        new ArrayList<>(List.of("setsid", "/bin/sh", "-c", WRAPPER, "keel-component"));
    argv.addAll(command);
    ProcessBuilder pb =
        new ProcessBuilder(argv).directory(workDir.toFile()).redirectErrorStream(true);
    // The run's own KEEL_* settings (database, admin token…) are not the components' business.
    pb.environment().keySet().removeIf(k -> k.startsWith("KEEL_"));
    pb.environment().putAll(env);
    Files.createDirectories(logFile.toAbsolutePath().getParent());
    return new ComponentProcess(id, pb.start(), Instant.now(), logFile, console);
  }

  private void pump(BufferedWriter log, BiConsumer<String, String> console) {
    try (log;
        BufferedReader out =
            new BufferedReader(
                new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = out.readLine()) != null) {
        log.write(line);
        log.write('\n');
        log.flush();
        synchronized (tail) {
          if (tail.size() == TAIL_LINES) tail.removeFirst();
          tail.addLast(line);
        }
        console.accept(id, line);
      }
    } catch (IOException e) {
      // The pipe closed under us: the process is gone, and so is its output.
    }
  }

  String id() {
    return id;
  }

  /** The wrapper's pid, which is also the id of the component's process group. */
  long pgid() {
    return process.pid();
  }

  Instant startedAt() {
    return startedAt;
  }

  boolean exited() {
    return !process.isAlive();
  }

  /** The exit code; only once {@link #exited()}. */
  int exitCode() {
    return process.exitValue();
  }

  /**
   * The last lines of output (at most {@link #TAIL_LINES}), waiting briefly for output still in the
   * pipe.
   */
  List<String> tail() {
    try {
      pump.join(500);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    synchronized (tail) {
      return List.copyOf(tail);
    }
  }

  /**
   * SIGTERM to the whole group, SIGKILL after {@code grace} if anything of it is left; answers
   * whether the group was gone within the grace period.
   */
  boolean stop(Duration grace) {
    boolean clean = true;
    if (ProcessGroups.alive(pgid())) {
      ProcessGroups.signal(pgid(), "TERM");
      clean = ProcessGroups.awaitGone(pgid(), grace);
      if (!clean) {
        ProcessGroups.signal(pgid(), "KILL");
        ProcessGroups.awaitGone(pgid(), Duration.ofSeconds(5));
      }
    }
    release();
    return clean;
  }

  /** SIGKILL to the group without waiting: the last resort when the JVM exits. */
  void kill() {
    // Once released, the group id may be reused by processes that are none of ours.
    if (!released && ProcessGroups.alive(pgid())) ProcessGroups.signal(pgid(), "KILL");
  }

  /** After the group has ended: waits for the wrapper and closes the lifeline. */
  void release() {
    released = true;
    try {
      process.waitFor(5, TimeUnit.SECONDS);
      lifeline.close();
    } catch (IOException e) {
      // Nothing reads it any more.
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
