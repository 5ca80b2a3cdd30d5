package dev.keel.cli;

import java.io.IOException;
import java.io.Reader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import java.util.Properties;

/**
 * The file {@code keel run} leaves in its directory while it runs ({@value #NAME}), so that {@code
 * keel status}, {@code keel health} and the other client commands started there find its control
 * plane with no flags. It holds the endpoint and where the admin token is, never the token itself;
 * mode 600, removed when the run ends. A file whose process is gone (a run killed with -9) is
 * ignored.
 *
 * <pre>{@code
 * endpoint=http://127.0.0.1:8080
 * token-file=/home/me/pipeline/.keel/admin-token
 * pid=4242
 * }</pre>
 */
public record RunFile(String endpoint, Path tokenFile, long pid) {

  public static final String NAME = ".keel-run";

  /** Writes this run's file into {@code dir}, readable by its owner only; returns its path. */
  public Path write(Path dir) throws IOException {
    Path file = dir.resolve(NAME);
    Properties p = new Properties();
    p.setProperty("endpoint", endpoint);
    p.setProperty("token-file", tokenFile.toAbsolutePath().toString());
    p.setProperty("pid", Long.toString(pid));
    StringWriter text = new StringWriter();
    p.store(text, "written by keel run; removed when it ends");
    Files.deleteIfExists(file);
    try {
      Files.createFile(
          file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    } catch (UnsupportedOperationException | FileAlreadyExistsException e) {
      Files.deleteIfExists(file);
      Files.createFile(file);
    }
    Files.writeString(file, text.toString(), StandardCharsets.UTF_8);
    return file;
  }

  /** The file of a live {@code keel run} in {@code dir}, if there is one. */
  public static Optional<RunFile> find(Path dir) {
    Path file = dir.resolve(NAME);
    if (!Files.isRegularFile(file)) return Optional.empty();
    Properties p = new Properties();
    try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      p.load(r);
      String endpoint = p.getProperty("endpoint");
      String tokenFile = p.getProperty("token-file");
      long pid = Long.parseLong(p.getProperty("pid", "-1"));
      if (endpoint == null || tokenFile == null) return Optional.empty();
      boolean alive = ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
      return alive ? Optional.of(new RunFile(endpoint, Path.of(tokenFile), pid)) : Optional.empty();
    } catch (IOException | NumberFormatException e) {
      return Optional.empty();
    }
  }
}
