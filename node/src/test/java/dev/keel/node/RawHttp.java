package dev.keel.node;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * HTTP/1.1 over a plain socket, byte for byte as given: what {@code java.net.http} refuses to send
 * (dot segments, raw control bytes, unknown methods, malformed headers, wrong versions) is exactly
 * what hostile-input tests need. One request per connection ({@code Connection: close}).
 */
public final class RawHttp {

  /** An answer: status, headers in order (names lower-cased) and the body as UTF-8 text. */
  public record Answer(int status, List<String[]> headers, String body) {
    public Optional<String> header(String name) {
      String lower = name.toLowerCase(Locale.ROOT);
      return headers.stream().filter(h -> h[0].equals(lower)).map(h -> h[1]).findFirst();
    }
  }

  private RawHttp() {}

  /**
   * A request with {@code Host}, {@code Connection: close}, the admin {@code token} (when not null)
   * and {@code body} with its {@code Content-Length}. The request line and headers are written as
   * ISO-8859-1, so a character up to U+00FF is one raw byte on the wire.
   */
  public static byte[] request(
      String method,
      String target,
      String token,
      String contentType,
      byte[] body,
      String... headers) {
    StringBuilder head = new StringBuilder();
    head.append(method).append(' ').append(target).append(" HTTP/1.1\r\n");
    head.append("Host: 127.0.0.1\r\nConnection: close\r\n");
    if (token != null) head.append("Authorization: Bearer ").append(token).append("\r\n");
    for (String h : headers) head.append(h).append("\r\n");
    if (body != null) {
      if (contentType != null) head.append("Content-Type: ").append(contentType).append("\r\n");
      head.append("Content-Length: ").append(body.length).append("\r\n");
    }
    head.append("\r\n");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(head.toString().getBytes(StandardCharsets.ISO_8859_1));
    if (body != null) out.writeBytes(body);
    return out.toByteArray();
  }

  /** Sends {@code bytes} to 127.0.0.1:{@code port} and reads the answer until the server closes. */
  public static Answer send(int port, byte[] bytes) throws IOException {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
      socket.setSoTimeout(30_000);
      OutputStream out = socket.getOutputStream();
      out.write(bytes);
      out.flush();
      socket.shutdownOutput();
      return parse(readAll(socket.getInputStream()));
    }
  }

  private static byte[] readAll(InputStream in) throws IOException {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    byte[] buffer = new byte[8192];
    try {
      for (int n; (n = in.read(buffer)) >= 0; ) all.write(buffer, 0, n);
    } catch (java.net.SocketException reset) {
      // The server may reset after answering a request it refused; what arrived is the answer.
      if (all.size() == 0) throw reset;
    }
    return all.toByteArray();
  }

  private static Answer parse(byte[] raw) throws IOException {
    String text = new String(raw, StandardCharsets.ISO_8859_1);
    int end = text.indexOf("\r\n\r\n");
    if (end < 0) throw new IOException("no complete answer: " + text);
    String[] lines = text.substring(0, end).split("\r\n");
    String[] statusLine = lines[0].split(" ", 3);
    List<String[]> headers = new ArrayList<>();
    boolean chunked = false;
    for (int i = 1; i < lines.length; i++) {
      int colon = lines[i].indexOf(':');
      String name = lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT);
      String value = lines[i].substring(colon + 1).trim();
      headers.add(new String[] {name, value});
      chunked |= name.equals("transfer-encoding") && value.equalsIgnoreCase("chunked");
    }
    byte[] body = java.util.Arrays.copyOfRange(raw, end + 4, raw.length);
    if (chunked) body = dechunk(body);
    return new Answer(
        Integer.parseInt(statusLine[1]), headers, new String(body, StandardCharsets.UTF_8));
  }

  private static byte[] dechunk(byte[] body) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int i = 0;
    while (i < body.length) {
      int lineEnd = i;
      while (lineEnd + 1 < body.length && !(body[lineEnd] == '\r' && body[lineEnd + 1] == '\n'))
        lineEnd++;
      String sizeText =
          new String(body, i, lineEnd - i, StandardCharsets.ISO_8859_1).split(";")[0].trim();
      int size = sizeText.isEmpty() ? 0 : Integer.parseInt(sizeText, 16);
      if (size == 0) break;
      int start = lineEnd + 2;
      out.write(body, start, Math.min(size, body.length - start));
      i = start + size + 2;
    }
    return out.toByteArray();
  }
}
