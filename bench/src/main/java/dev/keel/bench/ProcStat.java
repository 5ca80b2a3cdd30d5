package dev.keel.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * CPU time as Linux counts it in {@code /proc}, in clock ticks: the user and system time of one
 * process ({@code /proc/<pid>/stat}) and the busy and total time of the whole machine (the {@code
 * cpu} line of {@code /proc/stat}).
 *
 * <pre>{@code
 * long before = ProcStat.processTicks(ProcStat.read(Path.of("/proc/1234/stat")));
 * // ... later ...
 * double percent = ProcStat.percentOfOneCore(after - before, ProcStat.clockTicksPerSecond(), nanos);
 * }</pre>
 */
final class ProcStat {

  /** The kernel's USER_HZ on every common Linux build; asked of {@code getconf} when it answers. */
  private static final long DEFAULT_CLOCK_TICKS = 100;

  /** A machine's CPU time summed over all its cores: busy is all but idle and I/O wait. */
  record MachineTicks(long busy, long total) {}

  private ProcStat() {}

  static Path ofProcess(long pid) {
    return Path.of("/proc", Long.toString(pid), "stat");
  }

  static Path ofSelf() {
    return Path.of("/proc/self/stat");
  }

  static Path ofMachine() {
    return Path.of("/proc/stat");
  }

  static String read(Path file) throws IOException {
    return Files.readString(file, StandardCharsets.US_ASCII);
  }

  /**
   * {@code utime + stime} of a {@code /proc/<pid>/stat} line. The command name (field 2) is in
   * parentheses and may itself hold spaces and parentheses, so fields are counted from the last
   * {@code ')'}: utime and stime are fields 14 and 15.
   *
   * @throws IllegalArgumentException for text that is not such a line
   */
  static long processTicks(String stat) {
    int close = stat.lastIndexOf(')');
    if (close < 0) {
      throw new IllegalArgumentException(
          "not a /proc/<pid>/stat line: no command name in parentheses");
    }
    // After ") " come field 3 (state), 4, 5, …: utime (14) is at index 11, stime (15) at 12.
    String[] fields = stat.substring(close + 1).trim().split("\\s+");
    if (fields.length < 13) {
      throw new IllegalArgumentException(
          "not a /proc/<pid>/stat line: only " + (fields.length + 2) + " fields");
    }
    return number(fields[11], "utime") + number(fields[12], "stime");
  }

  /**
   * The first ({@code cpu}) line of {@code /proc/stat}: user nice system idle iowait irq softirq
   * steal, summed; guest time is already part of user time and is not added.
   */
  static MachineTicks machineTicks(String procStat) {
    String first = procStat.lines().findFirst().orElse("");
    String[] fields = first.trim().split("\\s+");
    if (!"cpu".equals(fields[0]) || fields.length < 5) {
      throw new IllegalArgumentException("not /proc/stat: the first line is not the cpu line");
    }
    long total = 0;
    for (int i = 1; i < Math.min(fields.length, 9); i++) {
      total += number(fields[i], "cpu field " + i);
    }
    long idle = number(fields[4], "idle") + (fields.length > 5 ? number(fields[5], "iowait") : 0);
    return new MachineTicks(total - idle, total);
  }

  /**
   * {@code ticks} of CPU time spent during {@code nanos} of wall time, as % of one core (200 = two
   * cores busy).
   */
  static double percentOfOneCore(long ticks, long ticksPerSecond, long nanos) {
    if (nanos <= 0) {
      return 0;
    }
    return 100.0 * ticks / ticksPerSecond / (nanos / 1e9);
  }

  /** USER_HZ from {@code getconf CLK_TCK}, or 100 when that does not answer. */
  static long clockTicksPerSecond() {
    try {
      Process getconf = new ProcessBuilder("getconf", "CLK_TCK").redirectErrorStream(true).start();
      String out =
          new String(getconf.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
      if (getconf.waitFor(5, TimeUnit.SECONDS) && getconf.exitValue() == 0) {
        long hz = Long.parseLong(out);
        if (hz > 0) {
          return hz;
        }
      }
    } catch (IOException | NumberFormatException e) {
      // no getconf: fall back to the usual value
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return DEFAULT_CLOCK_TICKS;
  }

  private static long number(String text, String field) {
    try {
      return Long.parseLong(text);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(field + " is not a number: " + text);
    }
  }
}
