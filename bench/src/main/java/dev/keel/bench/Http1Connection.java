package dev.keel.bench;

import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Collections;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * One persistent HTTP/1.1 connection to one {@code http://} endpoint, for one thread at a time: a
 * plain blocking {@link Socket} (TCP_NODELAY) kept alive between exchanges. It exists because the
 * load programs share a small machine with the node they measure, and the JDK {@code HttpClient}
 * spends about a millisecond of CPU per request (selector thread, futures, header objects); this
 * spends a fraction of that.
 *
 * <p>What it does, and no more:
 *
 * <ul>
 *   <li>Only the endpoint's host and port are ever contacted; redirects are returned, never
 *       followed. The {@code Host} header comes from the endpoint.
 *   <li>Response bodies framed by {@code Content-Length}, {@code Transfer-Encoding: chunked}, or
 *       (without either) by the server closing the connection. Interim 1xx answers are skipped.
 *   <li>{@code Connection: close} from the server (or an HTTP/1.0 answer without keep-alive): the
 *       connection is closed after the response and opened again by the next exchange.
 *   <li>A kept-alive connection the server closed while idle: when the request cannot be written or
 *       the connection ends before the first byte of the answer, the exchange is sent once more on
 *       a fresh connection. Every request of the load programs is idempotent.
 *   <li>A timeout covers the whole exchange (connect, write, the answer to its last byte); when it
 *       runs out the connection is closed and {@link SocketTimeoutException} thrown.
 * </ul>
 *
 * <p>Not thread-safe: one instance per worker thread.
 */
final class Http1Connection implements Closeable {

  /**
   * The answer to one exchange. Header names are case-insensitive; a repeated header keeps its
   * first value.
   */
  record Response(int status, Map<String, String> headers, byte[] body) {

    Optional<String> header(String name) {
      return Optional.ofNullable(headers.get(name));
    }

    /** The body as UTF-8 text. */
    String text() {
      return new String(body, StandardCharsets.UTF_8);
    }
  }

  private static final int MAX_LINE = 16 * 1024;
  private static final int MAX_HEADERS = 200;
  private static final int MAX_BODY = 16 * 1024 * 1024;
  private static final byte[] NO_BODY = new byte[0];

  private final String host;
  private final int port;
  private final String hostHeader;
  private final Duration connectTimeout;

  private Socket socket;
  private InputStream in;
  private OutputStream out;
  private int connectsTotal;

  /** Whether the answer being read came as HTTP/1.0. */
  private boolean http10;

  private final byte[] buf = new byte[8192];
  private int pos;
  private int lim;

  /** Whether any byte of the current answer has been read. */
  private boolean answerStarted;

  private long exchangeDeadlineNanos;

  /** Wraps each new connection in TLS for an https endpoint; null for http. */
  private final javax.net.ssl.SSLSocketFactory tls;

  Http1Connection(URI endpoint, Duration connectTimeout) {
    boolean https = "https".equalsIgnoreCase(endpoint.getScheme());
    if (!(https || "http".equalsIgnoreCase(endpoint.getScheme())) || endpoint.getHost() == null) {
      throw new IllegalArgumentException("only http:// and https:// endpoints, was " + endpoint);
    }
    // https: the KEEL_TLS_* files (CA, client certificate and key), as every Keel client.
    this.tls = https ? NodeHttp.tls().getSocketFactory() : null;
    this.host = endpoint.getHost();
    this.port = endpoint.getPort() == -1 ? (https ? 443 : 80) : endpoint.getPort();
    String h = host.indexOf(':') >= 0 && !host.startsWith("[") ? "[" + host + "]" : host;
    this.hostHeader = endpoint.getPort() == -1 ? h : h + ":" + port;
    this.connectTimeout = connectTimeout;
  }

  /** How many TCP connections this has opened so far. */
  int connects() {
    return connectsTotal;
  }

  /**
   * Sends one request and reads its whole answer.
   *
   * @param pathAndQuery the request target, starting with {@code /}
   * @param headers sent as given (besides {@code Host} and {@code Content-Length}, which this sets)
   * @param body sent with a {@code Content-Length}; null for none
   * @throws SocketTimeoutException when {@code timeout} ran out (the connection is closed)
   * @throws IOException when the connection failed; the connection is closed
   */
  Response exchange(
      String method,
      String pathAndQuery,
      Map<String, String> headers,
      byte[] body,
      Duration timeout)
      throws IOException {
    byte[] request = encode(method, pathAndQuery, headers, body);
    exchangeDeadlineNanos = System.nanoTime() + timeout.toNanos();
    boolean reused = socket != null;
    try {
      return attempt(request, method);
    } catch (SocketTimeoutException e) {
      close();
      throw e;
    } catch (IOException e) {
      boolean retry = reused && !answerStarted;
      close();
      if (!retry) {
        throw e;
      }
    }
    // The server had closed the idle connection: once more on a fresh one.
    try {
      return attempt(request, method);
    } catch (IOException e) {
      close();
      throw e;
    }
  }

  private Response attempt(byte[] request, String method) throws IOException {
    answerStarted = false;
    if (socket == null) {
      open();
    }
    out.write(request);
    out.flush();
    int status;
    Map<String, String> headers;
    do {
      status = readStatusLine();
      headers = readHeaders();
    } while (status >= 100 && status < 200 && status != 101);
    boolean keepAlive = keepAlive(headers);
    byte[] body;
    String transferEncoding = headers.get("Transfer-Encoding");
    String contentLength = headers.get("Content-Length");
    if ("HEAD".equals(method) || status == 204 || status == 304) {
      body = NO_BODY;
    } else if (transferEncoding != null) {
      if (!isChunked(transferEncoding)) {
        body = readToEnd();
        keepAlive = false;
      } else {
        body = readChunked();
      }
    } else if (contentLength != null) {
      body = readFixed(parseLength(contentLength));
    } else {
      body = readToEnd();
      keepAlive = false;
    }
    if (!keepAlive) {
      close();
    }
    return new Response(status, headers, body);
  }

  private void open() throws IOException {
    Socket s = new Socket();
    try {
      s.setTcpNoDelay(true);
      s.setKeepAlive(true);
      int connectMillis = (int) Math.min(connectTimeout.toMillis(), Math.max(1, millisLeft()));
      s.connect(new InetSocketAddress(host, port), connectMillis);
    } catch (IOException e) {
      s.close();
      throw e;
    }
    if (tls != null) {
      javax.net.ssl.SSLSocket secured =
          (javax.net.ssl.SSLSocket) tls.createSocket(s, host, port, true);
      try {
        secured.startHandshake();
      } catch (IOException e) {
        secured.close();
        throw e;
      }
      s = secured;
    }
    connectsTotal++;
    socket = s;
    in = s.getInputStream();
    out = s.getOutputStream();
    pos = 0;
    lim = 0;
  }

  @Override
  public void close() {
    Socket s = socket;
    socket = null;
    in = null;
    out = null;
    pos = 0;
    lim = 0;
    if (s != null) {
      try {
        s.close();
      } catch (IOException ignored) {
        // closing anyway
      }
    }
  }

  // ---- request ----

  private byte[] encode(
      String method, String pathAndQuery, Map<String, String> headers, byte[] body) {
    if (!pathAndQuery.startsWith("/")) {
      throw new IllegalArgumentException("request target must start with /: " + pathAndQuery);
    }
    StringBuilder head = new StringBuilder(256);
    head.append(checked(method)).append(' ').append(checked(pathAndQuery)).append(" HTTP/1.1\r\n");
    head.append("Host: ").append(hostHeader).append("\r\n");
    for (Map.Entry<String, String> header : headers.entrySet()) {
      head.append(checked(header.getKey()))
          .append(": ")
          .append(checked(header.getValue()))
          .append("\r\n");
    }
    if (body != null) {
      head.append("Content-Length: ").append(body.length).append("\r\n");
    }
    head.append("\r\n");
    byte[] headBytes = head.toString().getBytes(StandardCharsets.ISO_8859_1);
    if (body == null || body.length == 0) {
      return headBytes;
    }
    byte[] request = Arrays.copyOf(headBytes, headBytes.length + body.length);
    System.arraycopy(body, 0, request, headBytes.length, body.length);
    return request;
  }

  /** {@code text}, unless it holds a line break or a character that is not Latin-1. */
  private static String checked(String text) {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '\r' || c == '\n' || c > 0xFF) {
        throw new IllegalArgumentException(
            "a request line or header holds a line break or a non-Latin-1 character");
      }
    }
    return text;
  }

  // ---- answer ----

  private int readStatusLine() throws IOException {
    String line = readLine();
    // HTTP/1.1 200 OK
    if (line.length() < 12 || !line.startsWith("HTTP/1.") || line.charAt(8) != ' ') {
      throw new IOException("not an HTTP/1.x status line: " + abbreviate(line));
    }
    http10 = line.charAt(7) == '0';
    try {
      return Integer.parseInt(line.substring(9, 12));
    } catch (NumberFormatException e) {
      throw new IOException("bad status line: " + abbreviate(line));
    }
  }

  private Map<String, String> readHeaders() throws IOException {
    Map<String, String> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    for (int n = 0; ; n++) {
      String line = readLine();
      if (line.isEmpty()) {
        return Collections.unmodifiableMap(headers);
      }
      if (n >= MAX_HEADERS) {
        throw new IOException("more than " + MAX_HEADERS + " header lines");
      }
      int colon = line.indexOf(':');
      if (colon <= 0) {
        throw new IOException("bad header line: " + abbreviate(line));
      }
      headers.putIfAbsent(line.substring(0, colon).trim(), line.substring(colon + 1).trim());
    }
  }

  private boolean keepAlive(Map<String, String> headers) {
    String connection = headers.get("Connection");
    if (connection == null) {
      return !http10;
    }
    boolean keepAlive = !http10;
    for (String token : connection.split(",")) {
      String t = token.trim();
      if ("close".equalsIgnoreCase(t)) {
        return false;
      }
      if ("keep-alive".equalsIgnoreCase(t)) {
        keepAlive = true;
      }
    }
    return keepAlive;
  }

  private static boolean isChunked(String transferEncoding) {
    String[] codings = transferEncoding.split(",");
    return "chunked".equalsIgnoreCase(codings[codings.length - 1].trim());
  }

  private static int parseLength(String value) throws IOException {
    try {
      long length = Long.parseLong(value.trim());
      if (length < 0 || length > MAX_BODY) {
        throw new IOException("Content-Length out of range: " + value);
      }
      return (int) length;
    } catch (NumberFormatException e) {
      throw new IOException("bad Content-Length: " + abbreviate(value));
    }
  }

  private byte[] readFixed(int length) throws IOException {
    byte[] body = new byte[length];
    readFully(body, 0, length);
    return body;
  }

  private byte[] readChunked() throws IOException {
    byte[] body = new byte[256];
    int size = 0;
    while (true) {
      String line = readLine();
      int semicolon = line.indexOf(';');
      String hex = (semicolon >= 0 ? line.substring(0, semicolon) : line).trim();
      int chunk;
      try {
        chunk = Integer.parseInt(hex, 16);
      } catch (NumberFormatException e) {
        throw new IOException("bad chunk size: " + abbreviate(line));
      }
      if (chunk < 0 || size + (long) chunk > MAX_BODY) {
        throw new IOException("chunked body too large");
      }
      if (chunk == 0) {
        // Trailers, then the empty line.
        while (!readLine().isEmpty()) {
          // ignored
        }
        return size == body.length ? body : Arrays.copyOf(body, size);
      }
      if (size + chunk > body.length) {
        body = Arrays.copyOf(body, Math.max(size + chunk, body.length * 2));
      }
      readFully(body, size, chunk);
      size += chunk;
      if (!readLine().isEmpty()) {
        throw new IOException("chunk not followed by CRLF");
      }
    }
  }

  private byte[] readToEnd() throws IOException {
    byte[] body = new byte[1024];
    int size = 0;
    while (true) {
      if (pos == lim && !fill(false)) {
        return Arrays.copyOf(body, size);
      }
      int n = lim - pos;
      if (size + (long) n > MAX_BODY) {
        throw new IOException("body too large");
      }
      if (size + n > body.length) {
        body = Arrays.copyOf(body, Math.max(size + n, body.length * 2));
      }
      System.arraycopy(buf, pos, body, size, n);
      size += n;
      pos = lim;
    }
  }

  private void readFully(byte[] into, int offset, int length) throws IOException {
    while (length > 0) {
      if (pos == lim) {
        fill(true);
      }
      int n = Math.min(length, lim - pos);
      System.arraycopy(buf, pos, into, offset, n);
      pos += n;
      offset += n;
      length -= n;
    }
  }

  /** A line without its CRLF (a bare LF is accepted too), as Latin-1. */
  private String readLine() throws IOException {
    StringBuilder line = null;
    while (true) {
      if (pos == lim) {
        fill(true);
      }
      int start = pos;
      while (pos < lim && buf[pos] != '\n') {
        pos++;
      }
      boolean found = pos < lim;
      int end = pos;
      if (found) {
        pos++; // the LF
      }
      if (line == null && found) {
        // The common case: the whole line was in the buffer.
        if (end > start && buf[end - 1] == '\r') {
          end--;
        }
        return new String(buf, start, end - start, StandardCharsets.ISO_8859_1);
      }
      if (line == null) {
        line = new StringBuilder(128);
      }
      line.append(new String(buf, start, end - start, StandardCharsets.ISO_8859_1));
      if (line.length() > MAX_LINE) {
        throw new IOException("line longer than " + MAX_LINE + " bytes");
      }
      if (found) {
        int n = line.length();
        if (n > 0 && line.charAt(n - 1) == '\r') {
          line.setLength(n - 1);
        }
        return line.toString();
      }
    }
  }

  /**
   * Reads more bytes into the empty buffer, within what is left of the exchange's timeout. At the
   * end of the stream: false, or {@link EOFException} when {@code required}.
   */
  private boolean fill(boolean required) throws IOException {
    long left = millisLeft();
    if (left <= 0) {
      throw new SocketTimeoutException("no complete answer in time");
    }
    socket.setSoTimeout((int) Math.min(Integer.MAX_VALUE, left));
    int n = in.read(buf, 0, buf.length);
    if (n < 0) {
      if (required) {
        throw new EOFException(
            answerStarted
                ? "connection closed in the middle of the answer"
                : "connection closed before the answer");
      }
      return false;
    }
    answerStarted = true;
    pos = 0;
    lim = n;
    return true;
  }

  private long millisLeft() {
    long nanos = exchangeDeadlineNanos - System.nanoTime();
    return nanos <= 0 ? 0 : Math.max(1, nanos / 1_000_000);
  }

  private static String abbreviate(String text) {
    return text.isEmpty() ? "(empty)" : text.length() > 80 ? text.substring(0, 80) + "..." : text;
  }
}
