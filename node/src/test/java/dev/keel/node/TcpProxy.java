package dev.keel.node;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A TCP forwarder on {@code 127.0.0.1:<port>} to a target, for outage tests: {@link #cut()} closes
 * every current connection and stops listening (new connections are refused, as with a stopped
 * server); {@link #restore()} listens again on the same port. Two copy threads per connection.
 */
final class TcpProxy implements AutoCloseable {

  private final String targetHost;
  private final int targetPort;
  private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
  private final int port;
  private volatile ServerSocket server;
  private volatile boolean closed;

  TcpProxy(String targetHost, int targetPort) throws IOException {
    this.targetHost = targetHost;
    this.targetPort = targetPort;
    ServerSocket s = new ServerSocket();
    s.setReuseAddress(true);
    s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    this.port = s.getLocalPort();
    listen(s);
  }

  int port() {
    return port;
  }

  /** Closes every connection through the proxy and refuses new ones until {@link #restore()}. */
  synchronized void cut() {
    ServerSocket s = server;
    server = null;
    closeQuietly(s);
    for (Socket socket : sockets) closeQuietly(socket);
    sockets.clear();
  }

  /**
   * Listens again on the same port; retries the bind for a few seconds if the port is not free yet.
   */
  synchronized void restore() throws IOException, InterruptedException {
    if (closed || server != null) return;
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (true) {
      ServerSocket s = new ServerSocket();
      s.setReuseAddress(true);
      try {
        s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        listen(s);
        return;
      } catch (IOException e) {
        closeQuietly(s);
        if (System.nanoTime() > deadline)
          throw new IOException("cannot listen again on port " + port + ": " + e.getMessage(), e);
        Thread.sleep(100);
      }
    }
  }

  private void listen(ServerSocket s) {
    server = s;
    Thread acceptor =
        new Thread(
            () -> {
              while (!s.isClosed()) {
                Socket client;
                try {
                  client = s.accept();
                } catch (IOException e) {
                  return; // closed by cut() or close()
                }
                connect(s, client);
              }
            },
            "tcp-proxy-accept-" + port);
    acceptor.setDaemon(true);
    acceptor.start();
  }

  private void connect(ServerSocket acceptedBy, Socket client) {
    Socket upstream = new Socket();
    try {
      client.setTcpNoDelay(true);
      upstream.setTcpNoDelay(true);
      upstream.connect(new InetSocketAddress(targetHost, targetPort), 5_000);
    } catch (IOException e) {
      closeQuietly(client);
      closeQuietly(upstream);
      return;
    }
    synchronized (this) {
      // A connection accepted just before a cut must not survive it.
      if (server != acceptedBy) {
        closeQuietly(client);
        closeQuietly(upstream);
        return;
      }
      sockets.add(client);
      sockets.add(upstream);
    }
    pump(client, upstream, "up");
    pump(upstream, client, "down");
  }

  private void pump(Socket from, Socket to, String direction) {
    Thread t =
        new Thread(
            () -> {
              byte[] buffer = new byte[16 * 1024];
              try (InputStream in = from.getInputStream();
                  OutputStream out = to.getOutputStream()) {
                int n;
                while ((n = in.read(buffer)) >= 0) {
                  out.write(buffer, 0, n);
                  out.flush();
                }
              } catch (SocketException e) {
                // closed by cut(), close() or the other side
              } catch (IOException e) {
                // same
              } finally {
                closeQuietly(from);
                closeQuietly(to);
                sockets.remove(from);
                sockets.remove(to);
              }
            },
            "tcp-proxy-" + direction + "-" + port);
    t.setDaemon(true);
    t.start();
  }

  @Override
  public synchronized void close() {
    closed = true;
    cut();
  }

  private static void closeQuietly(AutoCloseable c) {
    if (c == null) return;
    try {
      c.close();
    } catch (Exception ignored) {
      // nothing to do
    }
  }
}
