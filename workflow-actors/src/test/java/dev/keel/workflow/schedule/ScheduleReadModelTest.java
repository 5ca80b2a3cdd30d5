package dev.keel.workflow.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.zaxxer.hikari.HikariDataSource;
import dev.keel.persistence.BadCursorException;
import dev.keel.persistence.DatabaseSettings;
import dev.keel.persistence.KeelJdbcSession;
import dev.keel.persistence.ProjectionDeadLetters;
import dev.keel.persistence.ProjectionLag;
import dev.keel.persistence.ReadModelProjection;
import dev.keel.persistence.TestDatabases;
import dev.keel.workflow.schedule.Schedule.Active;
import dev.keel.workflow.schedule.Schedule.Empty;
import dev.keel.workflow.schedule.Schedule.Event;
import dev.keel.workflow.schedule.Schedule.ScheduleDefined;
import dev.keel.workflow.schedule.Schedule.ScheduleDefinition;
import dev.keel.workflow.schedule.Schedule.ScheduleDeleted;
import dev.keel.workflow.schedule.Schedule.ScheduleTicked;
import dev.keel.workflow.schedule.Schedule.ScheduleUpdated;
import dev.keel.workflow.schedule.Schedule.State;
import dev.keel.workflow.schedule.ScheduleReadModel.Page;
import dev.keel.workflow.schedule.ScheduleReadModel.ScheduleSummary;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.persistence.query.Offset;
import org.apache.pekko.projection.eventsourced.EventEnvelope;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The schedule list against a Flyway-migrated database, the embedded H2 and (when a server answers,
 * see {@link TestDatabases}) PostgreSQL: events go through the projection handler the way the
 * projection delivers them, and each row must show what the entity's view shows (but the input).
 */
class ScheduleReadModelTest {

  private static final Instant T0 = Instant.parse("2026-03-01T07:30:00.123Z");

  @TempDir Path dir;

  private TestDatabases.Migrated database;
  private HikariDataSource dataSource;
  private ScheduleReadModel readModel;
  private ReadModelProjection.Handler<Schedule.Event> handler;
  private ProjectionLag lag;
  private final Map<String, Long> seqNrs = new HashMap<>();
  private final Map<String, State> states = new HashMap<>();
  private long offset;

  private void open(DatabaseSettings.Kind kind) {
    database = TestDatabases.migrated(kind, dir, "schedule-read-model-test");
    dataSource = database.dataSource();
    readModel = new ScheduleReadModel(dataSource, Runnable::run);
    lag = new ProjectionLag(Clock.fixed(T0.plusSeconds(3600), ZoneOffset.UTC));
    handler =
        new ReadModelProjection.Handler<>(
            "schedule-0",
            lag,
            ScheduleProjectionHandler::apply,
            ProjectionDeadLetters.unmetered("schedules"));
  }

  @AfterEach
  void close() {
    if (database != null) database.close();
  }

  @ParameterizedTest
  @EnumSource(DatabaseSettings.Kind.class)
  void aDefinedScheduleIsListedWithTheFieldsOfItsView(DatabaseSettings.Kind kind) throws Exception {
    open(kind);
    project(
        "nightly",
        new ScheduleDefined(
            def("example", "0 3 * * *", "Europe/Berlin", false), T0, T0.plusSeconds(70_000)));

    assertThat(list(null, null, 50, null).items()).containsExactly(summaryOf("nightly"));
    ScheduleSummary row = list(null, null, 50, null).items().get(0);
    assertThat(row.cron()).isEqualTo("0 3 * * *");
    assertThat(row.timezone()).isEqualTo("Europe/Berlin");
    assertThat(row.nextRunAt()).isEqualTo(T0.plusSeconds(70_000));
    assertThat(row.lastRunWorkflowId()).isNull();
    assertThat(row.createdAt()).isEqualTo(T0);
    assertThat(lag.snapshot()).containsKey("schedule-0");
  }

