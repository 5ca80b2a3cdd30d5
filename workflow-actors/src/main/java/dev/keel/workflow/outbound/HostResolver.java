package dev.keel.workflow.outbound;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;

/**
 * Host name to addresses: the system's resolver, or a fixed one in tests. Outbound requests on a
 * tenant's behalf resolve through this once per connection and connect only to addresses it
 * answered and the {@link OutboundRule} accepted.
 */
@FunctionalInterface
public interface HostResolver {

  /** The system's resolver ({@code /etc/hosts}, then DNS). */
  HostResolver SYSTEM = host -> List.of(InetAddress.getAllByName(host));

  /** Every address of {@code host}; throws {@link UnknownHostException} when there is none. */
  List<InetAddress> resolve(String host) throws UnknownHostException;
}
