package dev.keel.node;

import dev.keel.http.RouteTable;
import dev.keel.http.RouteTable.Body;
import dev.keel.http.RouteTable.Endpoint;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Hostile requests for every endpoint of {@link RouteTable}, derived from the table rather than a
 * hand-picked list: each id position (and one segment past the end) replaced by dot segments,
 * encoded slashes, overlong UTF-8, NUL and control characters; query parameters a node must refuse;
 * malformed bodies; methods the endpoint does not answer. Ids that are not replaced are those of
 * live fixtures, so that a request that was resolved instead of refused would change something.
 */
final class HostileRequests {

  /** What an answer must be: {@code status} exactly, or (0) a 4xx, or (-1) anything but a 5xx. */
  enum Expect {
    /** refused for its target or its parameters before any route ran */
    BAD_REQUEST(400),
    METHOD_NOT_ALLOWED(405),
    URI_TOO_LONG(414),
    HEADERS_TOO_LARGE(431),
    CLIENT_ERROR(0),
    /** a request with absurd but harmless parameters or headers */
    NOT_SERVER_ERROR(-1);

    final int status;

    Expect(int status) {
      this.status = status;
    }
  }

  record Probe(String label, byte[] bytes, Expect expect) {}

  /**
   * Segments (as sent) that no route may resolve or accept. Characters up to U+00FF go out as one
   * raw byte.
   */
  static final List<String> HOSTILE_SEGMENTS =
      List.of(
          ".",
          "..",
          "%2e",
          "%2E%2e",
          "%2e%2e",
          ".%2e",
          "a%2Fb",
          "%2F",
          "a%5Cb",
          "%C0%AF",
          "%c0%ae%c0%ae",
          "%ff",
          "%ED%A0%80",
          "%00",
          "a%0Ab",
          "a%0D%0AX-Injected:%201",
          "%7F",
          "\u00C0\u00AF",
          "a\u0001b");

  /** Query strings the edge refuses on every route: control characters and invalid UTF-8. */
  static final List<String> REFUSED_QUERIES =
      List.of(
          "x=%00",
          "limit=%01", "cursor=%C0%AF", "status=a%0Ab", "%ff=1", "workflow=%00", "tenantId=t%00");

  /** Valid query syntax with absurd values: every GET endpoint answers them without a 5xx. */
  static final List<String> ABSURD_QUERIES =
      List.of(
          "wait=99999999999999999999",
          "wait=-1",
          "wait=PT-5S",
          "wait=P9999999999999999999D",
          "limit=99999999999999999999",
          "limit=0",
          "limit=-1",
          "cursor=AAAA",
          "cursor=AAAAAAAA",
          "cursor=" + "A".repeat(1500),
          "cursor=%2B%2F%3D%3D",
          "cursor=" + base64("+1000000000-01-01T00:00:00Z|x"),
          "cursor=" + base64("2026-01-01T00:00:00Z|\u0000"),
          "from=%2B1000000000-01-01T00:00:00Z",
          "to=-999999999-01-01T00:00:00Z",
          "asOf=%2B1000000000-01-01T00:00:00Z",
          "asOf=x",
          "metadata=%3D",
          "metadata=k%3D" + "v".repeat(1000),
          "tenantId=" + "t".repeat(1000),
          "status=" + "x".repeat(1000),
          "paused=maybe",
          "service=%2A%2A",
          "type=%E2%80%AE");

  /** Bodies no endpoint may take: not JSON, not UTF-8, too deep. */
  static final List<byte[]> MALFORMED_BODIES =
      List.of(
          bytes("{"),
          bytes("{\"a\":}"),
          bytes("\u0000"),
          bytes("[".repeat(100_000)),
          new byte[] {'{', '"', 'a', '"', ':', '"', (byte) 0xC0, (byte) 0xAF, '"', '}'},
          new byte[] {'{', '"', (byte) 0xFF, '"', ':', '1', '}'},
          new byte[] {(byte) 0xFE, (byte) 0xFF, 0, '{', 0, '}'});

