package dev.keel.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.typesafe.config.ConfigFactory;
import dev.keel.client.KeelClient;
import dev.keel.client.KeelTls;
import dev.keel.workflow.execution.NodeWorkflowRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTTP listener with TLS and client certificates (mutual TLS), on a real node with certificates
 * the test makes: API, /health and /metrics over https; plain HTTP and a client without a
 * certificate refused; a certificate replaced on disk served to the next connection without a
 * restart. TLS does not touch the database: H2 only.
 */
class TlsIT {

  @TempDir Path dir;

  @Test
  void mutualTls_refusesPlainAndAnonymous_servesEveryRoute_reloadsARotatedCertificate()
      throws Exception {
    assumeTrue(TestCertificates.opensslAvailable(), "needs the openssl command");
    TestCertificates certs = new TestCertificates(dir);
    Path[] server = certs.issue("server");
    Path[] client = certs.issue("client");
    // The node reads these paths; rotation replaces their contents.
    Path cert = dir.resolve("node.pem");
    Path key = dir.resolve("node.key");
    Files.copy(server[0], cert);
    Files.copy(server[1], key);

    Map<String, Object> overrides = new HashMap<>();
    overrides.put("keel.node.data-dir", dir.resolve("data").toString());
    overrides.put("keel.tenants.quota-check-schedule", false);
    overrides.put("keel.http.port", 0);
    overrides.put("keel.cluster.port", 0);
    overrides.put("keel.node.admin-token", NodeHttp.TOKEN);
    overrides.put("keel.http.tls.cert", cert.toString());
    overrides.put("keel.http.tls.key", key.toString());
    overrides.put("keel.http.tls.client-ca", certs.caCert.toString());
    try (KeelNode node =
        KeelNode.start(ConfigFactory.parseMap(overrides), new NodeWorkflowRegistry())) {
      int port = node.httpPort();
      String https = "https://127.0.0.1:" + port;
      SSLContext withCert = KeelTls.context(certs.caCert, client[0], client[1]);
      HttpClient http = HttpClient.newBuilder().sslContext(withCert).build();

      // /health and /metrics on the same listener, and the API through the Java client.
      assertThat(get(http, https + "/health").statusCode()).isEqualTo(200);
      HttpResponse<String> metrics = get(http, https + "/metrics");
      assertThat(metrics.statusCode()).isEqualTo(200);
      assertThat(metrics.body()).contains("keel_");
      try (KeelClient keel =
          KeelClient.builder()
              .endpoint(https)
              .token(NodeHttp.TOKEN)
              .tls(withCert)
              .deregisterOnClose(false)
              .build()) {
        assertThat(keel.listServices(null, null)).isEmpty();
      }

      // Plain HTTP to the TLS port gets no HTTP answer.
      assertThat(plainHttpAnswer(port)).doesNotStartWith("HTTP/");

      // A client that trusts the CA but has no certificate fails the handshake.
      HttpClient anonymous =
          HttpClient.newBuilder().sslContext(KeelTls.context(certs.caCert, null, null)).build();
      assertThatThrownBy(() -> get(anonymous, https + "/health")).isInstanceOf(IOException.class);

      // Rotation: a new certificate (another serial) written over the files is served to new
      // connections, without a restart. Key first, as a careless copy would: the mismatched pair is
      // refused and the old certificate kept until the certificate follows.
      X509Certificate before = servedCertificate(port, withCert);
      Path[] renewed = certs.issue("server-renewed");
      Files.copy(renewed[1], key, StandardCopyOption.REPLACE_EXISTING);
      Files.copy(renewed[0], cert, StandardCopyOption.REPLACE_EXISTING);
      X509Certificate expected = (X509Certificate) KeelTls.certificates(renewed[0]).get(0);
      assertThat(expected.getSerialNumber()).isNotEqualTo(before.getSerialNumber());
      long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      X509Certificate now = before;
      while (!now.getSerialNumber().equals(expected.getSerialNumber())
          && System.nanoTime() < deadline) {
        Thread.sleep(100);
        now = servedCertificate(port, withCert);
      }
      assertThat(now.getSerialNumber())
          .as("the renewed certificate is served")
          .isEqualTo(expected.getSerialNumber());
      assertThat(get(http, https + "/health").statusCode()).isEqualTo(200);
    }
  }

  private static HttpResponse<String> get(HttpClient http, String url) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** What a plain-HTTP request to the port reads back: the start of the answer, or "". */
  private static String plainHttpAnswer(int port) throws IOException {
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
      s.setSoTimeout(5000);
      OutputStream out = s.getOutputStream();
      out.write(
          "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = s.getInputStream();
      byte[] buf = new byte[64];
      int n;
      try {
        n = in.read(buf);
      } catch (IOException e) {
        return "";
      }
      return n <= 0 ? "" : new String(buf, 0, n, StandardCharsets.ISO_8859_1);
    }
  }

  private static X509Certificate servedCertificate(int port, SSLContext ctx) throws IOException {
    try (SSLSocket s =
        (SSLSocket) ctx.getSocketFactory().createSocket(InetAddress.getLoopbackAddress(), port)) {
      s.setSoTimeout(5000);
      s.startHandshake();
      return (X509Certificate) s.getSession().getPeerCertificates()[0];
    }
  }
}
