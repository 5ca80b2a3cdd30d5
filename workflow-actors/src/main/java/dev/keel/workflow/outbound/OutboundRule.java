package dev.keel.workflow.outbound;

import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * Where a request on a tenant's behalf may connect: not to loopback, link-local, private,
 * unique-local, shared (CGNAT), multicast or otherwise reserved addresses, unless the operator
 * lists the address's network or the request's host name in {@value #SETTING}; and never to one of
 * this node's own ports (HTTP, cluster, management) on one of its own addresses, whatever the list
 * says, because those are Keel itself. Requests the operator or the admin chose are not judged
 * here.
 *
 * <pre>{@code
 * OutboundRule rule = OutboundRule.parse("10.20.0.0/16,billing.internal", () -> Set.of(8080, 25520));
 * rule.refusal(InetAddress.getByName("10.20.1.2"), 443);   // empty: allowed
 * rule.refusal(InetAddress.getByName("127.0.0.1"), 9000);  // "127.0.0.1 is a loopback address"
 * }</pre>
 */
public final class OutboundRule {

  /** The environment variable that lists what tenants may reach anyway. */
  public static final String SETTING = "KEEL_OUTBOUND_ALLOW";

  private static final Pattern HOST_NAME =
      Pattern.compile(
          "^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*$");

  private final List<Cidr> allowedNetworks;
  private final Set<String> allowedHosts;
  private final Supplier<Set<Integer>> ownPorts;
  private final Predicate<InetAddress> isOwnAddress;

  OutboundRule(
      List<Cidr> allowedNetworks,
      Set<String> allowedHosts,
      Supplier<Set<Integer>> ownPorts,
      Predicate<InetAddress> isOwnAddress) {
    this.allowedNetworks = List.copyOf(allowedNetworks);
    this.allowedHosts = Set.copyOf(allowedHosts);
    this.ownPorts = ownPorts;
    this.isOwnAddress = isOwnAddress;
  }

  /**
   * The rule for {@code allow}: comma-separated CIDRs ({@code 10.0.0.0/8}, {@code fd00::/8}),
   * single addresses and host names. {@code ownPorts} is read at each check, as the node learns its
   * ports only once bound. Throws {@link IllegalArgumentException} naming the first bad entry.
   */
  public static OutboundRule parse(String allow, Supplier<Set<Integer>> ownPorts) {
    List<Cidr> networks = new ArrayList<>();
    List<String> hosts = new ArrayList<>();
    for (String raw : (allow == null ? "" : allow).split(",")) {
      String entry = raw.strip().toLowerCase(Locale.ROOT);
      if (entry.isEmpty()) continue;
      if (entry.contains("/") || entry.contains(":") || HostAddresses.looksNumeric(entry)) {
        networks.add(Cidr.parse(entry));
      } else if (HOST_NAME.matcher(trimDot(entry)).matches()) {
        hosts.add(trimDot(entry));
      } else {
        throw new IllegalArgumentException(
            "'" + raw.strip() + "' is neither a CIDR such as 10.0.0.0/8 nor a host name");
      }
    }
    return new OutboundRule(networks, Set.copyOf(hosts), ownPorts, OutboundRule::isOwnAddress);
  }

  /**
   * Whether the operator allowed {@code host} by name: then its addresses are not judged, only the
   * node's own ports.
   */
  public boolean allowsHost(String host) {
    return allowedHosts.contains(trimDot(host.toLowerCase(Locale.ROOT)));
  }

  /** Why a tenant's request may not connect to {@code address}:{@code port}; empty when it may. */
  public Optional<String> refusal(InetAddress address, int port) {
    Optional<String> own = ownPortRefusal(address, port);
    if (own.isPresent()) return own;
    if (allowedNetworks.stream().anyMatch(n -> n.contains(address))) return Optional.empty();
    return AddressKind.forbidden(address).map(kind -> address.getHostAddress() + " is " + kind);
  }

  /** Why {@code address}:{@code port} is refused even for a host the operator allowed by name. */
  public Optional<String> ownPortRefusal(InetAddress address, int port) {
    if (ownPorts.get().contains(port) && isOwnAddress.test(address)) {
      return Optional.of(
          address.getHostAddress() + ":" + port + " is one of this node's own ports");
    }
    return Optional.empty();
  }

  /**
   * Why a URL whose host is {@code host} can never be reached by a tenant, judged from the text
   * alone (an address literal in any form, or a {@code localhost} name), without asking DNS: for
   * refusing a start at once. Empty when only the connection can tell.
   */
  public Optional<String> refusalOfLiteral(String host, int port) {
    if (host == null || allowsHost(host)) return Optional.empty();
    try {
      Optional<List<InetAddress>> literal = HostAddresses.literal(host);
      if (literal.isEmpty()) return Optional.empty();
      for (InetAddress address : literal.get()) {
        Optional<String> refusal = refusal(address, port);
        if (refusal.isPresent()) return refusal;
      }
      return Optional.empty();
    } catch (UnknownHostException e) {
      return Optional.of(e.getMessage());
    }
  }

  private static boolean isOwnAddress(InetAddress address) {
    if (address.isAnyLocalAddress() || address.isLoopbackAddress()) return true;
    try {
      return NetworkInterface.getByInetAddress(address) != null;
    } catch (SocketException e) {
      // Cannot tell: count it as ours, the safe side for a tenant's request.
      return true;
    }
  }

  private static String trimDot(String host) {
    return host.endsWith(".") ? host.substring(0, host.length() - 1) : host;
  }
}
