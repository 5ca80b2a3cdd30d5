package dev.keel.persistence;

import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings the node's connection pools back as soon as PostgreSQL answers again.
 *
 * <p>While the database is away, each HikariCP pool's connection adder retries with a backoff that
 * doubles up to 5 s and cannot be configured, so after a restart of 10 s the node waited up to 5 s
 * more for its pools' next try. This watch asks the database itself (outside the pools) every
 * {@code interval} while the read-model pool holds no connection; when it answers again after
 * failing, it interrupts every pool's adder thread: HikariCP checks {@code Thread.interrupted()}
 * before each try, so the adder ends, and the next borrower that waits starts a fresh one, which
 * tries at once. The journal's pool (Slick's HikariCP) is woken the same way.
 */
public final class ConnectionAdderWakeUp implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(ConnectionAdderWakeUp.class);

  /**
   * HikariCP 6 names its adder threads {@code "<pool name>:connection-adder"} (5 and older: {@code
   * " connection adder"}).
   */
  static boolean isAdder(Thread thread) {
    String name = thread.getName();
    return name.endsWith(":connection-adder") || name.endsWith(" connection adder");
  }

  private final DatabaseSettings database;
  private final HikariDataSource watched;
  private final ScheduledExecutorService timer;
  private boolean wasDown;

  private ConnectionAdderWakeUp(DatabaseSettings database, HikariDataSource watched) {
    this.database = database;
    this.watched = watched;
    this.timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "keel-connection-adder-wake-up");
              t.setDaemon(true);
              return t;
            });
  }

  /** Starts watching {@code watched}'s database every {@code interval}. */
  public static ConnectionAdderWakeUp start(
      DatabaseSettings database, HikariDataSource watched, Duration interval) {
    ConnectionAdderWakeUp wakeUp = new ConnectionAdderWakeUp(database, watched);
    wakeUp.timer.scheduleWithFixedDelay(
        wakeUp::check, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
    return wakeUp;
  }

  private void check() {
    try {
      var pool = watched.getHikariPoolMXBean();
      if (pool == null || (!wasDown && pool.getTotalConnections() > 0)) return;
      boolean answers = answers();
      if (answers && wasDown) {
        int woken = interruptAdders();
        log.info("database answers again: woke {} connection adder(s) of the pools", woken);
      }
      wasDown = !answers;
    } catch (RuntimeException e) {
      log.debug("connection adder wake-up check failed: {}", e.getMessage());
    }
  }

  private boolean answers() {
    java.util.Properties properties = new java.util.Properties();
    properties.setProperty("user", database.user());
    properties.setProperty("password", database.password());
    // pgjdbc's own timeouts, in seconds: DriverManager's login timeout is global to the JVM.
    properties.setProperty("loginTimeout", "1");
    properties.setProperty("connectTimeout", "1");
    try (Connection c = DriverManager.getConnection(database.url(), properties);
        Statement s = c.createStatement()) {
      s.setQueryTimeout(1);
      s.execute("SELECT 1");
      return true;
    } catch (Exception e) {
      return false;
    }
  }

  static int interruptAdders() {
    int woken = 0;
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (isAdder(t)) {
        t.interrupt();
        woken++;
      }
    }
    return woken;
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
