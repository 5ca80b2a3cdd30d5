package dev.keel.node;

import dev.keel.persistence.TestDatabases;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Assumptions;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * Debian's {@code chromium} driven through its {@code chromedriver}, headless, with a fresh profile
 * and the flags this machine needs (no background connections: the network is closed). Browser
 * tests skip when either is missing, unless {@code KEEL_REQUIRE_POSTGRES=1} (CI, whose {@code
 * .ci/run} installs them), where they fail.
 */
final class HeadlessChromium {

  private static final List<String> BROWSERS =
      List.of("chromium", "chromium-browser", "google-chrome");
  private static final List<String> DRIVERS = List.of("chromedriver");

  private HeadlessChromium() {}

  /**
   * Skips the calling test when no browser or driver is installed (fails under {@code
   * KEEL_REQUIRE_POSTGRES=1}).
   */
  static void assumeInstalled() {
    Optional<String> why = missing();
    if (why.isEmpty()) return;
    if (TestDatabases.postgresRequired())
      throw new AssertionError(why.get() + " (KEEL_REQUIRE_POSTGRES=1; .ci/run installs them)");
    Assumptions.abort(
        why.get()
            + " — skipping the browser test; apt-get install chromium chromium-driver to run it,"
            + " with KEEL_REQUIRE_POSTGRES=1 this fails instead");
  }

  private static Optional<String> missing() {
    if (onPath(BROWSERS).isEmpty()) return Optional.of("no chromium on PATH");
    if (onPath(DRIVERS).isEmpty()) return Optional.of("no chromedriver on PATH");
    return Optional.empty();
  }

  /** A new headless browser with an empty profile in {@code profileDir}. */
  static ChromeDriver start(Path profileDir) throws IOException {
    Path browser = onPath(BROWSERS).orElseThrow();
    Path driver = onPath(DRIVERS).orElseThrow();
    ChromeOptions options = new ChromeOptions();
    options.setBinary(browser.toFile());
    options.addArguments(
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
        "--user-data-dir=" + Files.createDirectories(profileDir).toAbsolutePath());
    ChromeDriverService service =
        new ChromeDriverService.Builder()
            .usingDriverExecutable(driver.toFile())
            .usingAnyFreePort()
            .withTimeout(Duration.ofSeconds(30))
            .build();
    return new ChromeDriver(service, options);
  }

  private static Optional<Path> onPath(List<String> names) {
    String path = System.getenv().getOrDefault("PATH", "/usr/bin:/bin");
    for (String name : names) {
      for (String dir : path.split(java.io.File.pathSeparator)) {
        Path candidate = Path.of(dir, name);
        if (Files.isExecutable(candidate)) return Optional.of(candidate);
      }
    }
    return Optional.empty();
  }
}
