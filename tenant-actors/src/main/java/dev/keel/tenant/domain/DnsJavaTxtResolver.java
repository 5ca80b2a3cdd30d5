package dev.keel.tenant.domain;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.TXTRecord;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;

/**
 * Real TXT lookups with dnsjava, asynchronous (dnsjava's own non-blocking UDP client, TCP when an
 * answer is truncated), against one name server: the one in {@code keel.tenants.dns-server} ({@code
 * KEEL_DNS_SERVER}, {@code host:port}) or else the system's first one ({@code /etc/resolv.conf} and
 * the like). The query asks for recursion, so the server must be a recursive resolver or the
 * authority of the names asked.
 */
public final class DnsJavaTxtResolver implements DnsTxtResolver {

  private static final Logger log = LoggerFactory.getLogger(DnsJavaTxtResolver.class);

  private final SimpleResolver resolver;
  private final Duration timeout;
  private final Executor executor;
  private final String server;

  private DnsJavaTxtResolver(
      SimpleResolver resolver, Duration timeout, Executor executor, String server) {
    this.resolver = resolver;
    this.timeout = timeout;
    this.executor = executor;
    this.server = server;
  }

  /**
   * @param server {@code host:port} of the name server, or empty for the system's
   * @param executor runs the completion of each lookup (never blocks)
   * @throws IllegalArgumentException when {@code server} does not resolve or no system server is
   *     known
   */
  public static DnsJavaTxtResolver create(
      Optional<InetSocketAddress> server, Duration timeout, Executor executor) {
    SimpleResolver resolver;
    String described;
    if (server.isPresent()) {
      InetSocketAddress address = server.get();
      if (address.isUnresolved()) {
        throw new IllegalArgumentException(
            "the DNS server '" + address.getHostString() + "' does not resolve");
      }
      resolver = new SimpleResolver(address);
      described = address.getHostString() + ":" + address.getPort();
    } else {
      try {
        resolver =
            new SimpleResolver(); // the system's first name server (dnsjava's ResolverConfig)
      } catch (UnknownHostException e) {
        throw new IllegalArgumentException("no system DNS server is known: " + e.getMessage(), e);
      }
      described = resolver.getAddress().getHostString() + ":" + resolver.getAddress().getPort();
    }
    resolver.setTimeout(timeout);
    log.info("dns resolver server={} timeout={}", described, timeout);
    return new DnsJavaTxtResolver(resolver, timeout, executor, described);
  }

  /** {@code host:port} of the name server asked. */
  public String server() {
    return server;
  }

  @Override
  public CompletionStage<TxtAnswer> txt(String name) {
    Name qname;
    try {
      qname = Name.fromString(name.endsWith(".") ? name : name + ".");
    } catch (TextParseException e) {
      return CompletableFuture.completedFuture(
          new LookupFailed("'" + name + "' is not a DNS name"));
    }
    Message query = Message.newQuery(Record.newRecord(qname, Type.TXT, DClass.IN));
    CompletionStage<Message> sent;
    try {
      sent = resolver.sendAsync(query, executor);
    } catch (RuntimeException e) {
      return CompletableFuture.completedFuture(new LookupFailed(describe(e)));
    }
    return sent.handle(
        (response, failure) -> failure == null ? answer(qname, response) : failed(failure));
  }

  private static TxtAnswer answer(Name qname, Message response) {
    int rcode = response.getRcode();
    if (rcode == Rcode.NXDOMAIN) return new NoSuchName();
    if (rcode != Rcode.NOERROR)
      return new LookupFailed("the DNS server answered " + Rcode.string(rcode));
    List<String> values = new ArrayList<>();
    for (Record r : response.getSection(Section.ANSWER)) {
      // A CNAME chain may come first; any TXT in the answer is the name's (through its aliases).
      if (r instanceof TXTRecord txt) values.add(String.join("", txt.getStrings()));
    }
    return values.isEmpty() ? new NoRecords() : new Records(values);
  }

  private TxtAnswer failed(Throwable failure) {
    Throwable t = failure;
    while (t instanceof CompletionException && t.getCause() != null) t = t.getCause();
    if (t instanceof TimeoutException || t instanceof SocketTimeoutException)
      return new TimedOut(timeout);
    return new LookupFailed(describe(t));
  }

  private static String describe(Throwable t) {
    String message = t.getMessage();
    String what = t instanceof IOException ? "network error" : t.getClass().getSimpleName();
    return "DNS lookup failed ("
        + what
        + (message == null || message.isBlank() ? "" : ": " + message)
        + ")";
  }
}
