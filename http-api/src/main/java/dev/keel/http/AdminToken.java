package dev.keel.http;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Optional;

/**
 * The admin token: the configured one, or one generated on first start into {@code
 * <data-dir>/admin-token} (mode 600) and reused after. The token itself is never logged.
 */
public final class AdminToken {

  private final byte[] token;
  private final Optional<Path> file;

  private AdminToken(String token, Optional<Path> file) {
    this.token = token.getBytes(StandardCharsets.UTF_8);
    this.file = file;
  }

  public static AdminToken resolve(Optional<String> configured, Path dataDir) throws IOException {
    if (configured.isPresent()) return new AdminToken(configured.get(), Optional.empty());
    Path path = dataDir.resolve("admin-token");
    if (!Files.exists(path)) {
      byte[] random = new byte[32];
      new SecureRandom().nextBytes(random);
      String fresh = "keel_admin_" + Base64.getUrlEncoder().withoutPadding().encodeToString(random);
      try {
        Files.createFile(
            path,
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(path, fresh + "\n");
      } catch (FileAlreadyExistsException raced) {
        // another process wrote it first: use theirs
      } catch (UnsupportedOperationException noPosix) {
        Files.writeString(path, fresh + "\n");
      }
    }
    String stored = Files.readString(path).trim();
    if (stored.isEmpty()) throw new IOException(path + " is empty");
    return new AdminToken(stored, Optional.of(path));
  }

  /** Constant-time comparison, so response timing does not reveal the token. */
  public boolean matches(String presented) {
    if (presented == null) return false;
    return MessageDigest.isEqual(token, presented.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * Where the generated token is, for the start-up log line; empty when it came from configuration.
   */
  public Optional<Path> file() {
    return file;
  }
}
