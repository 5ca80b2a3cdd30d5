package dev.keel.node;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A test CA and certificates it signs, made with the {@code openssl} command (EC P-256, one day,
 * PKCS#8 keys as {@code openssl req} writes them): what an operator's files look like.
 */
final class TestCertificates {

  final Path dir;
  final Path caCert;
  private final Path caKey;

  TestCertificates(Path dir) throws IOException, InterruptedException {
    this.dir = dir;
    this.caCert = dir.resolve("ca.pem");
    this.caKey = dir.resolve("ca.key");
    openssl(
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        caKey.toString(),
        "-out",
        caCert.toString(),
        "-days",
        "1",
        "-subj",
        "/CN=keel-test-ca");
  }

  /** Whether tests can make certificates here. */
  static boolean opensslAvailable() {
    try {
      return new ProcessBuilder("openssl", "version").start().waitFor() == 0;
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }

  /** A certificate for 127.0.0.1 (server and client use) as {@code name}.pem / {@code name}.key. */
  Path[] issue(String name) throws IOException, InterruptedException {
    Path key = dir.resolve(name + ".key");
    Path csr = dir.resolve(name + ".csr");
    Path cert = dir.resolve(name + ".pem");
    Path ext = dir.resolve(name + ".ext");
    Files.writeString(ext, "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
    openssl(
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        key.toString(),
        "-out",
        csr.toString(),
        "-subj",
        "/CN=" + name);
    openssl(
        "x509",
        "-req",
        "-in",
        csr.toString(),
        "-CA",
        caCert.toString(),
        "-CAkey",
        caKey.toString(),
        "-CAcreateserial",
        "-out",
        cert.toString(),
        "-days",
        "1",
        "-extfile",
        ext.toString());
    return new Path[] {cert, key};
  }

  private void openssl(String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of("openssl"));
    command.addAll(List.of(args));
    Process p =
        new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0)
      throw new IOException(String.join(" ", command) + " failed: " + out);
  }
}
