package dev.keel.client;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * The lines the client logs through {@code System.Logger}, which goes to java.util.logging when no
 * other backend is installed (as in these tests).
 */
final class LogLines extends Handler implements AutoCloseable {

  record Line(Level level, String message) {}

  final List<Line> lines = new CopyOnWriteArrayList<>();
  private final Logger logger = Logger.getLogger("dev.keel.client");

  LogLines() {
    logger.setLevel(Level.ALL);
    logger.addHandler(this);
  }

  @Override
  public void publish(LogRecord record) {
    lines.add(new Line(record.getLevel(), record.getMessage()));
  }

  List<String> containing(String text) {
    return lines.stream().map(Line::message).filter(m -> m.contains(text)).toList();
  }

  String all() {
    StringBuilder b = new StringBuilder();
    for (Line l : lines) b.append(l.level()).append(' ').append(l.message()).append('\n');
    return b.toString();
  }

  @Override
  public void flush() {}

  @Override
  public void close() {
    logger.removeHandler(this);
  }
}