  /** Methods tried on every endpoint; those it does not answer must be a 405. */
  static final List<String> METHODS =
      List.of(
          "GET",
          "POST",
          "PUT",
          "DELETE",
          "PATCH",
          "OPTIONS",
          "TRACE",
          "HEAD",
          "FOO",
          "PROPFIND",
          "CONNECT");

  private final String token;
  private final Map<String, String> ids;

  /**
   * {@code ids}: the live fixture's id for each collection word ({@code workflows}, {@code
   * tenants}, …).
   */
  HostileRequests(String token, Map<String, String> ids) {
    this.token = token;
    this.ids = ids;
  }

  /**
   * The probes for every endpoint. With {@code everyPath} false, the target checks (which run
   * before any route or database) only climb with {@code ..} from the end of each path: for a
   * second database, where what reaches a query matters.
   */
  List<Probe> all(boolean everyPath) {
    List<Probe> probes = new ArrayList<>();
    for (Endpoint e : RouteTable.ENDPOINTS) {
      List<String> segments = List.of(e.template().substring(1).split("/"));
      List<String> sample = sample(segments);
      String path = "/" + String.join("/", sample);
      // Every id position, and one segment past the end (where /.. would climb to the parent).
      List<Integer> positions = new ArrayList<>();
      for (int i = 0; i < segments.size(); i++)
        if (segments.get(i).startsWith("{")) positions.add(i);
      positions.add(segments.size());
      if (!everyPath) positions = List.of(segments.size());
      for (int position : positions) {
        for (String hostile : everyPath ? HOSTILE_SEGMENTS : List.of("..", "%2e%2e")) {
          List<String> replaced = new ArrayList<>(sample);
          if (position == segments.size()) replaced.add(hostile);
          else replaced.set(position, hostile);
          String target = "/" + String.join("/", replaced);
          probes.add(
              probe(e.method() + " " + target, e.method(), target, e.body(), Expect.BAD_REQUEST));
        }
      }
      for (String query : REFUSED_QUERIES) {
        probes.add(
            probe(
                e.method() + " " + path + "?" + query,
                e.method(),
                path + "?" + query,
                e.body(),
                Expect.BAD_REQUEST));
      }
      if (e.method().equals("GET")) {
        for (String query : ABSURD_QUERIES) {
          probes.add(
              probe(
                  e.method() + " " + path + "?" + query,
                  e.method(),
                  path + "?" + query,
                  Body.NONE,
                  Expect.NOT_SERVER_ERROR));
        }
      }
      if (e.body() != Body.NONE) {
        for (byte[] body : MALFORMED_BODIES) {
          String label =
              e.method()
                  + " "
                  + path
                  + " body "
                  + new String(body, 0, Math.min(body.length, 12), StandardCharsets.ISO_8859_1);
          probes.add(
              new Probe(
                  label,
                  RawHttp.request(e.method(), path, token, "application/json", body),
                  Expect.CLIENT_ERROR));
        }
        probes.add(
            new Probe(
                e.method() + " " + path + " as text/plain",
                RawHttp.request(e.method(), path, token, "text/plain", bytes("{}")),
                Expect.CLIENT_ERROR));
      }
    }
    for (String template : templates()) {
      String path = "/" + String.join("/", sample(List.of(template.substring(1).split("/"))));
      Set<String> allowed = allowed(template);
      for (String method : METHODS) {
        if (!allowed.contains(method)) {
          probes.add(
              new Probe(
                  method + " " + path,
                  RawHttp.request(method, path, token, null, null),
                  Expect.METHOD_NOT_ALLOWED));
        }
      }
    }
    return probes;
  }

