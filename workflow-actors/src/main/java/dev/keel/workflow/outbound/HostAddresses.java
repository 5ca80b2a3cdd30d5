package dev.keel.workflow.outbound;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The addresses a URL's host names, read the way C resolvers and curl read them: besides dotted
 * quads and IPv6, the numeric forms of {@code inet_aton} ({@code 2130706433}, {@code 0x7f000001},
 * {@code 0177.0.0.1}, {@code 127.1}) are addresses, not names, so that no reading of the host
 * reaches somewhere the check did not see. {@code localhost} names are loopback (RFC 6761).
 */
final class HostAddresses {

  /** One to four parts, each decimal, octal (leading 0) or hexadecimal (0x). */
  private static final Pattern NUMERIC =
      Pattern.compile("^(0x[0-9a-f]*|[0-9]+)(\\.(0x[0-9a-f]*|[0-9]+)){0,3}\\.?$");

  private static final Pattern DOTTED_QUAD =
      Pattern.compile("^(0|[1-9][0-9]{0,2})(\\.(0|[1-9][0-9]{0,2})){3}$");
  private static final Pattern IPV6_TEXT = Pattern.compile("^[0-9a-f:][0-9a-f:.]*$");
  private static final int MAX_PART_DIGITS = 12;

  private HostAddresses() {}

  /**
   * Every address {@code host} stands for: its literal reading, else what {@code resolver} answers.
   */
  static List<InetAddress> resolve(String host, HostResolver resolver) throws UnknownHostException {
    Optional<List<InetAddress>> literal = literal(host);
    if (literal.isPresent()) return literal.get();
    List<InetAddress> resolved = resolver.resolve(host);
    if (resolved == null || resolved.isEmpty())
      throw new UnknownHostException(host + " has no address");
    return List.copyOf(resolved);
  }

  static boolean looksNumeric(String host) {
    return NUMERIC.matcher(host.toLowerCase(Locale.ROOT)).matches();
  }

  /**
   * The addresses {@code host} is by its text alone (an IPv6 literal with or without brackets, a
   * numeric IPv4 form, a localhost name), or empty when only DNS can tell. Throws {@link
   * UnknownHostException} for a literal that is no valid address.
   */
  static Optional<List<InetAddress>> literal(String host) throws UnknownHostException {
    String h = host.toLowerCase(Locale.ROOT);
    if (h.startsWith("[") && h.endsWith("]")) h = h.substring(1, h.length() - 1);
    if (h.contains(":")) return Optional.of(List.of(ipv6(h)));
    if (looksNumeric(h)) return Optional.of(List.of(inetAton(h)));
    String name = h.endsWith(".") ? h.substring(0, h.length() - 1) : h;
    if (name.equals("localhost") || name.endsWith(".localhost")) {
      return Optional.of(
          List.of(
              InetAddress.getByAddress(name, new byte[] {127, 0, 0, 1}),
              InetAddress.getByAddress(
                  name, new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1})));
    }
    return Optional.empty();
  }

  /** Only the unambiguous forms, a dotted quad or IPv6, for the operator's own list. */
  static Optional<List<InetAddress>> strictLiteral(String text) throws UnknownHostException {
    String t = text.toLowerCase(Locale.ROOT);
    if (t.contains(":")) return Optional.of(List.of(ipv6(t)));
    if (DOTTED_QUAD.matcher(t).matches()) return Optional.of(List.of(inetAton(t)));
    return Optional.empty();
  }

  private static InetAddress ipv6(String text) throws UnknownHostException {
    // Only hex digits, colons and dots: then the JDK parses it as a literal and never asks DNS.
    if (!IPV6_TEXT.matcher(text).matches())
      throw new UnknownHostException("'" + text + "' is not a valid IPv6 address");
    try {
      return InetAddress.getByName("[" + text + "]");
    } catch (UnknownHostException e) {
      throw new UnknownHostException("'" + text + "' is not a valid IPv6 address");
    }
  }

  /** The IPv4 address of a numeric host as {@code inet_aton} reads it. */
  static InetAddress inetAton(String text) throws UnknownHostException {
    String t = text.endsWith(".") ? text.substring(0, text.length() - 1) : text;
    String[] parts = t.split("\\.", -1);
    long[] values = new long[parts.length];
    for (int i = 0; i < parts.length; i++) {
      values[i] = part(parts[i], text);
    }
    long address = 0;
    for (int i = 0; i < parts.length - 1; i++) {
      if (values[i] > 0xff) throw invalid(text);
      address |= values[i] << (8 * (3 - i));
    }
    long last = values[parts.length - 1];
    int lastBytes = 4 - (parts.length - 1);
    if (last >= (1L << (8 * lastBytes))) throw invalid(text);
    address |= last;
    byte[] bytes = {
      (byte) (address >>> 24), (byte) (address >>> 16), (byte) (address >>> 8), (byte) address
    };
    return InetAddress.getByAddress(bytes);
  }

  private static long part(String part, String text) throws UnknownHostException {
    String digits;
    int radix;
    if (part.startsWith("0x")) {
      digits = part.substring(2);
      radix = 16;
    } else if (part.length() > 1 && part.startsWith("0")) {
      digits = part.substring(1);
      radix = 8;
    } else {
      digits = part;
      radix = 10;
    }
    if (digits.isEmpty()) return 0;
    if (digits.length() > MAX_PART_DIGITS) throw invalid(text);
    try {
      return Long.parseLong(digits, radix);
    } catch (NumberFormatException e) {
      throw invalid(text);
    }
  }

  private static UnknownHostException invalid(String text) {
    return new UnknownHostException("'" + text + "' is not a valid IPv4 address");
  }
}
