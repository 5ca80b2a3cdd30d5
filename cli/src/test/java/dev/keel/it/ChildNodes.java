package dev.keel.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The child node processes of one test and its temporary directory: all killed and deleted on
 * {@link #close()}, and killed by a shutdown hook should the test JVM itself be stopped, so that no
 * node is ever left behind.
 */
final class ChildNodes implements AutoCloseable {

  private final List<KeelChildProcess> children = new CopyOnWriteArrayList<>();
  private final Thread killOnExit = new Thread(this::killAll, "kill-keel-children");
  private final Path tempDir;

  ChildNodes(String tempPrefix) throws IOException {
    Runtime.getRuntime().addShutdownHook(killOnExit);
    tempDir = Files.createTempDirectory(tempPrefix);
  }

  Path tempDir() {
    return tempDir;
  }

  KeelChildProcess track(KeelChildProcess child) {
    children.add(child);
    return child;
  }

  private void killAll() {
    for (KeelChildProcess child : children) child.close();
  }

  @Override
  public void close() {
    killAll();
    try {
      Runtime.getRuntime().removeShutdownHook(killOnExit);
    } catch (IllegalStateException shuttingDown) {
      // The hook runs anyway.
    }
    KeelChildProcess.deleteQuietly(tempDir);
  }
}