  /** What Pekko's parser refuses before any route runs, and headers that do not parse. */
  List<Probe> parserLevel() {
    List<Probe> probes = new ArrayList<>();
    String workflow = samplePath("/api/v1/workflows/{id}");
    raw(
        probes,
        "URI over 2 KiB",
        "GET /api/v1/workflows/" + "a".repeat(3000) + " HTTP/1.1\r\nHost: x\r\n\r\n",
        Expect.URI_TOO_LONG);
    raw(
        probes,
        "a header over 8 KiB",
        "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + "b".repeat(9000) + "\r\n\r\n",
        Expect.HEADERS_TOO_LARGE);
    raw(
        probes,
        "70 headers",
        "GET /health HTTP/1.1\r\nHost: x\r\n" + "X-H: 1\r\n".repeat(70) + "\r\n",
        Expect.HEADERS_TOO_LARGE);
    raw(
        probes,
        "Content-Length abc",
        "POST /api/v1/workflows HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + "Content-Length: abc\r\n\r\n{}",
        Expect.BAD_REQUEST);
    raw(
        probes,
        "two Content-Lengths",
        "POST /api/v1/workflows HTTP/1.1\r\n"
            + "Host: x\r\n"
            + "Content-Length: 2\r\n"
            + "Content-Length: 3\r\n\r\n"
            + "{}",
        Expect.BAD_REQUEST);
    raw(
        probes,
        "Content-Length -1",
        "POST /api/v1/workflows HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n{}",
        Expect.BAD_REQUEST);
    raw(
        probes,
        "a bad chunk size",
        "POST /api/v1/workflows HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
            + token
            + "\r\n"
            + "Content-Type: application/json\r\n"
            + "Transfer-Encoding: chunked\r\n\r\n"
            + "zz\r\n"
            + "{}\r\n"
            + "0\r\n\r\n",
        Expect.CLIENT_ERROR);
    raw(
        probes,
        "a body shorter than its Content-Length",
        "POST /api/v1/workflows HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
            + token
            + "\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"workflow\"",
        Expect.CLIENT_ERROR);
    raw(probes, "HTTP/2.0", "GET /health HTTP/2.0\r\nHost: x\r\n\r\n", Expect.BAD_REQUEST);
    raw(probes, "HTTP/3.0", "GET /health HTTP/3.0\r\nHost: x\r\n\r\n", Expect.BAD_REQUEST);
    raw(probes, "HTTP/1.7", "GET /health HTTP/1.7\r\nHost: x\r\n\r\n", Expect.BAD_REQUEST);
    raw(probes, "no version", "GET /health\r\nHost: x\r\n\r\n", Expect.BAD_REQUEST);
    raw(probes, "garbage request line", "GARBAGE\r\n\r\n", Expect.CLIENT_ERROR);
    raw(probes, "two spaces", "GET  /health  HTTP/1.1\r\nHost: x\r\n\r\n", Expect.BAD_REQUEST);
    raw(probes, "no Host", "GET /health HTTP/1.1\r\n\r\n", Expect.BAD_REQUEST);
    raw(
        probes,
        "a header name with a space",
        "GET /health HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n",
        Expect.BAD_REQUEST);
    raw(
        probes,
        "a control byte in a header",
        "GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\u0001b\r\n\r\n",
        Expect.NOT_SERVER_ERROR);
    raw(
        probes,
        "a method over 16 characters",
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ /health HTTP/1.1\r\nHost: x\r\n\r\n",
        Expect.METHOD_NOT_ALLOWED);
    raw(
        probes,
        "a bad percent escape",
        "GET /api/v1/workflows/% HTTP/1.1\r\nHost: x\r\n\r\n",
        Expect.BAD_REQUEST);
    raw(
        probes,
        "a raw space in the path",
        "GET /api/v1/work flows HTTP/1.1\r\nHost: x\r\n\r\n",
        Expect.BAD_REQUEST);
    raw(
        probes,
        "absolute form with %2e%2e",
        "DELETE http://127.0.0.1"
            + samplePath("/api/v1/tenants/{id}")
            + "/domains/%2e%2e HTTP/1.1\r\n"
            + "Host: 127.0.0.1\r\nAuthorization: Bearer "
            + token
            + "\r\n\r\n",
        Expect.BAD_REQUEST);
    probes.add(
        new Probe(
            "a body over 1 MiB",
            RawHttp.request(
                "POST", "/api/v1/workflows", token, "application/json", new byte[1_100_000]),
            Expect.CLIENT_ERROR));
    for (String authorization :
        List.of(
            "Bearer " + token + "@evil",
            "Bearer a@b",
            "Bearer " + token + ", Bearer " + token,
            "Basic !!!",
            "Bearer",
            "Bearer \u00e9\u00e8",
            "Digest " + token)) {
      probes.add(
          new Probe(
              "Authorization: " + authorization.split(" ")[0],
              RawHttp.request("GET", workflow, null, null, null, "Authorization: " + authorization),
              Expect.CLIENT_ERROR));
    }
    probes.add(
        new Probe(
            "two Authorization headers",
            RawHttp.request(
                "GET", workflow, token, null, null, "Authorization: Bearer someone-else"),
            Expect.CLIENT_ERROR));
    probes.add(
        new Probe(
            "X-Request-Id with a control byte",
            RawHttp.request("GET", workflow, token, null, null, "X-Request-Id: a\u0001b"),
            Expect.NOT_SERVER_ERROR));
    return probes;
  }

