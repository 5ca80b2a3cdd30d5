package dev.keel.node;

import dev.keel.client.KeelTls;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.LongSupplier;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import org.apache.pekko.http.javadsl.ConnectionContext;
import org.apache.pekko.http.javadsl.HttpsConnectionContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP listener's TLS: the node's certificate and key ({@code --tls-cert}, {@code --tls-key}),
 * and with {@code --tls-client-ca} mutual TLS (a client without a certificate that CA signed is
 * refused in the handshake). Pekko HTTP asks {@link #engine()} for each new connection; it looks at
 * the files' modification times at most once per {@link #CHECK_EVERY_NANOS} and, when one changed,
 * reads them again, so a renewed certificate is served without a restart. A change that does not
 * read (a key written before its certificate) keeps the previous context until the files agree.
 */
public final class TlsListener {

  private static final Logger log = LoggerFactory.getLogger(TlsListener.class);

  /** A stat of three files per second at most, however many connections arrive. */
  static final long CHECK_EVERY_NANOS = 1_000_000_000L;

  /** The files; {@code clientCa} empty: no client certificate asked for. */
  public record TlsFiles(Path cert, Path key, Optional<Path> clientCa) {
    List<Path> all() {
      List<Path> l = new ArrayList<>(List.of(cert, key));
      clientCa.ifPresent(l::add);
      return l;
    }
  }

  private final TlsFiles files;
  private final LongSupplier nanoTime;
  private volatile SSLContext context;
  private volatile List<FileTime> stamps;
  private volatile long checkedAt;
  private volatile List<FileTime> refusedStamps;

  /** Reads the files once; a problem is a {@link ConfigProblem} naming the setting. */
  public TlsListener(TlsFiles files) {
    this(files, System::nanoTime);
  }

  TlsListener(TlsFiles files, LongSupplier nanoTime) {
    this.files = files;
    this.nanoTime = nanoTime;
    this.stamps = stamps();
    this.context = load();
    this.checkedAt = nanoTime.getAsLong();
  }

  /** What pekko-http's {@code enableHttps} takes: a new engine per connection. */
  public HttpsConnectionContext connectionContext() {
    return ConnectionContext.httpsServer(this::engine);
  }

  SSLEngine engine() {
    reloadIfChanged();
    SSLEngine engine = context.createSSLEngine();
    engine.setUseClientMode(false);
    if (files.clientCa().isPresent()) engine.setNeedClientAuth(true);
    return engine;
  }

  /** Re-reads the files when their modification times changed since the last read. */
  void reloadIfChanged() {
    long now = nanoTime.getAsLong();
    if (now - checkedAt < CHECK_EVERY_NANOS) return;
    synchronized (this) {
      if (now - checkedAt < CHECK_EVERY_NANOS) return;
      checkedAt = now;
      List<FileTime> current = stamps();
      if (current.equals(stamps) || current.equals(refusedStamps)) return;
      try {
        SSLContext fresh = load();
        context = fresh;
        stamps = current;
        refusedStamps = null;
        log.info("tls reloaded cert={} clientCa={}", files.cert(), files.clientCa().orElse(null));
      } catch (ConfigProblem p) {
        refusedStamps = current;
        log.warn("tls reload refused, still serving the previous certificate: {}", p.line());
      }
    }
  }

  private List<FileTime> stamps() {
    List<FileTime> l = new ArrayList<>();
    for (Path p : files.all()) {
      try {
        l.add(Files.getLastModifiedTime(p));
      } catch (IOException e) {
        l.add(FileTime.fromMillis(-1));
      }
    }
    return l;
  }

  private SSLContext load() {
    try {
      var keys = keyManagers();
      var trust = files.clientCa().map(this::trustManagers).orElse(null);
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(keys, trust, null);
      return ctx;
    } catch (GeneralSecurityException e) {
      throw new ConfigProblem("KEEL_TLS_CERT", e.getMessage());
    }
  }

  private javax.net.ssl.KeyManager[] keyManagers() {
    try {
      KeelTls.certificates(files.cert());
    } catch (IllegalArgumentException e) {
      throw new ConfigProblem("KEEL_TLS_CERT", e.getMessage());
    }
    try {
      KeelTls.privateKey(files.key());
      return KeelTls.keyManagers(files.cert(), files.key());
    } catch (IllegalArgumentException e) {
      throw new ConfigProblem("KEEL_TLS_KEY", e.getMessage());
    }
  }

  private javax.net.ssl.TrustManager[] trustManagers(Path ca) {
    try {
      return KeelTls.trustManagers(ca);
    } catch (IllegalArgumentException e) {
      throw new ConfigProblem("KEEL_TLS_CLIENT_CA", e.getMessage());
    }
  }
}
