package dev.keel.tenant;

import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Named API keys: {@code keel_<owner>_<keyId>_<64 hex digits>}, the owner being a tenant id or
 * {@value #CLUSTER} for the cluster-wide keys the admin issues. The owner and key id lead a request
 * to its {@link KeyRing} without a lookup table; 256 random bits make it unguessable, so its
 * SHA-256 is what is stored ({@link ApiKeys#hash}), as for tenants' first keys. A tenant's first
 * key ({@code keel_<tenantId>_<hex>}, no key id) keeps working as its {@code admin}.
 */
public final class NamedKeys {

  /** The owner of cluster-wide keys. */
  public static final String CLUSTER = "cluster";

  private static final Pattern KEY =
      Pattern.compile("^keel_(t[a-z2-7]{26}|cluster)_(k[a-z2-7]{12})_([0-9a-f]{64})$");
  private static final Pattern KEY_ID = Pattern.compile("^k[a-z2-7]{12}$");
  private static final String BASE32 = "abcdefghijklmnopqrstuvwxyz234567";

  private final SecureRandom random;

  public NamedKeys(SecureRandom random) {
    this.random = random;
  }

  /** Owner and key id of a presented key of this shape (says nothing about its validity). */
  public record Parsed(String owner, String keyId) {}

  public static Optional<Parsed> parse(String key) {
    if (key == null) return Optional.empty();
    var m = KEY.matcher(key);
    return m.matches() ? Optional.of(new Parsed(m.group(1), m.group(2))) : Optional.empty();
  }

  public static boolean isKeyId(String id) {
    return id != null && KEY_ID.matcher(id).matches();
  }

  /** A new key id: {@code k} and 12 base32 characters (60 random bits). */
  public String newKeyId() {
    StringBuilder sb = new StringBuilder("k");
    for (int i = 0; i < 12; i++) sb.append(BASE32.charAt(random.nextInt(32)));
    return sb.toString();
  }

  /** A new secret key for {@code owner}'s key {@code keyId}; shown once, never stored. */
  public String newKey(String owner, String keyId) {
    byte[] secret = new byte[32];
    random.nextBytes(secret);
    return ApiKeys.PREFIX + owner + "_" + keyId + "_" + HexFormat.of().formatHex(secret);
  }
}
