package dev.keel.registry.service;

import dev.keel.persistence.BadCursorException;
import dev.keel.persistence.JournaledEntities;
import dev.keel.persistence.RequestScope;
import dev.keel.registry.service.RegisteredService.HeartbeatAck;
import dev.keel.registry.service.RegisteredService.HeartbeatReport;
import dev.keel.registry.service.RegisteredService.RegisterResult;
import dev.keel.registry.service.RegisteredService.ServiceDefinition;
import dev.keel.registry.service.RegisteredService.ServiceView;
import dev.keel.registry.service.ServiceReadModel.ServiceSummary;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.apache.pekko.pattern.StatusReply;

/** The service registry façade for routes: asks service entities, lists from the read model. */
public final class ServiceRegistry {

  /**
   * A service in a list: the projected row plus the last heartbeat its entity holds (null when
   * unknown).
   */
  public record ListedService(
      String id,
      String name,
      String type,
      String endpoint,
      Map<String, String> metadata,
      String status,
      Instant registeredAt,
      Instant statusSince,
      Instant lastHeartbeatAt,
      int ttlSeconds,
      Integer deregisterAfterSeconds,
      String tenantId) {}

  public record Page(List<ListedService> items, String nextCursor) {}

  private final ClusterSharding sharding;
  private final ServiceSettings settings;
  private final ServiceReadModel readModel;
  private final JournaledEntities journaled;

  public ServiceRegistry(
      ActorSystem<?> system, ServiceSettings settings, ServiceReadModel readModel) {
    this.sharding = ClusterSharding.get(system);
    this.settings = settings;
    this.readModel = readModel;
    this.journaled = new JournaledEntities(system);
  }

  public ServiceSettings settings() {
    return settings;
  }

  private EntityRef<RegisteredService.Command> entity(String id) {
    return sharding.entityRefFor(RegisteredService.ENTITY_KEY, id);
  }

  /*
   * asTenant: the calling tenant, or null for the admin. Another tenant's service answers as unknown
   * (a registration: as an id in use), checked by the entity itself so that a heartbeat costs one ask.
   */

  public CompletionStage<RegisterResult> register(
      String id, ServiceDefinition definition, String asTenant) {
    return entity(id)
        .<RegisterResult>askWithStatus(
            r ->
                RequestScope.<RegisteredService.Command>onBehalf(
                    new RegisteredService.Register(definition, asTenant, r),
                    RegisteredService.Traced::new),
            settings.askTimeout())
        .thenApply(
            registered -> {
              journaled.created(RegisteredService.persistenceId(id).id());
              return registered;
            });
  }

  public CompletionStage<HeartbeatAck> heartbeat(
      String id, HeartbeatReport report, String asTenant) {
    return askRegistered(id, r -> new RegisteredService.Heartbeat(report, asTenant, r));
  }

  public CompletionStage<ServiceView> get(String id, String asTenant) {
    return askRegistered(id, r -> new RegisteredService.Get(asTenant, r));
  }

  public CompletionStage<Done> deregister(String id, String asTenant) {
    return askRegistered(id, r -> new RegisteredService.Deregister(asTenant, r));
  }

  /**
   * Asks a service that was ever registered. A client heartbeating an id it never registered gets
   * its 404 without waking (and remembering) an entity for it each time.
   */
  private <T> CompletionStage<T> askRegistered(
      String id, Function<ActorRef<StatusReply<T>>, RegisteredService.Command> command) {
    return journaled.askIfJournaled(
        entity(id),
        RegisteredService.persistenceId(id).id(),
        () -> RegisteredService.notRegisteredDetail(id),
        r -> RequestScope.onBehalf(command.apply(r), RegisteredService.Traced::new),
        settings.askTimeout());
  }

  /**
   * One page of the list, each service with its last heartbeat asked of its entity (in parallel,
   * bounded by {@code list-live-timeout}: a slow entity shows no last heartbeat rather than holding
   * up the page).
   *
   * @throws BadCursorException at once, for a cursor this server did not hand out
   */
  public CompletionStage<Page> list(ServiceReadModel.Filter filter, int limit, String cursor) {
    return readModel
        .list(filter, limit, cursor)
        .thenCompose(
            page -> {
              List<CompletableFuture<ListedService>> live = new ArrayList<>(page.items().size());
              for (ServiceSummary s : page.items()) {
                live.add(
                    entity(s.id())
                        .<ServiceView>askWithStatus(
                            r -> new RegisteredService.Get(null, r), settings.listLiveTimeout())
                        .toCompletableFuture()
                        .handle(
                            (view, failure) ->
                                listed(s, failure == null ? view.lastHeartbeatAt() : null)));
              }
              return CompletableFuture.allOf(live.toArray(CompletableFuture[]::new))
                  .thenApply(
                      x ->
                          new Page(
                              live.stream().map(CompletableFuture::join).toList(),
                              page.nextCursor()));
            });
  }

  /**
   * Services by status under {@code filter}, from the read model (the journaled status, {@code
   * stale} included).
   */
  public CompletionStage<ServiceReadModel.StatusCounts> countByStatus(
      ServiceReadModel.Filter filter) {
    return readModel.countByStatus(filter);
  }

  private static ListedService listed(ServiceSummary s, Instant lastHeartbeatAt) {
    return new ListedService(
        s.id(),
        s.name(),
        s.type(),
        s.endpoint(),
        s.metadata(),
        s.status(),
        s.registeredAt(),
        s.statusSince(),
        lastHeartbeatAt,
        s.ttlSeconds(),
        s.deregisterAfterSeconds(),
        s.tenantId());
  }
}
