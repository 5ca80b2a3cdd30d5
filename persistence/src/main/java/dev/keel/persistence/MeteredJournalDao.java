package dev.keel.persistence;

import java.util.Optional;
import org.apache.pekko.persistence.jdbc.config.JournalConfig;
import org.apache.pekko.persistence.jdbc.journal.dao.DefaultJournalDao;
import org.apache.pekko.persistence.jdbc.journal.dao.JournalTables;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.stream.Materializer;
import scala.Tuple2;
import scala.collection.immutable.Seq;
import scala.collection.immutable.Set;
import scala.concurrent.ExecutionContext;
import scala.concurrent.Future;
import scala.runtime.BoxedUnit;
import slick.jdbc.JdbcBackend;
import slick.jdbc.JdbcProfile;

/**
 * The JDBC journal's data access, measured: pekko-persistence-jdbc queues the writes of all entities
 * and writes them in batches, each one transaction through {@link #writeJournalRows}; this times
 * each batch and counts its rows and its failures ({@link JournalMeters}). The writing itself is the
 * plugin's. Configured as {@code jdbc-journal.dao} in keel-persistence.conf.
 */
public final class MeteredJournalDao extends DefaultJournalDao {

  private final Optional<JournalMeters> meters;
  private final ExecutionContext ec;

  /** The constructor persistence-jdbc calls reflectively, with these exact parameter types. */
  public MeteredJournalDao(
      JdbcBackend.JdbcDatabaseDef database,
      JdbcProfile profile,
      JournalConfig config,
      Serialization serialization,
      ExecutionContext ec,
      Materializer mat) {
    super(database, profile, config, serialization, ec, mat);
    this.ec = ec;
    this.meters = JournalMeters.of(mat.system());
  }

  @Override
  public Future<BoxedUnit> writeJournalRows(Seq<Tuple2<JournalTables.JournalPekkoSerializationRow, Set<String>>> rows) {
    if (meters.isEmpty()) return super.writeJournalRows(rows);
    JournalMeters m = meters.get();
    long start = System.nanoTime();
    int count = rows.size();
    Future<BoxedUnit> written = super.writeJournalRows(rows);
    written.onComplete(result -> {
      if (result.isSuccess()) m.written(start, count);
      else m.failed(start, count);
      return BoxedUnit.UNIT;
    }, ec);
    return written;
  }
}
