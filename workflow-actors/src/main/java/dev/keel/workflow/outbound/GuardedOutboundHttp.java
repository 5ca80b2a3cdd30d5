package dev.keel.workflow.outbound;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Proxy;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.apache.hc.client5.http.ConnectTimeoutException;
import org.apache.hc.client5.http.DnsResolver;
import org.apache.hc.client5.http.SchemePortResolver;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.DefaultRedirectStrategy;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.DefaultHttpClientConnectionOperator;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.client5.http.io.HttpClientConnectionOperator;
import org.apache.hc.client5.http.protocol.HttpClientContext;
import org.apache.hc.client5.http.ssl.DefaultClientTlsStrategy;
import org.apache.hc.client5.http.ssl.TlsSocketStrategy;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpRequest;
import org.apache.hc.core5.http.HttpResponse;
import org.apache.hc.core5.http.ProtocolException;
import org.apache.hc.core5.http.URIScheme;
import org.apache.hc.core5.http.config.RegistryBuilder;
import org.apache.hc.core5.http.io.entity.ByteArrayEntity;
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.apache.hc.core5.http.io.support.ClassicRequestBuilder;
import org.apache.hc.core5.http.protocol.HttpContext;
import org.apache.hc.core5.util.TimeValue;
import org.apache.hc.core5.util.Timeout;

/**
 * {@link OutboundHttp} that holds a tenant's requests to {@link OutboundRule} and hands the
 * operator's and the admin's to {@code operatorHttp} unchanged.
 *
 * <p>A tenant's request goes through Apache HttpClient, because the JDK client has no hook between
 * resolving a host and connecting to it. Two checks guard it: the client's {@link DnsResolver} is
 * Keel's, which resolves the host once per connection (numeric forms such as {@code 0x7f000001}
 * read as addresses), refuses the host when any of its addresses is forbidden, and hands the client
 * only the checked addresses to connect to; and every socket checks the address it is about to
 * connect to, so that no path through the client (a redirect, a retry of another address) reaches
 * an address the rule refuses. DNS cannot rebind around this: the address checked is the address
 * connected to. TLS still names and verifies the URL's host (SNI and the certificate's names), as
 * the TLS layer is given the host name while the TCP socket is pinned to the checked address.
 * Redirects are followed (at most {@value #MAX_REDIRECTS}, never from https to http), each new
 * connection checked the same way.
 */
public final class GuardedOutboundHttp implements OutboundHttp, AutoCloseable {

  static final int MAX_REDIRECTS = 5;

  /**
   * Step bodies run on up to 1,024 threads per node; the pool should not be what makes them wait.
   */
  private static final int MAX_CONNECTIONS = 1024;

  private static final int MAX_CONNECTIONS_PER_HOST = 256;

  private final OutboundHttp operatorHttp;
  private final OutboundRule rule;
  private final HostResolver resolver;
  private final CloseableHttpClient client;

  /**
   * Addresses of hosts the operator allowed by name, resolved for the request this thread is
   * sending: the socket check lets them through. HttpClient's classic API connects on the calling
   * thread, so the set lives exactly as long as one {@link #send}.
   */
  private final ThreadLocal<Set<InetAddress>> allowedByName = ThreadLocal.withInitial(HashSet::new);

  /**
   * @param operatorHttp sends the operator's and the admin's requests, as before
   * @param connectTimeout how long a tenant's request may take to connect
   * @param connectionLifetime how long a connection is kept for reuse at most
   */
  public GuardedOutboundHttp(
      OutboundHttp operatorHttp,
      OutboundRule rule,
      HostResolver resolver,
      Duration connectTimeout,
      Duration connectionLifetime) {
    this.operatorHttp = Objects.requireNonNull(operatorHttp, "operatorHttp");
    this.rule = Objects.requireNonNull(rule, "rule");
    this.resolver = Objects.requireNonNull(resolver, "resolver");
    TlsSocketStrategy tls = DefaultClientTlsStrategy.createSystemDefault();
    PoolingHttpClientConnectionManagerBuilder connections =
        new PoolingHttpClientConnectionManagerBuilder() {
          @Override
          protected HttpClientConnectionOperator createConnectionOperator(
              SchemePortResolver ports, DnsResolver dns, TlsSocketStrategy tlsStrategy) {
            return new DefaultHttpClientConnectionOperator(
                GuardedOutboundHttp.this::checkedSocket,
                ports,
                dns,
                RegistryBuilder.<TlsSocketStrategy>create()
                    .register(URIScheme.HTTPS.id, tlsStrategy)
                    .build());
          }
        };
    this.client =
        HttpClients.custom()
            .setConnectionManager(
                connections
                    .setDnsResolver(new CheckingDnsResolver())
                    .setTlsSocketStrategy(tls)
                    .setMaxConnTotal(MAX_CONNECTIONS)
                    .setMaxConnPerRoute(MAX_CONNECTIONS_PER_HOST)
                    .setDefaultConnectionConfig(
                        ConnectionConfig.custom()
                            .setConnectTimeout(Timeout.of(connectTimeout))
                            .setTimeToLive(TimeValue.of(connectionLifetime))
                            .build())
                    .build())
            .setRedirectStrategy(new NoDowngradeRedirects())
            // As the JDK client: no retries of its own (the workflow step retries), no cookies, the
            // body as sent.
            .disableAutomaticRetries()
            .disableCookieManagement()
            .disableContentCompression()
            .disableAuthCaching()
            .setUserAgent("Keel")
            .build();
  }

