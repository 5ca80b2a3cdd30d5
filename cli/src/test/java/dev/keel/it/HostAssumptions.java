package dev.keel.it;

import dev.keel.bench.host.NetworkNamespaces;
import dev.keel.bench.host.PrivatePostgres;
import dev.keel.persistence.TestDatabases;
import java.io.IOException;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Assumptions;

/**
 * What the tests that need root ask of the machine (a private PostgreSQL, network namespaces, CPU
 * groups): skipped with the reason when it cannot give it, unless {@code KEEL_REQUIRE_POSTGRES=1}
 * (CI), where they fail instead. The host pieces themselves live in the bench module, which {@code
 * ScaleBench} shares with these tests.
 */
final class HostAssumptions {

  private HostAssumptions() {}

  static void privatePostgres(String also) {
    require(
        PrivatePostgres.unavailable().map(w -> w + also), "a private PostgreSQL cannot run here");
  }

  static void networkNamespaces() {
    require(NetworkNamespaces.unavailable(), "network namespaces cannot be made here");
  }

  /**
   * {@link NetworkNamespaces#create}, skipping the test when the kernel or the container refuses.
   */
  static NetworkNamespaces namespaces(List<String> hosts) throws IOException, InterruptedException {
    try {
      return NetworkNamespaces.create(hosts);
    } catch (IllegalStateException e) {
      require(Optional.of(e.getMessage()), "network namespaces cannot be made here");
      throw e;
    }
  }

  static void require(Optional<String> why, String what) {
    if (why.isEmpty()) return;
    if (TestDatabases.postgresRequired()) {
      throw new AssertionError(what + ": " + why.get() + " (KEEL_REQUIRE_POSTGRES=1)");
    }
    Assumptions.abort(
        what + ": " + why.get() + " — skipping; with KEEL_REQUIRE_POSTGRES=1 this fails instead");
  }
}
