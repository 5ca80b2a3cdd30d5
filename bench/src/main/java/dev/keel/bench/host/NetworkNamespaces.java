package dev.keel.bench.host;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Hosts of a program's own on one machine: a Linux bridge in the root network namespace and one
 * network namespace per host, joined to the bridge by a veth pair, each with its own address in
 * {@code 10.77.<n>.0/24} (the root namespace, where the caller runs, is {@code .1}; hosts are
 * {@code .11}, {@code .12}, ...). A process started with {@link #inside} sees only its host's
 * network, so the nodes of a cluster meet real partitions rather than process kills.
 *
 * <p>{@link #cut} partitions two hosts both ways and {@link #heal} ends it. A cut is a permanent
 * neighbour (ARP) entry pointing the other's address at a MAC address nobody has, on both sides:
 * packets leave and are dropped silently by every receiver, as on a broken link, and open TCP
 * connections stall and resume after the heal rather than fail at once. This needs no netfilter or
 * tc action modules, which containers often lack.
 *
 * <p>Used by the fault tests and by {@code ScaleBench}. Names carry the creating JVM's pid ({@code
 * keelit-<pid>-<host>}, bridge {@code kib<pid>}), so that {@link #create} first removes what an
 * earlier run that died left behind (its pid no longer alive), processes inside those namespaces
 * included. {@link #close()} kills every process inside this run's namespaces and deletes them and
 * the bridge; a shutdown hook does the same should the JVM be stopped first.
 */
public final class NetworkNamespaces implements AutoCloseable {

  private static final String PREFIX = "keelit-";
  private static final Pattern STALE_NAMESPACE = Pattern.compile("^" + PREFIX + "(\\d+)-\\S+");
  private static final Pattern STALE_LINK = Pattern.compile("^\\d+: (ki[bv](\\d+)(?:-\\d+)?)[@:]");
  private static final String NOBODY_MAC = "02:00:00:00:00:01";
  private static final Duration COMMAND_DEADLINE = Duration.ofSeconds(30);

  private final long pid = ProcessHandle.current().pid();
  private final String bridge = "kib" + pid;
  private final int subnet;
  private final Map<String, Integer> hosts = new LinkedHashMap<>();
  private final Set<List<String>> cuts = new LinkedHashSet<>();
  private final Thread removeOnExit = new Thread(this::remove, "remove-keel-namespaces");

  private NetworkNamespaces(int subnet) {
    this.subnet = subnet;
  }

  /** Empty when namespaces can be made here; else why not (not root, no {@code ip}). */
  public static Optional<String> unavailable() {
    if (!"root".equals(System.getProperty("user.name"))) return Optional.of("not running as root");
    if (ip().isEmpty()) return Optional.of("the ip command (iproute2) is missing");
    return Optional.empty();
  }

  /**
   * The bridge and one namespace per name, after removing an earlier dead run's leftovers.
   *
   * @throws IllegalStateException when the kernel or the container refuses (no CAP_SYS_ADMIN, no
   *     veth or bridge support), saying what failed
   */
  public static NetworkNamespaces create(List<String> hostNames)
      throws IOException, InterruptedException {
    removeStale();
    NetworkNamespaces net = new NetworkNamespaces(freeSubnet());
    Runtime.getRuntime().addShutdownHook(net.removeOnExit);
    try {
      net.ipCommand("link", "add", net.bridge, "type", "bridge");
      net.ipCommand("addr", "add", net.rootAddress() + "/24", "dev", net.bridge);
      net.ipCommand("link", "set", net.bridge, "up");
      for (String name : hostNames) net.addHost(name);
      return net;
    } catch (IOException | InterruptedException | RuntimeException e) {
      net.close();
      throw e;
    }
  }

  private void addHost(String name) throws IOException, InterruptedException {
    int index = hosts.size() + 1;
    String ns = namespace(name);
    String outside = "kiv" + pid + "-" + index;
    String peer = "kip" + pid + "-" + index;
    hosts.put(name, index);
    ipCommand("netns", "add", ns);
    ipCommand("link", "add", outside, "type", "veth", "peer", "name", peer);
    ipCommand("link", "set", peer, "netns", ns);
    ipCommand("link", "set", outside, "master", bridge);
    ipCommand("link", "set", outside, "up");
    ipCommand("-n", ns, "link", "set", peer, "name", "eth0");
    ipCommand("-n", ns, "addr", "add", address(name) + "/24", "dev", "eth0");
    ipCommand("-n", ns, "link", "set", "eth0", "up");
    ipCommand("-n", ns, "link", "set", "lo", "up");
  }

  /** The command prefix that runs a program inside {@code host}'s namespace. */
  public List<String> inside(String host) {
    return List.of(ip().orElseThrow(), "netns", "exec", namespace(host));
  }

  public String address(String host) {
    Integer index = hosts.get(host);
    if (index == null)
      throw new IllegalArgumentException("no host " + host + " in " + hosts.keySet());
    return "10.77." + subnet + "." + (10 + index);
  }

  /** The root namespace's address on the bridge: the test itself, and anything it serves. */
  public String rootAddress() {
    return "10.77." + subnet + ".1";
  }

  public String cidr() {
    return "10.77." + subnet + ".0/24";
  }

  /** Partitions {@code host} from each of {@code others}, both ways, until {@link #heal}. */
  public void cut(String host, String... others) throws IOException, InterruptedException {
    for (String other : others) {
      for (String[] pair : new String[][] {{host, other}, {other, host}}) {
        ipCommand(
            "-n",
            namespace(pair[0]),
            "neigh",
            "replace",
            address(pair[1]),
            "lladdr",
            NOBODY_MAC,
            "nud",
            "permanent",
            "dev",
            "eth0");
        cuts.add(List.of(pair[0], pair[1]));
      }
    }
  }

  /** Ends every cut: the hosts resolve each other again, and stalled connections resume. */
  public void heal() throws IOException, InterruptedException {
    for (List<String> cut : new ArrayList<>(cuts)) {
      ipCommand("-n", namespace(cut.get(0)), "neigh", "del", address(cut.get(1)), "dev", "eth0");
      cuts.remove(cut);
    }
  }

  @Override
  public void close() {
    remove();
    try {
      Runtime.getRuntime().removeShutdownHook(removeOnExit);
    } catch (IllegalStateException shuttingDown) {
      // The hook runs anyway.
    }
  }

  private synchronized void remove() {
    for (String host : hosts.keySet()) removeNamespace(namespace(host));
    quietly(List.of(ip().orElse("ip"), "link", "del", bridge));
  }

  private String namespace(String host) {
    return PREFIX + pid + "-" + host;
  }

  // ---------------------------------------------------------------- leftovers of dead runs

  /** Namespaces and links named after a test JVM that no longer runs. */
  private static void removeStale() {
    String ip = ip().orElse("ip");
    for (String line : output(List.of(ip, "netns", "list"))) {
      Matcher m = STALE_NAMESPACE.matcher(line);
      if (m.find() && !alive(Long.parseLong(m.group(1)))) {
        String ns = line.split(" ")[0];
        System.out.println("[NetworkNamespaces] removing " + ns + ", left by a run that died");
        removeNamespace(ns);
      }
    }
    for (String line : output(List.of(ip, "-o", "link", "show"))) {
      Matcher m = STALE_LINK.matcher(line);
      if (m.find() && !alive(Long.parseLong(m.group(2)))) {
        System.out.println(
            "[NetworkNamespaces] removing link " + m.group(1) + ", left by a run that died");
        quietly(List.of(ip, "link", "del", m.group(1)));
      }
    }
  }

  /** Kills what still runs inside (a node JVM, a PostgreSQL), then deletes the namespace. */
  private static void removeNamespace(String ns) {
    String ip = ip().orElse("ip");
    for (String pidLine : output(List.of(ip, "netns", "pids", ns))) {
      try {
        ProcessHandle.of(Long.parseLong(pidLine.trim())).ifPresent(ProcessHandle::destroyForcibly);
      } catch (NumberFormatException notAPid) {
        // Ignored.
      }
    }
    // The kernel frees the namespace (and the veth pair in it) once its last process is gone.
    for (int i = 0; i < 50 && !output(List.of(ip, "netns", "pids", ns)).isEmpty(); i++) sleep(100);
    quietly(List.of(ip, "netns", "del", ns));
  }

  private static boolean alive(long pid) {
    return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
  }

  /** The lowest {@code n} of {@code 10.77.n.0/24} no interface of the root namespace uses. */
  private static int freeSubnet() {
    Set<Integer> used = new TreeSet<>();
    Pattern inUse = Pattern.compile("inet 10\\.77\\.(\\d+)\\.");
    for (String line : output(List.of(ip().orElse("ip"), "-o", "-4", "addr", "show"))) {
      Matcher m = inUse.matcher(line);
      if (m.find()) used.add(Integer.parseInt(m.group(1)));
    }
    for (int n = 0; n < 256; n++) if (!used.contains(n)) return n;
    throw new IllegalStateException("every 10.77.n.0/24 is in use on this machine");
  }

  // ---------------------------------------------------------------- running ip

  private static Optional<String> ip() {
    for (String dir : List.of("/usr/sbin", "/sbin", "/usr/bin", "/bin")) {
      if (Files.isExecutable(Path.of(dir, "ip"))) return Optional.of(dir + "/ip");
    }
    return Optional.empty();
  }

  private void ipCommand(String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of(ip().orElseThrow()));
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(COMMAND_DEADLINE.toMillis(), TimeUnit.MILLISECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException(String.join(" ", command) + " failed: " + out.trim());
    }
  }

  private static List<String> output(List<String> command) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes());
      p.waitFor(COMMAND_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
      return p.exitValue() == 0 ? out.lines().filter(l -> !l.isBlank()).toList() : List.of();
    } catch (IOException | IllegalThreadStateException e) {
      return List.of();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return List.of();
    }
  }

  private static void quietly(List<String> command) {
    output(command);
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
