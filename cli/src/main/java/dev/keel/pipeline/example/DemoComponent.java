package dev.keel.pipeline.example;

import dev.keel.client.KeelClient;
import dev.keel.client.ServiceInfo;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A stand-in pipeline component for the example in {@code examples/contract-events} and for tests:
 * it registers with Keel through {@link KeelClient} (everything from the {@code KEEL_*} variables
 * that {@code keel run} sets), heartbeats with a {@code records} metric, prints a line now and
 * then, and deregisters when stopped with SIGTERM.
 *
 * <pre>{@code
 * java -cp keel.jar dev.keel.pipeline.example.DemoComponent source [--records-per-second 40] [--crash-after 20]
 * }</pre>
 *
 * {@code --crash-after SECONDS} exits with code 3 after that long, to watch {@code restart:
 * on-failure}.
 */
public final class DemoComponent {

  private DemoComponent() {}

  public static void main(String[] args) throws InterruptedException {
    if (args.length == 0 || args[0].startsWith("-")) {
      System.err.println(
          "usage: DemoComponent source|processor|sink [--records-per-second N] [--crash-after"
              + " SECONDS]");
      System.exit(2);
    }
    String role = args[0];
    int perSecond = 25;
    long crashAfterMillis = -1;
    for (int i = 1; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--records-per-second" -> perSecond = Integer.parseInt(args[i + 1]);
        case "--crash-after" -> crashAfterMillis = (long) (Double.parseDouble(args[i + 1]) * 1000);
        default -> {
          System.err.println("unknown option " + args[i]);
          System.exit(2);
        }
      }
    }
    KeelClient keel = KeelClient.fromEnvironment();
    String id = keel.serviceId().orElse("demo-" + role);
    String interval = System.getenv().getOrDefault("KEEL_HEARTBEAT_INTERVAL", "10");
    Duration ttl = Duration.ofSeconds(Long.parseLong(interval.replaceAll("\\D", "")) * 3);
    AtomicLong records = new AtomicLong();
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  System.out.println(
                      role + " " + id + ": stopping after " + records.get() + " records");
                  keel.close();
                  stopped.countDown();
                }));
    keel.register(ServiceInfo.builder(id).type(role).ttl(ttl).metadata("role", role).build());
    keel.startHeartbeats(() -> Map.of("records", (double) records.get()), null);
    System.out.println(
        role
            + " "
            + id
            + ": registered with "
            + keel.endpoint()
            + ", pid "
            + ProcessHandle.current().pid());
    long started = System.currentTimeMillis();
    long lastReport = started;
    while (stopped.getCount() > 0) {
      Thread.sleep(1000L / Math.max(1, perSecond));
      records.incrementAndGet();
      long now = System.currentTimeMillis();
      if (crashAfterMillis >= 0 && now - started >= crashAfterMillis) {
        System.err.println(
            role + " " + id + ": simulated crash after " + records.get() + " records");
        Runtime.getRuntime().halt(3);
      }
      if (now - lastReport >= 5000) {
        lastReport = now;
        System.out.println(role + " " + id + ": " + records.get() + " records so far");
      }
    }
  }
}
