package dev.keel.workflow.outbound;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;

/** A network written as {@code address/prefix} (or a single address), IPv4 or IPv6. */
record Cidr(byte[] network, int prefix) {

  /**
   * Parses {@code 10.0.0.0/8}, {@code fd00::/8}, {@code 192.0.2.7}; host bits after the prefix are
   * ignored.
   */
  static Cidr parse(String text) {
    int slash = text.indexOf('/');
    String addressText = slash < 0 ? text : text.substring(0, slash);
    InetAddress address;
    try {
      List<InetAddress> literal =
          HostAddresses.strictLiteral(addressText)
              .orElseThrow(() -> new UnknownHostException(addressText));
      address = literal.get(0);
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException(
          "'" + text + "' is not a CIDR: write the address as a dotted quad or in IPv6 form");
    }
    byte[] bytes = address.getAddress();
    int max = bytes.length * 8;
    int prefix = max;
    if (slash >= 0) {
      String prefixText = text.substring(slash + 1);
      if (!prefixText.matches("\\d{1,3}") || Integer.parseInt(prefixText) > max) {
        throw new IllegalArgumentException(
            "'" + text + "' is not a CIDR: the prefix must be 0 to " + max);
      }
      prefix = Integer.parseInt(prefixText);
    }
    return new Cidr(bytes, prefix);
  }

  boolean contains(InetAddress address) {
    byte[] bytes = address.getAddress();
    if (bytes.length != network.length) return false;
    int full = prefix / 8;
    for (int i = 0; i < full; i++) {
      if (bytes[i] != network[i]) return false;
    }
    int rest = prefix % 8;
    if (rest == 0) return true;
    int mask = (0xff << (8 - rest)) & 0xff;
    return (bytes[full] & mask) == (network[full] & mask);
  }
}
