package dev.keel.cli;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Columns separated by two spaces, each as wide as its widest cell, the last one unpadded (no
 * trailing blanks): what {@code keel status} and {@code keel alert list} print.
 */
public final class TextTable {

  private final List<String[]> rows = new ArrayList<>();
  private final int columns;

  public TextTable(String... header) {
    columns = header.length;
    rows.add(header);
  }

  public TextTable row(String... cells) {
    if (cells.length != columns)
      throw new IllegalArgumentException(cells.length + " cells for " + columns + " columns");
    rows.add(
        Arrays.stream(cells)
            .map(c -> c == null || c.isEmpty() ? "-" : c.replaceAll("\\s+", " "))
            .toArray(String[]::new));
    return this;
  }

  @Override
  public String toString() {
    int[] widths = new int[columns];
    for (String[] row : rows) {
      for (int i = 0; i < columns; i++) widths[i] = Math.max(widths[i], row[i].length());
    }
    StringBuilder b = new StringBuilder();
    for (String[] row : rows) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < columns; i++) {
        line.append(row[i]);
        if (i < columns - 1) line.append(" ".repeat(widths[i] - row[i].length() + 2));
      }
      b.append(line.toString().stripTrailing()).append('\n');
    }
    return b.toString();
  }
}
