package dev.keel.workflow.outbound;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.Optional;

/**
 * The special-purpose address ranges (RFC 6890 and successors) that a tenant's request may not
 * reach.
 */
final class AddressKind {

  private AddressKind() {}

  /**
   * What {@code address} is when a tenant may not reach it ("a loopback address"), or empty for a
   * public one.
   */
  static Optional<String> forbidden(InetAddress address) {
    byte[] b = address.getAddress();
    return b.length == 4 ? ipv4(b) : ipv6(b);
  }

  private static Optional<String> ipv4(byte[] b) {
    int a0 = b[0] & 0xff;
    int a1 = b[1] & 0xff;
    int a2 = b[2] & 0xff;
    if (a0 == 0) return Optional.of("an unspecified ('this network') address");
    if (a0 == 127) return Optional.of("a loopback address");
    if (a0 == 10 || (a0 == 172 && (a1 & 0xf0) == 16) || (a0 == 192 && a1 == 168))
      return Optional.of("a private address");
    if (a0 == 100 && (a1 & 0xc0) == 64) return Optional.of("a shared (carrier-grade NAT) address");
    if (a0 == 169 && a1 == 254) return Optional.of("a link-local address");
    if (a0 == 192 && a1 == 0 && a2 == 0) return Optional.of("a reserved (IETF protocol) address");
    if (a0 == 198 && (a1 & 0xfe) == 18) return Optional.of("a reserved (benchmarking) address");
    if (a0 >= 224 && a0 < 240) return Optional.of("a multicast address");
    if (a0 >= 240) return Optional.of("a reserved address");
    return Optional.empty();
  }

  private static Optional<String> ipv6(byte[] b) {
    int w0 = ((b[0] & 0xff) << 8) | (b[1] & 0xff);
    if (allZero(b, 0, 15)) {
      if (b[15] == 0) return Optional.of("an unspecified address");
      if (b[15] == 1) return Optional.of("a loopback address");
    }
    // IPv4 inside IPv6: mapped (::ffff:a.b.c.d), compatible (::a.b.c.d), NAT64 (64:ff9b::a.b.c.d)
    // and 6to4 (2002:aabb:ccdd::) reach the IPv4 address they carry, so they are judged as that
    // one.
    boolean mapped = allZero(b, 0, 10) && (b[10] & 0xff) == 0xff && (b[11] & 0xff) == 0xff;
    boolean compatible = allZero(b, 0, 12);
    boolean nat64 =
        w0 == 0x64 && (b[2] & 0xff) == 0xff && (b[3] & 0xff) == 0x9b && allZero(b, 4, 12);
    if (mapped || compatible || nat64) return embedded(Arrays.copyOfRange(b, 12, 16));
    if (w0 == 0x2002) return embedded(Arrays.copyOfRange(b, 2, 6));
    if (w0 == 0x64 && (b[2] & 0xff) == 0xff && (b[3] & 0xff) == 0x9b)
      return Optional.of("a local-use NAT64 address");
    if ((b[0] & 0xfe) == 0xfc) return Optional.of("a unique-local address");
    if ((b[0] & 0xff) == 0xfe && (b[1] & 0xc0) == 0x80) return Optional.of("a link-local address");
    if ((b[0] & 0xff) == 0xfe && (b[1] & 0xc0) == 0xc0) return Optional.of("a site-local address");
    if ((b[0] & 0xff) == 0xff) return Optional.of("a multicast address");
    if (w0 == 0x0100 && allZero(b, 2, 8)) return Optional.of("a discard-only address");
    return Optional.empty();
  }

  private static Optional<String> embedded(byte[] v4) {
    try {
      String dotted = InetAddress.getByAddress(v4).getHostAddress();
      return ipv4(v4).map(kind -> kind + " (IPv4 " + dotted + ")");
    } catch (UnknownHostException e) {
      throw new IllegalStateException("four bytes are always an IPv4 address", e);
    }
  }

  private static boolean allZero(byte[] b, int from, int to) {
    for (int i = from; i < to; i++) {
      if (b[i] != 0) return false;
    }
    return true;
  }
}
