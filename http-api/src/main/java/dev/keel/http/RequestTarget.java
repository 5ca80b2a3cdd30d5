package dev.keel.http;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * Checks the request target exactly as the client sent it ({@code Raw-Request-URI}), before Pekko's
 * parsed {@code Uri} is routed. Pekko decodes percent-escapes leniently (invalid UTF-8 becomes
 * U+FFFD) and removes dot segments, decoded ones included: {@code /tenants/t1/domains/%2e%2e} would
 * be routed as {@code /tenants/t1}. So a segment that is {@code .} or {@code ..} (in any encoding),
 * holds an encoded slash or backslash, a control character or invalid UTF-8, and a query parameter
 * with a control character or invalid UTF-8, are refused here as a 400, for every route.
 */
public final class RequestTarget {

  private RequestTarget() {}

  /** The path of {@code rawTarget} (origin or absolute form), still percent-encoded. */
  public static String path(String rawTarget) {
    String target = withoutSchemeAndAuthority(rawTarget);
    int end = target.length();
    for (char c : new char[] {'?', '#'}) {
      int at = target.indexOf(c);
      if (at >= 0) end = Math.min(end, at);
    }
    return target.substring(0, end);
  }

  /** The problem with {@code rawTarget} (origin or absolute form), if any. */
  public static Optional<ApiProblem> problem(String rawTarget) {
    String target = withoutSchemeAndAuthority(rawTarget);
    int q = target.indexOf('?');
    String path = q < 0 ? target : target.substring(0, q);
    int hash = path.indexOf('#');
    if (hash >= 0) path = path.substring(0, hash);
    for (String segment : path.split("/", -1)) {
      String problem = segmentProblem(segment);
      if (problem != null) return Optional.of(ApiProblem.badRequest("path", problem));
    }
    if (q >= 0) {
      String query = target.substring(q + 1);
      int queryHash = query.indexOf('#');
      if (queryHash >= 0) query = query.substring(0, queryHash);
      for (String pair : query.split("&")) {
        if (pair.isEmpty()) continue;
        int eq = pair.indexOf('=');
        String rawName = eq < 0 ? pair : pair.substring(0, eq);
        String name = decode(rawName);
        String field = name == null || hasControl(name) || name.isEmpty() ? "query" : name;
        if (name == null)
          return Optional.of(ApiProblem.badRequest(field, "is not valid percent-encoded UTF-8"));
        if (hasControl(name))
          return Optional.of(
              ApiProblem.badRequest(field, "a parameter name must not contain control characters"));
        if (eq < 0) continue;
        String value = decode(pair.substring(eq + 1));
        if (value == null)
          return Optional.of(ApiProblem.badRequest(field, "is not valid percent-encoded UTF-8"));
        if (hasControl(value))
          return Optional.of(ApiProblem.badRequest(field, "must not contain control characters"));
      }
    }
    return Optional.empty();
  }

  private static String segmentProblem(String raw) {
    String lower = raw.toLowerCase(java.util.Locale.ROOT);
    if (lower.contains("%2f") || lower.contains("%5c") || raw.indexOf('\\') >= 0) {
      return "a path segment must not contain an encoded slash or backslash";
    }
    String decoded = decode(raw);
    if (decoded == null) return "is not valid percent-encoded UTF-8";
    if (decoded.equals(".") || decoded.equals(".."))
      return "dot segments (. and ..) are not allowed";
    if (hasControl(decoded)) return "must not contain control characters";
    return null;
  }

  /**
   * Strips {@code http://host:port} from an absolute-form target; {@code *} and origin form stay.
   */
  private static String withoutSchemeAndAuthority(String target) {
    int scheme = target.indexOf("://");
    if (scheme <= 0 || target.startsWith("/")) return target;
    int pathStart = target.indexOf('/', scheme + 3);
    int queryStart = target.indexOf('?', scheme + 3);
    if (pathStart < 0 && queryStart < 0) return "/";
    if (pathStart < 0 || (queryStart >= 0 && queryStart < pathStart))
      return "/" + target.substring(queryStart);
    return target.substring(pathStart);
  }

  /**
   * Percent-decodes {@code raw} as strict UTF-8 (overlong forms and lone surrogates refused); null
   * when it is not.
   */
  static String decode(String raw) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(raw.length());
    for (int i = 0; i < raw.length(); i++) {
      char c = raw.charAt(i);
      if (c == '%') {
        if (i + 2 >= raw.length()) return null;
        int high = Character.digit(raw.charAt(i + 1), 16);
        int low = Character.digit(raw.charAt(i + 2), 16);
        if (high < 0 || low < 0) return null;
        bytes.write(high * 16 + low);
        i += 2;
      } else if (c > 0x7f) {
        // Pekko's strict URI parsing lets no raw non-ASCII through; refuse it here too, whatever
        // the mode.
        return null;
      } else {
        bytes.write(c);
      }
    }
    return strictUtf8(bytes.toByteArray());
  }

  /** {@code bytes} as UTF-8, or null when they are not valid UTF-8. */
  public static String strictUtf8(byte[] bytes) {
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes))
          .toString();
    } catch (CharacterCodingException e) {
      return null;
    }
  }

  /** C0 controls, DEL and C1 controls: never part of an id, a name or a filter. */
  static boolean hasControl(String s) {
    for (int i = 0; i < s.length(); i++) {
      if (Character.isISOControl(s.charAt(i))) return true;
    }
    return false;
  }
}
