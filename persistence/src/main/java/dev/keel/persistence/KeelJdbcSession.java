package dev.keel.persistence;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;
import org.apache.pekko.japi.function.Function;
import org.apache.pekko.projection.jdbc.JdbcSession;

/**
 * A projection's JDBC session: one pooled connection per transaction (projection-jdbc needs one of
 * its own, STACK.md pitfall 6).
 */
public final class KeelJdbcSession implements JdbcSession {

  private final Connection connection;
  private final List<Runnable> afterCommit = new ArrayList<>();

  public KeelJdbcSession(DataSource dataSource) {
    try {
      this.connection = dataSource.getConnection();
      this.connection.setAutoCommit(false);
    } catch (SQLException e) {
      throw new IllegalStateException("cannot open a read-model connection: " + e.getMessage(), e);
    }
  }

  @Override
  public <Result> Result withConnection(Function<Connection, Result> func) throws Exception {
    return func.apply(connection);
  }

  /**
   * Runs {@code action} once this transaction has committed, and never if it rolls back: what
   * reports the transaction's work (a metric, a log line) must not count a batch that is retried.
   */
  public void afterCommit(Runnable action) {
    afterCommit.add(action);
  }

  @Override
  public void commit() throws SQLException {
    connection.commit();
    for (Runnable action : afterCommit) action.run();
    afterCommit.clear();
  }

  @Override
  public void rollback() throws SQLException {
    afterCommit.clear();
    connection.rollback();
  }

  @Override
  public void close() throws SQLException {
    connection.close();
  }
}