  private static void raw(List<Probe> probes, String label, String request, Expect expect) {
    probes.add(new Probe(label, bytes(request), expect));
  }

  private Probe probe(String label, String method, String target, Body body, Expect expect) {
    byte[] payload = body == Body.NONE ? null : bytes("{}");
    return new Probe(
        label, RawHttp.request(method, target, token, "application/json", payload), expect);
  }

  /** The template's segments with each {@code {...}} replaced by a live fixture's id. */
  List<String> sample(List<String> segments) {
    List<String> out = new ArrayList<>();
    String previous = "";
    for (String s : segments) {
      if (!s.startsWith("{")) out.add(s);
      else if (s.equals("{entityType}")) out.add("workflow");
      else if (previous.equals("{entityType}")) out.add(ids.get("workflows"));
      else out.add(ids.getOrDefault(previous, "unknown-" + previous));
      previous = s;
    }
    return out;
  }

  String samplePath(String template) {
    return "/" + String.join("/", sample(List.of(template.substring(1).split("/"))));
  }

  static Set<String> templates() {
    Set<String> templates = new LinkedHashSet<>();
    for (Endpoint e : RouteTable.ENDPOINTS) templates.add(e.template());
    return templates;
  }

  static Set<String> allowed(String template) {
    Set<String> allowed = new TreeSet<>();
    for (Endpoint e : RouteTable.ENDPOINTS)
      if (e.template().equals(template)) allowed.add(e.method());
    return allowed;
  }

  /**
   * Whether {@code path} (sampled) is an instance of some template: a literal matches itself,
   * {@code {...}} any segment.
   */
  static boolean matchesATemplate(String path) {
    String[] segments = path.substring(1).split("/");
    for (String template : templates()) {
      String[] t = template.substring(1).split("/");
      if (t.length != segments.length) continue;
      boolean match = true;
      for (int i = 0; i < t.length && match; i++)
        match = t[i].startsWith("{") || t[i].equals(segments[i]);
      if (match) return true;
    }
    return false;
  }

  /** Every literal segment of the table: the words a forgotten route would be made of. */
  static Set<String> words() {
    Set<String> words = new TreeSet<>();
    for (String template : templates()) {
      for (String s : template.substring(1).split("/")) if (!s.startsWith("{")) words.add(s);
    }
    return words;
  }

  private static String base64(String s) {
    return java.util.Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.ISO_8859_1);
  }
}
