package dev.keel.persistence;

import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.jdbc.query.javadsl.JdbcReadJournal;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.stream.javadsl.Sink;

/**
 * Whether an entity has a journal, checked before a façade asks it anything but to be created.
 *
 * <p>Running instances of Keel's entity types are remembered entities: sharding journals every
 * start and stop of one. Asking an id that was never created would start an instance only to answer
 * 404, and write two rows for it, so a client heartbeating an id it never registered, or a scan of
 * made-up ids, would grow the journal with every request. The façade asks here first.
 *
 * <p>Ids seen to exist are kept, so the check costs one journal query per id and node, not one per
 * request; they stay true (a deregistered service or deleted rule keeps its journal and answers for
 * itself). When the journal cannot be read the entity is asked anyway: a live one answers from
 * memory, as it does without this check.
 */
public final class JournaledEntities {

  // Enough for every service of a large registry on one node; past it the set starts over, which
  // costs one lookup per id again rather than unbounded memory.
  static final int MAX_KNOWN = 200_000;

  private final Set<String> known = ConcurrentHashMap.newKeySet();
  private final Function<String, CompletionStage<Boolean>> hasJournal;

  public JournaledEntities(ActorSystem<?> system) {
    this(readJournalLookup(system));
  }

  /** With the lookup given, for tests. */
  public JournaledEntities(Function<String, CompletionStage<Boolean>> hasJournal) {
    this.hasJournal = hasJournal;
  }

  /**
   * {@code ask} when {@code persistenceId} has a journal; otherwise a not-found failure with {@code
   * notFoundDetail}, as the entity itself would answer, without starting it.
   */
  public <T> CompletionStage<T> ifJournaled(
      String persistenceId, Supplier<String> notFoundDetail, Supplier<CompletionStage<T>> unbound) {
    // The ask may run after the look-up, on another thread: in the scope of the request it is for.
    Supplier<CompletionStage<T>> ask = RequestScope.bound(unbound);
    if (known.contains(persistenceId)) return ask.get();
    return hasJournal
        .apply(persistenceId)
        .handle(
            (exists, lookupFailed) -> {
              if (lookupFailed != null) return ask.get();
              if (!exists)
                return CompletableFuture.<T>failedFuture(
                    Rejection.notFoundFailure(notFoundDetail.get()));
              remember(persistenceId);
              return ask.get();
            })
        .thenCompose(answer -> answer);
  }

  /** {@link #ifJournaled} for the usual case: an ask with status of the entity. */
  public <M, T> CompletionStage<T> askIfJournaled(
      EntityRef<M> entity,
      String persistenceId,
      Supplier<String> notFoundDetail,
      Function<ActorRef<StatusReply<T>>, M> command,
      Duration timeout) {
    return ifJournaled(
        persistenceId, notFoundDetail, () -> entity.askWithStatus(command::apply, timeout));
  }

  /**
   * Records an entity just created through this node, so that its next commands skip the lookup.
   */
  public void created(String persistenceId) {
    remember(persistenceId);
  }

  private void remember(String persistenceId) {
    if (known.size() >= MAX_KNOWN) known.clear();
    known.add(persistenceId);
  }

  private static Function<String, CompletionStage<Boolean>> readJournalLookup(
      ActorSystem<?> system) {
    // Looked up on first use: a system whose entities never need the check needs no JDBC read
    // journal.
    java.util.concurrent.atomic.AtomicReference<JdbcReadJournal> journal =
        new java.util.concurrent.atomic.AtomicReference<>();
    return persistenceId ->
        journal
            .updateAndGet(
                j ->
                    j != null
                        ? j
                        : PersistenceQuery.get(system)
                            .getReadJournalFor(JdbcReadJournal.class, JdbcReadJournal.Identifier()))
            .currentEventsByPersistenceId(persistenceId, 0L, Long.MAX_VALUE)
            .take(1)
            .runWith(Sink.headOption(), system)
            .thenApply(Optional::isPresent);
  }
}
