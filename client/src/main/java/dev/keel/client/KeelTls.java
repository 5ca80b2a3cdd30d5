package dev.keel.client;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;

/**
 * TLS from PEM files, with the JDK only: a CA file to trust ({@code KEEL_TLS_CA}), and a client
 * certificate and key for mutual TLS ({@code KEEL_TLS_CERT}, {@code KEEL_TLS_KEY}). Keys are PKCS#8
 * ({@code BEGIN PRIVATE KEY}, what {@code openssl genpkey} writes), RSA, EC or Ed25519; an older
 * PKCS#1 or SEC1 key is refused with the command that converts it.
 *
 * <pre>{@code
 * SSLContext tls = KeelTls.context(Path.of("ca.pem"), Path.of("me.pem"), Path.of("me.key"));
 * }</pre>
 *
 * <p>The node uses the same reading for its own certificate ({@code --tls-cert}, {@code --tls-key},
 * {@code --tls-client-ca}).
 */
public final class KeelTls {

  private static final Pattern PEM_KEY =
      Pattern.compile(
          "-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----([A-Za-z0-9+/=\\s]+)-----END \\1PRIVATE"
              + " KEY-----");

  private KeelTls() {}

  /**
   * The TLS context the {@code KEEL_TLS_*} variables describe, or empty when none is set (the JDK's
   * default trust then applies to an https endpoint). A certificate without its key, or the
   * reverse, is an {@link IllegalArgumentException} naming the variable.
   */
  public static Optional<SSLContext> fromEnvironment(Function<String, String> env) {
    Path ca = path(env.apply("KEEL_TLS_CA"));
    Path cert = path(env.apply("KEEL_TLS_CERT"));
    Path key = path(env.apply("KEEL_TLS_KEY"));
    if (ca == null && cert == null && key == null) return Optional.empty();
    if ((cert == null) != (key == null)) {
      throw new IllegalArgumentException(
          (cert == null ? "KEEL_TLS_CERT" : "KEEL_TLS_KEY")
              + ": a client certificate needs both KEEL_TLS_CERT and KEEL_TLS_KEY");
    }
    return Optional.of(context(ca, cert, key));
  }

  /**
   * A client context: trusts {@code ca} (null: the JDK's trusted CAs) and presents {@code cert}
   * with {@code key} when both are given.
   */
  public static SSLContext context(Path ca, Path cert, Path key) {
    try {
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(
          cert == null ? null : keyManagers(cert, key),
          ca == null ? null : trustManagers(ca),
          null);
      return ctx;
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("TLS: " + e.getMessage(), e);
    }
  }

  /** Key managers that present the certificate chain in {@code cert} with {@code key}. */
  public static KeyManager[] keyManagers(Path cert, Path key) {
    List<Certificate> chain = certificates(cert);
    PrivateKey privateKey = privateKey(key);
    if (!belongTogether(privateKey, chain.get(0).getPublicKey())) {
      throw new IllegalArgumentException(
          key + ": the key is not the one of the certificate in " + cert);
    }
    try {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      char[] none = new char[0];
      store.setKeyEntry("keel", privateKey, none, chain.toArray(Certificate[]::new));
      KeyManagerFactory f = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      f.init(store, none);
      return f.getKeyManagers();
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalArgumentException(
          key + ": the key does not go with the certificate in " + cert + ": " + e.getMessage(), e);
    }
  }

  /** Trust managers that trust exactly the certificates in {@code ca}. */
  public static TrustManager[] trustManagers(Path ca) {
    try {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      int i = 0;
      for (Certificate c : certificates(ca)) store.setCertificateEntry("ca-" + i++, c);
      TrustManagerFactory f =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      f.init(store);
      return f.getTrustManagers();
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalArgumentException(ca + ": " + e.getMessage(), e);
    }
  }

  /** The X.509 certificates of a PEM file, in file order; at least one. */
  public static List<Certificate> certificates(Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      Collection<? extends Certificate> read =
          CertificateFactory.getInstance("X.509").generateCertificates(in);
      if (read.isEmpty()) throw new IllegalArgumentException(file + ": no PEM certificate in it");
      return new ArrayList<>(read);
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException(file + ": no such file");
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalArgumentException(file + ": not a PEM certificate (" + e.getMessage() + ")");
    }
  }

  /** The private key of a PKCS#8 PEM file. */
  public static PrivateKey privateKey(Path file) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.US_ASCII);
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException(file + ": no such file");
    } catch (IOException e) {
      throw new IllegalArgumentException(file + ": cannot read it (" + e.getMessage() + ")");
    }
    Matcher m = PEM_KEY.matcher(text);
    if (!m.find()) throw new IllegalArgumentException(file + ": no PEM private key in it");
    if (!m.group(1).isEmpty()) {
      throw new IllegalArgumentException(
          file
              + ": a "
              + m.group(1).trim()
              + " key; convert it to PKCS#8 with: openssl pkcs8 -topk8 -nocrypt -in "
              + file
              + " -out key.pem");
    }
    byte[] der = Base64.getMimeDecoder().decode(m.group(2));
    for (String algorithm : List.of("RSA", "EC", "Ed25519", "Ed448", "RSASSA-PSS")) {
      try {
        return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
      } catch (GeneralSecurityException e) {
        // not this algorithm; try the next
      }
    }
    throw new IllegalArgumentException(file + ": a private key of an algorithm Java cannot read");
  }

  /**
   * Whether the key signs what the certificate's public key verifies (a key of another pair not).
   */
  private static boolean belongTogether(PrivateKey key, PublicKey publicKey) {
    String algorithm =
        switch (key.getAlgorithm()) {
          case "RSA" -> "SHA256withRSA";
          case "EC" -> "SHA256withECDSA";
          case "RSASSA-PSS" -> null;
          default -> key.getAlgorithm(); // Ed25519, Ed448
        };
    if (algorithm == null || !key.getAlgorithm().equals(publicKey.getAlgorithm())) {
      return key.getAlgorithm().equals(publicKey.getAlgorithm());
    }
    try {
      byte[] probe = "keel-tls-probe".getBytes(StandardCharsets.US_ASCII);
      Signature sign = Signature.getInstance(algorithm);
      sign.initSign(key);
      sign.update(probe);
      byte[] signature = sign.sign();
      Signature verify = Signature.getInstance(algorithm);
      verify.initVerify(publicKey);
      verify.update(probe);
      return verify.verify(signature);
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  private static Path path(String value) {
    return value == null || value.isBlank() ? null : Path.of(value.trim());
  }
}
