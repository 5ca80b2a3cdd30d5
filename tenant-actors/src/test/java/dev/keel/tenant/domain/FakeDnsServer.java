package dev.keel.tenant.domain;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.TXTRecord;
import org.xbill.DNS.Type;

/**
 * A real DNS server on 127.0.0.1 (UDP, a free port) for tests: answers TXT queries from a map the
 * test changes while it runs, NOERROR with no answer for names it is told exist, NXDOMAIN for the
 * rest; and, when told to, answers nothing at all (a server that times out).
 *
 * <pre>{@code
 * try (FakeDnsServer dns = FakeDnsServer.start()) {
 *   dns.putTxt("_keel-challenge.shop.example.com", "token");
 *   ... resolve against dns.address() ...
 * }
 * }</pre>
 */
public final class FakeDnsServer implements AutoCloseable {

  private final DatagramSocket socket;
  private final Thread thread;
  private final Map<String, List<String>> txt = new ConcurrentHashMap<>();
  private final Set<String> existing = ConcurrentHashMap.newKeySet();
  private final AtomicInteger queries = new AtomicInteger();
  private volatile boolean silent;

  private FakeDnsServer(DatagramSocket socket) {
    this.socket = socket;
    this.thread = new Thread(this::serve, "fake-dns-" + socket.getLocalPort());
    this.thread.setDaemon(true);
  }

  public static FakeDnsServer start() throws SocketException {
    FakeDnsServer server =
        new FakeDnsServer(
            new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)));
    server.thread.start();
    return server;
  }

  public InetSocketAddress address() {
    return new InetSocketAddress(InetAddress.getLoopbackAddress(), socket.getLocalPort());
  }

  /** {@code 127.0.0.1:<port>}, as {@code KEEL_DNS_SERVER} takes it. */
  public String hostAndPort() {
    return "127.0.0.1:" + socket.getLocalPort();
  }

  /** {@code name} answers these TXT values from now on. */
  public void putTxt(String name, String... values) {
    txt.put(key(name), List.of(values));
  }

  /** {@code name} exists (NOERROR) but has no TXT record. */
  public void exists(String name) {
    txt.remove(key(name));
    existing.add(key(name));
  }

  public void remove(String name) {
    txt.remove(key(name));
    existing.remove(key(name));
  }

  /** When true, queries get no answer at all. */
  public void silent(boolean silent) {
    this.silent = silent;
  }

  /** Queries received so far (answered or not). */
  public int queries() {
    return queries.get();
  }

  private static String key(String name) {
    String n = name.toLowerCase(Locale.ROOT);
    return n.endsWith(".") ? n : n + ".";
  }

  private void serve() {
    byte[] buffer = new byte[4096];
    while (!socket.isClosed()) {
      DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
      try {
        socket.receive(packet);
      } catch (IOException e) {
        return; // closed
      }
      queries.incrementAndGet();
      if (silent) continue;
      try {
        Message query = new Message(java.util.Arrays.copyOf(packet.getData(), packet.getLength()));
        byte[] answer = answer(query).toWire(512);
        socket.send(new DatagramPacket(answer, answer.length, packet.getSocketAddress()));
      } catch (IOException | RuntimeException e) {
        // A packet that is not a DNS query: ignored, as a real server would.
      }
    }
  }

  private Message answer(Message query) throws IOException {
    Message response = new Message(query.getHeader().getID());
    response.getHeader().setFlag(Flags.QR);
    response.getHeader().setFlag(Flags.AA);
    if (query.getHeader().getFlag(Flags.RD)) {
      response.getHeader().setFlag(Flags.RD);
      response.getHeader().setFlag(Flags.RA);
    }
    Record question = query.getQuestion();
    response.addRecord(question, Section.QUESTION);
    Name name = question.getName();
    String key = name.toString().toLowerCase(Locale.ROOT);
    List<String> values = txt.get(key);
    if (values != null) {
      if (question.getType() == Type.TXT) {
        for (String v : values)
          response.addRecord(new TXTRecord(name, DClass.IN, 60, v), Section.ANSWER);
      }
      response.getHeader().setRcode(Rcode.NOERROR);
    } else if (existing.contains(key)) {
      response.getHeader().setRcode(Rcode.NOERROR);
    } else {
      response.getHeader().setRcode(Rcode.NXDOMAIN);
    }
    return response;
  }

  @Override
  public void close() {
    socket.close();
    try {
      thread.join(2000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