  @ParameterizedTest
  @EnumSource(DatabaseSettings.Kind.class)
  void updatesTicksAndDeletesFollowTheEntity(DatabaseSettings.Kind kind) throws Exception {
    open(kind);
    Instant firstTick = T0.plusSeconds(60);
    project(
        "every-minute",
        new ScheduleDefined(def("example", "* * * * *", "UTC", false), T0, firstTick));

    // A tick records its workflow and moves the next run; it is not a change of definition.
    String workflowId = ScheduleRules.workflowIdFor("every-minute", firstTick);
    project(
        "every-minute",
        new ScheduleTicked(
            firstTick, workflowId, firstTick.plusMillis(40), firstTick.plusSeconds(60)));
    ScheduleSummary ticked = only();
    assertThat(ticked).isEqualTo(summaryOf("every-minute"));
    assertThat(ticked.lastRunWorkflowId()).isEqualTo(workflowId);
    assertThat(ticked.lastRunAt()).isEqualTo(firstTick);
    assertThat(ticked.nextRunAt()).isEqualTo(firstTick.plusSeconds(60));
    assertThat(ticked.updatedAt()).isEqualTo(T0);

    // Pausing redefines it: no next run, the last run kept.
    Instant pausedAt = T0.plusSeconds(90);
    project(
        "every-minute",
        new ScheduleUpdated(def("other", "*/5 * * * *", "UTC", true), pausedAt, null));
    ScheduleSummary paused = only();
    assertThat(paused).isEqualTo(summaryOf("every-minute"));
    assertThat(paused.paused()).isTrue();
    assertThat(paused.workflow()).isEqualTo("other");
    assertThat(paused.cron()).isEqualTo("*/5 * * * *");
    assertThat(paused.nextRunAt()).isNull();
    assertThat(paused.lastRunWorkflowId()).isEqualTo(workflowId);
    assertThat(paused.updatedAt()).isEqualTo(pausedAt);
    assertThat(paused.createdAt()).isEqualTo(T0);

    project("every-minute", new ScheduleDeleted(T0.plusSeconds(100)));
    assertThat(list(null, null, 50, null).items()).isEmpty();

    // Defined again after the delete: a fresh schedule, as the entity sees it.
    Instant again = T0.plusSeconds(200);
    project(
        "every-minute",
        new ScheduleDefined(
            def("example", "* * * * *", "UTC", false), again, again.plusSeconds(40)));
    assertThat(only()).isEqualTo(summaryOf("every-minute"));
    assertThat(only().createdAt()).isEqualTo(again);
    assertThat(only().lastRunWorkflowId()).isNull();
  }

  @ParameterizedTest
  @EnumSource(DatabaseSettings.Kind.class)
  void pagesByIdWithACursorAndFiltersByWorkflowAndPaused(DatabaseSettings.Kind kind)
      throws Exception {
    open(kind);
    // Defined out of id order, in one batch, as a projection group would deliver them.
    project(
        List.of(
            Map.entry(
                "s-c",
                new ScheduleDefined(
                    def("example", "0 * * * *", "UTC", false), T0, T0.plusSeconds(1800))),
            Map.entry(
                "s-a", new ScheduleDefined(def("example", "0 9 * * *", "UTC", true), T0, null)),
            Map.entry(
                "s-e",
                new ScheduleDefined(
                    def("other", "0 9 * * 1", "UTC", false), T0, T0.plusSeconds(3600))),
            Map.entry("s-b", new ScheduleDefined(def("other", "0 0 1 * *", "UTC", true), T0, null)),
            Map.entry(
                "s-d",
                new ScheduleDefined(
                    def("example", "*/10 * * * *", "UTC", false), T0, T0.plusSeconds(600)))));

    Page first = list(null, null, 2, null);
    assertThat(ids(first)).containsExactly("s-a", "s-b");
    assertThat(first.nextCursor()).isNotNull();
    Page second = list(null, null, 2, first.nextCursor());
    assertThat(ids(second)).containsExactly("s-c", "s-d");
    Page third = list(null, null, 2, second.nextCursor());
    assertThat(ids(third)).containsExactly("s-e");
    assertThat(third.nextCursor()).isNull();
    // A page that ends exactly at the last row says so: no cursor to an empty page.
    assertThat(list(null, null, 5, null).nextCursor()).isNull();

    assertThat(ids(list("example", null, 50, null))).containsExactly("s-a", "s-c", "s-d");
    assertThat(ids(list(null, true, 50, null))).containsExactly("s-a", "s-b");
    assertThat(ids(list(null, false, 50, null))).containsExactly("s-c", "s-d", "s-e");
    assertThat(ids(list("example", false, 50, null))).containsExactly("s-c", "s-d");
    assertThat(ids(list("no-such-workflow", null, 50, null))).isEmpty();

    // The cursor carries on within a filter.
    Page exampleFirst = list("example", null, 1, null);
    assertThat(ids(exampleFirst)).containsExactly("s-a");
    assertThat(ids(list("example", null, 5, exampleFirst.nextCursor())))
        .containsExactly("s-c", "s-d");

    // A row deleted between pages does not shift the next page.
    project("s-c", new ScheduleDeleted(T0.plusSeconds(5)));
    assertThat(ids(list(null, null, 2, first.nextCursor()))).containsExactly("s-d", "s-e");
  }

