package dev.keel.pipeline;

import java.io.PrintStream;
import java.time.Clock;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * keel run's console: component output prefixed with the component's id, messages, and the live
 * status. On a terminal the status table stays at the bottom and is redrawn in place (ANSI: cursor
 * up, clear to the end of the screen); elsewhere (a file, a pipe, a test) each change of a
 * component's status is one line, so the output reads as a log.
 */
final class RunConsole {

  private final PrintStream out;
  private final boolean terminal;
  private final Clock clock;
  private final Map<String, String> lastPrinted = new HashMap<>();
  private List<String> drawn = List.of();
  private List<ComponentStatus> lastComponents = List.of();
  private Instant lastDrawAt = Instant.EPOCH;
  private int width;

  RunConsole(PrintStream out, boolean terminal, Clock clock) {
    this.out = out;
    this.terminal = terminal;
    this.clock = clock;
  }

  /** One line of a component's output. */
  synchronized void output(String componentId, String line) {
    printAbove(pad(componentId) + " | " + line);
  }

  /** A message of keel run itself. */
  synchronized void message(String line) {
    printAbove("keel run: " + line);
  }

  synchronized void status(
      String pipeline, String pipelineStatus, List<ComponentStatus> components) {
    components.forEach(c -> width = Math.max(width, c.id().length()));
    if (terminal) {
      Instant now = clock.instant();
      // Redrawn when something changed, else once a second for the "ago" column: not at every tick.
      if (components.equals(lastComponents) && now.isBefore(lastDrawAt.plusSeconds(1))) return;
      lastComponents = List.copyOf(components);
      lastDrawAt = now;
      clearDrawn();
      drawn = StatusView.table(pipeline, pipelineStatus, components, now);
      drawn.forEach(out::println);
      out.flush();
      return;
    }
    for (ComponentStatus c : components) {
      String previous = lastPrinted.put(c.id(), c.changeKey());
      if (!Objects.equals(previous, c.changeKey())) out.println(StatusView.changeLine(c));
    }
    out.flush();
  }

  /** Leaves the last status on screen and stops redrawing over it. */
  synchronized void finish() {
    drawn = List.of();
    out.flush();
  }

  private void printAbove(String line) {
    List<String> table = drawn;
    clearDrawn();
    out.println(line);
    if (terminal && !table.isEmpty()) {
      table.forEach(out::println);
      drawn = table;
    }
    out.flush();
  }

  private void clearDrawn() {
    if (terminal && !drawn.isEmpty()) out.print("\u001b[" + drawn.size() + "F\u001b[J");
    drawn = List.of();
  }

  private String pad(String id) {
    width = Math.max(width, id.length());
    return id + " ".repeat(width - id.length());
  }
}
