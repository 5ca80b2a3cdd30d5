package dev.keel.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * PEM files as operators have them: a certificate and its PKCS#8 key make a context; a key of
 * another pair, an old PKCS#1 key and half a client certificate are refused with a line that says
 * what to do.
 */
class KeelTlsTest {

  @TempDir Path dir;

  @Test
  void aMatchingPair_makesAContext_andAStrangersKeyIsRefused() throws Exception {
    assumeTrue(openssl("version"), "needs the openssl command");
    selfSigned("a");
    selfSigned("b");
    assertThat(KeelTls.context(dir.resolve("a.pem"), dir.resolve("a.pem"), dir.resolve("a.key")))
        .isNotNull();
    assertThatThrownBy(() -> KeelTls.keyManagers(dir.resolve("a.pem"), dir.resolve("b.key")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("is not the one of the certificate");
  }

  @Test
  void aPkcs1Key_isRefusedWithTheConversionCommand() throws Exception {
    assumeTrue(openssl("version"), "needs the openssl command");
    assumeTrue(
        openssl("genrsa", "-traditional", "-out", dir.resolve("old.key").toString(), "2048"));
    assertThatThrownBy(() -> KeelTls.privateKey(dir.resolve("old.key")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("RSA key")
        .hasMessageContaining("openssl pkcs8 -topk8 -nocrypt");
  }

  @Test
  void halfAClientCertificate_namesTheMissingVariable() {
    assertThatThrownBy(() -> KeelTls.fromEnvironment(Map.of("KEEL_TLS_CERT", "me.pem")::get))
        .hasMessageStartingWith("KEEL_TLS_KEY:");
    assertThat(KeelTls.fromEnvironment(Map.<String, String>of()::get)).isEmpty();
  }

  private void selfSigned(String name) throws Exception {
    assertThat(
            openssl(
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                dir.resolve(name + ".key").toString(),
                "-out",
                dir.resolve(name + ".pem").toString(),
                "-days",
                "1",
                "-subj",
                "/CN=" + name))
        .isTrue();
  }

  private boolean openssl(String... args) {
    List<String> command = new ArrayList<>(List.of("openssl"));
    command.addAll(List.of(args));
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }
}
