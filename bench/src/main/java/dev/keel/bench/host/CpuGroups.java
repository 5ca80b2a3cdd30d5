package dev.keel.bench.host;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * CPU groups of a program's own (Linux cgroup v1): each a group in the {@code cpu} hierarchy, with
 * a hard quota ({@code cpu.cfs_quota_us} per {@code cpu.cfs_period_us}), and the same group in the
 * {@code cpuacct} hierarchy, which counts the CPU time its processes spent. A process joins both
 * before it runs anything ({@link #launcher}), so every thread and child it makes is counted and
 * held to the quota, the way a machine (or a container) of that many cores would hold it.
 *
 * <p>Names carry the creating JVM's pid ({@code keel-<pid>-<name>}), so that {@link #create} first
 * removes the groups of an earlier run that died, killing what still runs in them. {@link #close}
 * moves this JVM back to the root groups should it have joined one, kills what runs in its groups
 * and removes them; a shutdown hook does the same should the JVM be stopped first.
 */
public final class CpuGroups implements AutoCloseable {

  private static final Path CPU = Path.of("/sys/fs/cgroup/cpu");
  private static final Path CPUACCT = Path.of("/sys/fs/cgroup/cpuacct");
  private static final Pattern OURS = Pattern.compile("^keel-(\\d+)-.+");

  /** The CFS period: quotas are whole microseconds of it. */
  private static final long PERIOD_MICROS = 100_000;

  private static final long SHARES = 2048;

  /** One group's counters: CPU time spent (ns) and the periods in which the quota held it back. */
  public record Usage(long cpuNanos, long periods, long throttledPeriods) {
    public Usage minus(Usage earlier) {
      return new Usage(
          cpuNanos - earlier.cpuNanos,
          periods - earlier.periods,
          throttledPeriods - earlier.throttledPeriods);
    }
  }

  private final long pid = ProcessHandle.current().pid();
  private final Map<String, Double> quotas = new LinkedHashMap<>();
  private final Thread removeOnExit = new Thread(this::remove, "remove-keel-cpu-groups");

  private CpuGroups() {}

  /** Empty when groups can be made here; else why not (not root, no cgroup v1 cpu and cpuacct). */
  public static Optional<String> unavailable() {
    if (!"root".equals(System.getProperty("user.name"))) return Optional.of("not running as root");
    if (!Files.isRegularFile(CPU.resolve("cpu.cfs_quota_us")))
      return Optional.of("no cgroup v1 cpu controller at " + CPU);
    if (!Files.isRegularFile(CPUACCT.resolve("cpuacct.usage")))
      return Optional.of("no cgroup v1 cpuacct controller at " + CPUACCT);
    return Optional.empty();
  }

  /** No groups yet, after removing those a dead run left behind. */
  public static CpuGroups create() {
    removeStale();
    CpuGroups groups = new CpuGroups();
    Runtime.getRuntime().addShutdownHook(groups.removeOnExit);
    return groups;
  }

  /** A group held to {@code cores} (0.3: 30 ms of CPU per 100 ms, over all its threads). */
  public synchronized void add(String name, double cores) throws IOException {
    if (!(cores > 0) || cores > 64)
      throw new IllegalArgumentException(
          "a group's cores must be above 0 and at most 64, was " + cores);
    Path cpu = CPU.resolve(group(name));
    Files.createDirectories(cpu);
    Files.createDirectories(CPUACCT.resolve(group(name)));
    quotas.put(name, cores);
    write(cpu.resolve("cpu.cfs_period_us"), Long.toString(PERIOD_MICROS));
    write(cpu.resolve("cpu.cfs_quota_us"), Long.toString(Math.round(cores * PERIOD_MICROS)));
    // A group competes with the machine's other tasks as one task of this weight (1,024 is one
    // plain
    // thread): two threads' worth, so that it still gets its quota beside a busy build; the quota
    // caps what it can take from the others.
    write(cpu.resolve("cpu.shares"), Long.toString(SHARES));
  }

  public double cores(String name) {
    return quotas.get(name);
  }

  /**
   * The command prefix that runs a program in {@code name}: a shell joins both groups, then {@code
   * exec}s the rest of the command, so the program and all it starts are held and counted.
   */
  public List<String> launcher(String name) {
    String join =
        "echo $$ > "
            + CPU.resolve(group(name)).resolve("cgroup.procs")
            + " && echo $$ > "
            + CPUACCT.resolve(group(name)).resolve("cgroup.procs")
            + " && exec \"$@\"";
    return List.of("/bin/sh", "-c", join, "sh");
  }

  /** Moves this whole JVM (every thread) into {@code name}, as the load program of a benchmark. */
  public void joinSelf(String name) throws IOException {
    write(CPU.resolve(group(name)).resolve("cgroup.procs"), Long.toString(pid));
    write(CPUACCT.resolve(group(name)).resolve("cgroup.procs"), Long.toString(pid));
  }

  public Usage usage(String name) throws IOException {
    long nanos =
        Long.parseLong(
            Files.readString(CPUACCT.resolve(group(name)).resolve("cpuacct.usage")).trim());
    long periods = 0;
    long throttled = 0;
    for (String line : Files.readAllLines(CPU.resolve(group(name)).resolve("cpu.stat"))) {
      String[] kv = line.trim().split("\\s+");
      if (kv.length != 2) continue;
      if (kv[0].equals("nr_periods")) periods = Long.parseLong(kv[1]);
      if (kv[0].equals("nr_throttled")) throttled = Long.parseLong(kv[1]);
    }
    return new Usage(nanos, periods, throttled);
  }

  @Override
  public void close() {
    remove();
    try {
      Runtime.getRuntime().removeShutdownHook(removeOnExit);
    } catch (IllegalStateException shuttingDown) {
      // The hook runs anyway.
    }
  }

  private synchronized void remove() {
    // Back to the root groups first: a group that still holds a task cannot be removed.
    quietly(() -> write(CPU.resolve("cgroup.procs"), Long.toString(pid)));
    quietly(() -> write(CPUACCT.resolve("cgroup.procs"), Long.toString(pid)));
    for (String name : new ArrayList<>(quotas.keySet())) removeGroup(group(name));
    quotas.clear();
  }

  private String group(String name) {
    return "keel-" + pid + "-" + name;
  }

  /**
   * Groups named after a JVM that no longer runs: what still runs in them is killed, then they go.
   */
  private static void removeStale() {
    if (!Files.isDirectory(CPU)) return;
    for (Path root : List.of(CPU, CPUACCT)) {
      try (Stream<Path> children = Files.list(root)) {
        for (Path dir : children.filter(Files::isDirectory).toList()) {
          Matcher m = OURS.matcher(dir.getFileName().toString());
          if (m.matches() && !alive(Long.parseLong(m.group(1)))) {
            System.out.println("[CpuGroups] removing " + dir + ", left by a run that died");
            removeGroup(dir.getFileName().toString());
          }
        }
      } catch (IOException e) {
        // Nothing to list: nothing left behind.
      }
    }
  }

  private static void removeGroup(String group) {
    for (Path root : List.of(CPU, CPUACCT)) {
      Path dir = root.resolve(group);
      if (!Files.isDirectory(dir)) continue;
      for (int attempt = 0; attempt < 50; attempt++) {
        List<Long> pids = pids(dir);
        if (pids.isEmpty() && dir.toFile().delete()) break;
        pids.forEach(p -> ProcessHandle.of(p).ifPresent(ProcessHandle::destroyForcibly));
        sleep(100);
      }
      if (Files.isDirectory(dir))
        System.out.println(
            "[CpuGroups] " + dir + " could not be removed: " + pids(dir) + " still in it");
    }
  }

  private static List<Long> pids(Path dir) {
    try {
      return Files.readAllLines(dir.resolve("cgroup.procs")).stream()
          .filter(l -> !l.isBlank())
          .map(l -> Long.parseLong(l.trim()))
          .toList();
    } catch (IOException | NumberFormatException e) {
      return List.of();
    }
  }

  private static boolean alive(long pid) {
    return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
  }

  private static void write(Path file, String value) throws IOException {
    Files.writeString(file, value, StandardCharsets.US_ASCII);
  }

  private interface IoAction {
    void run() throws IOException;
  }

  private static void quietly(IoAction action) {
    try {
      action.run();
    } catch (IOException e) {
      // Not in a group of ours, or already gone.
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