  @Override
  public Optional<String> refusalOf(URI url, Requester requester) {
    if (requester == Requester.OPERATOR || url.getHost() == null) return Optional.empty();
    return rule.refusalOfLiteral(url.getHost(), port(url));
  }

  @Override
  public Response send(Request request) throws IOException {
    request = request.inCurrentSpan();
    if (request.requester() == Requester.OPERATOR) return operatorHttp.send(request);
    ClassicRequestBuilder builder =
        ClassicRequestBuilder.create(request.method()).setUri(request.url());
    request.headers().forEach(builder::addHeader);
    if (request.body() != null) builder.setEntity(new ByteArrayEntity(request.body(), null));
    HttpClientContext context = HttpClientContext.create();
    Timeout timeout = Timeout.of(request.timeout());
    context.setRequestConfig(
        RequestConfig.custom()
            .setResponseTimeout(timeout)
            .setConnectionRequestTimeout(timeout)
            .setRedirectsEnabled(true)
            .setMaxRedirects(MAX_REDIRECTS)
            .build());
    try {
      return client.execute(builder.build(), context, GuardedOutboundHttp::read);
    } catch (Refused refused) {
      throw refused.reason;
    } catch (ConnectTimeoutException e) {
      throw new HttpConnectTimeoutException("connecting timed out");
    } catch (SocketTimeoutException e) {
      throw new HttpTimeoutException("no answer within " + request.timeout().toSeconds() + " s");
    } catch (InterruptedIOException e) {
      throw e;
    } finally {
      allowedByName.remove();
    }
  }

  private static Response read(ClassicHttpResponse response) throws IOException {
    Map<String, List<String>> headers = new LinkedHashMap<>();
    for (Header header : response.getHeaders()) {
      headers.computeIfAbsent(header.getName(), k -> new ArrayList<>()).add(header.getValue());
    }
    byte[] body =
        response.getEntity() == null ? new byte[0] : EntityUtils.toByteArray(response.getEntity());
    return new Response(response.getCode(), headers, body);
  }

  @Override
  public void close() throws IOException {
    client.close();
  }

  /**
   * The socket of every connection: it checks the address it is asked to connect to before
   * connecting.
   */
  private Socket checkedSocket(Proxy proxy) {
    return new Socket() {
      @Override
      public void connect(SocketAddress endpoint, int timeout) throws IOException {
        if (!(endpoint instanceof InetSocketAddress target) || target.getAddress() == null) {
          throw new Refused(
              new OutboundRefusedException("an unresolved address may not be connected to"));
        }
        InetAddress address = target.getAddress();
        Optional<String> refusal =
            allowedByName.get().contains(address)
                ? rule.ownPortRefusal(address, target.getPort())
                : rule.refusal(address, target.getPort());
        if (refusal.isPresent()) throw new Refused(refusedBecause(refusal.get()));
        super.connect(endpoint, timeout);
      }
    };
  }

  private static OutboundRefusedException refusedBecause(String reason) {
    return new OutboundRefusedException(
        reason
            + ", which requests on a tenant's behalf may not reach"
            + " (the operator may allow it with "
            + OutboundRule.SETTING
            + ")");
  }

  private static int port(URI url) {
    if (url.getPort() != -1) return url.getPort();
    return "https".equalsIgnoreCase(url.getScheme()) ? 443 : 80;
  }

  /** Resolves once per connection and refuses a host with any forbidden address. */
  private final class CheckingDnsResolver implements DnsResolver {

    @Override
    public InetAddress[] resolve(String host) throws UnknownHostException {
      // Only called without a port by code paths Keel does not use; the port is judged at connect.
      return checked(host, -1).toArray(InetAddress[]::new);
    }

    @Override
    public List<InetSocketAddress> resolve(String host, int port) throws UnknownHostException {
      return checked(host, port).stream().map(a -> new InetSocketAddress(a, port)).toList();
    }

    private List<InetAddress> checked(String host, int port) throws UnknownHostException {
      List<InetAddress> addresses = HostAddresses.resolve(host, resolver);
      boolean byName = rule.allowsHost(host);
      for (InetAddress address : addresses) {
        Optional<String> refusal =
            byName
                ? (port < 0 ? Optional.empty() : rule.ownPortRefusal(address, port))
                : rule.refusal(address, Math.max(port, 0));
        if (refusal.isPresent()) {
          String name = address.getHostAddress().equals(host) ? "" : host + ": ";
          throw new Refused(refusedBecause(name + refusal.get()));
        }
      }
      if (byName) allowedByName.get().addAll(addresses);
      return addresses;
    }

    @Override
    public String resolveCanonicalHostname(String host) {
      return host;
    }
  }

  /** Follows redirects as the JDK client's NORMAL policy does: never from https to http. */
  private static final class NoDowngradeRedirects extends DefaultRedirectStrategy {
    @Override
    public boolean isRedirected(HttpRequest request, HttpResponse response, HttpContext context)
        throws ProtocolException {
      if (!super.isRedirected(request, response, context)) return false;
      Header location = response.getFirstHeader("Location");
      boolean fromHttps = "https".equalsIgnoreCase(request.getScheme());
      return !(fromHttps
          && location != null
          && location.getValue().regionMatches(true, 0, "http:", 0, 5));
    }
  }

  /**
   * Carries a refusal through HttpClient, which would otherwise try the next address on an
   * IOException.
   */
  private static final class Refused extends RuntimeException {
    private final OutboundRefusedException reason;

    Refused(OutboundRefusedException reason) {
      super(reason.getMessage(), null, false, false);
      this.reason = reason;
    }
  }
}
