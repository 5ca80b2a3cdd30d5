package dev.keel.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The repository's Markdown (the READMEs and {@code docs/}) links only to files that exist, and to
 * headings or anchors that exist in them: a fresh clone has everything its documentation names.
 */
class DocLinksTest {

  private static final Pattern LINK = Pattern.compile("\\]\\(([^)\\s]+)\\)");
  private static final Pattern HEADING = Pattern.compile("^#{1,6}\\s+(.+)$", Pattern.MULTILINE);
  private static final Pattern ANCHOR = Pattern.compile("<a id=\"([^\"]+)\"");

  @Test
  void everyRelativeLinkResolves() throws IOException {
    Path root = DeployFilesTest.repositoryRoot();
    List<String> broken = new ArrayList<>();
    for (Path doc : markdown(root)) {
      String text = Files.readString(doc);
      Matcher m = LINK.matcher(text);
      while (m.find()) {
        String target = m.group(1);
        if (target.matches("^[a-z]+:.*")) continue; // http:, https:, mailto:
        int hash = target.indexOf('#');
        String file = hash < 0 ? target : target.substring(0, hash);
        Path resolved = file.isEmpty() ? doc : doc.getParent().resolve(file).normalize();
        String where = root.relativize(doc) + " -> " + target;
        if (!Files.exists(resolved)) {
          broken.add(where + ": no such file");
        } else if (hash >= 0
            && resolved.toString().endsWith(".md")
            && !anchors(resolved).contains(target.substring(hash + 1))) {
          broken.add(where + ": no such heading or anchor");
        }
      }
    }
    assertThat(broken).isEmpty();
  }

  private static List<Path> markdown(Path root) throws IOException {
    List<Path> docs = new ArrayList<>();
    try (Stream<Path> files = Files.walk(root, 3)) {
      files
          .filter(p -> p.getFileName().toString().endsWith(".md"))
          .filter(p -> !root.relativize(p).toString().contains("target"))
          .filter(p -> !root.relativize(p).startsWith("."))
          .forEach(docs::add);
    }
    return docs;
  }

  /**
   * GitHub's heading slugs (lower case, punctuation dropped, spaces to hyphens) and explicit {@code
   * <a id>}s.
   */
  private static Set<String> anchors(Path doc) throws IOException {
    String text = Files.readString(doc);
    Set<String> anchors = new HashSet<>();
    Matcher h = HEADING.matcher(text);
    while (h.find()) {
      anchors.add(
          h.group(1)
              .trim()
              .toLowerCase(Locale.ROOT)
              .replaceAll("[^\\p{L}\\p{N} _-]", "")
              .replace(' ', '-'));
    }
    Matcher a = ANCHOR.matcher(text);
    while (a.find()) anchors.add(a.group(1));
    return anchors;
  }
}