  @Test
  void cursorsRoundTripAndForeignOnesAreRefused() throws Exception {
    open(DatabaseSettings.Kind.H2);
    for (String id : List.of("a", "tenant:acme.nightly-1", "Z_9")) {
      assertThat(ScheduleReadModel.decodeCursor(dev.keel.persistence.IdCursor.encode(id)))
          .isEqualTo(id);
    }
    for (String bad : List.of("not base64!", "", "%%%", "_w")) {
      assertThatThrownBy(() -> ScheduleReadModel.decodeCursor(bad))
          .isInstanceOf(BadCursorException.class);
    }
    assertThatThrownBy(() -> readModel.list(null, null, null, 10, "***"))
        .isInstanceOf(BadCursorException.class);
  }

  // ---------------------------------------------------------------- helpers

  private static ScheduleDefinition def(
      String workflow, String cron, String timezone, boolean paused) {
    return new ScheduleDefinition(
        workflow,
        cron,
        timezone,
        JsonNodeFactory.instance.objectNode().put("k", "v"),
        paused,
        null);
  }

  private void project(String id, Event event) throws Exception {
    project(List.of(Map.entry(id, event)));
  }

  /** One projection batch, committed the way the projection commits it (with its offset). */
  private void project(List<Map.Entry<String, Event>> events) throws Exception {
    List<EventEnvelope<Event>> envelopes = new ArrayList<>();
    for (Map.Entry<String, Event> e : events) {
      long seqNr = seqNrs.merge(e.getKey(), 1L, Long::sum);
      envelopes.add(
          EventEnvelope.create(
              Offset.sequence(++offset),
              "schedule|" + e.getKey(),
              seqNr,
              e.getValue(),
              T0.toEpochMilli()));
      states.put(
          e.getKey(), Schedule.apply(states.getOrDefault(e.getKey(), new Empty()), e.getValue()));
    }
    KeelJdbcSession session = new KeelJdbcSession(dataSource);
    try {
      handler.process(session, envelopes);
      session.commit();
    } finally {
      session.close();
    }
  }

  /** What the list must show for {@code id}: the entity's state after the same events. */
  private ScheduleSummary summaryOf(String id) {
    Active a = (Active) states.get(id);
    ScheduleDefinition d = a.def();
    return new ScheduleSummary(
        id,
        d.workflow(),
        d.cron(),
        d.timezone(),
        d.paused(),
        d.tenantId(),
        a.nextRunAt(),
        a.lastRunWorkflowId(),
        a.lastRunAt(),
        a.createdAt(),
        a.updatedAt());
  }

  private Page list(String workflow, Boolean paused, int limit, String cursor) throws Exception {
    return readModel.list(workflow, paused, null, limit, cursor).toCompletableFuture().get();
  }

  private ScheduleSummary only() throws Exception {
    List<ScheduleSummary> items = list(null, null, 50, null).items();
    assertThat(items).hasSize(1);
    return items.get(0);
  }

  private static List<String> ids(Page page) {
    return page.items().stream().map(ScheduleSummary::id).toList();
  }
}
