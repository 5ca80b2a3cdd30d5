package dev.keel.tenant;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Tenant API keys: {@code keel_<tenantId>_<64 hex digits>}, 256 random bits after a recognisable
 * prefix (so that secret scanners and people can tell a Keel key at a glance) and the tenant id (so
 * that a request's key leads to its tenant without a lookup table).
 *
 * <p>Only the SHA-256 of a key is stored. A slow password hash would add nothing: the key is 256
 * random bits, not something a person chose, so it cannot be guessed from its hash.
 */
public final class ApiKeys {

  public static final String PREFIX = "keel_";
  private static final Pattern KEY = Pattern.compile("^keel_(t[a-z2-7]{26})_([0-9a-f]{64})$");
  private static final Pattern TENANT_ID = Pattern.compile("^t[a-z2-7]{26}$");
  private static final String BASE32 = "abcdefghijklmnopqrstuvwxyz234567";

  private final SecureRandom random;

  public ApiKeys(SecureRandom random) {
    this.random = random;
  }

  /** A new opaque tenant id: {@code t} and 26 base32 characters (130 random bits). */
  public String newTenantId() {
    StringBuilder sb = new StringBuilder("t");
    for (int i = 0; i < 26; i++) sb.append(BASE32.charAt(random.nextInt(32)));
    return sb.toString();
  }

  public static boolean isTenantId(String id) {
    return id != null && TENANT_ID.matcher(id).matches();
  }

  /** A new key for {@code tenantId}; shown to the client once, never stored. */
  public String newKey(String tenantId) {
    byte[] secret = new byte[32];
    random.nextBytes(secret);
    return PREFIX + tenantId + "_" + HexFormat.of().formatHex(secret);
  }

  /**
   * The tenant a key names, when it has the shape of a Keel key; says nothing about its validity.
   */
  public static Optional<String> tenantOf(String key) {
    if (key == null) return Optional.empty();
    var m = KEY.matcher(key);
    return m.matches() ? Optional.of(m.group(1)) : Optional.empty();
  }

  /** The stored form of a key: SHA-256, hex. */
  public static String hash(String key) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }

  /**
   * Whether {@code key} hashes to {@code storedHash}, in time that does not depend on where they
   * differ.
   */
  public static boolean matches(String key, String storedHash) {
    if (key == null || storedHash == null) return false;
    return MessageDigest.isEqual(
        hash(key).getBytes(StandardCharsets.US_ASCII),
        storedHash.getBytes(StandardCharsets.US_ASCII));
  }
}
