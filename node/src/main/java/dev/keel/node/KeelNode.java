package dev.keel.node;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import com.zaxxer.hikari.HikariDataSource;
import dev.keel.http.AdminToken;
import dev.keel.http.AlertRoutes;
import dev.keel.http.ApiDocsRoutes;
import dev.keel.http.AuditRoutes;
import dev.keel.http.ClusterRoutes;
import dev.keel.http.ConsoleRoutes;
import dev.keel.http.DomainRoutes;
import dev.keel.http.HealthRoutes;
import dev.keel.http.HttpApi;
import dev.keel.http.Json;
import dev.keel.http.KeyRoutes;
import dev.keel.http.MetricsRoutes;
import dev.keel.http.ReplicaLagHeader;
import dev.keel.http.RequestTracing;
import dev.keel.http.ScheduleRoutes;
import dev.keel.http.ServiceRoutes;
import dev.keel.http.SnapshotRoutes;
import dev.keel.http.TenantRoutes;
import dev.keel.http.WorkflowRoutes;
import dev.keel.persistence.AuditLog;
import dev.keel.persistence.ClusterFence;
import dev.keel.persistence.ClusterStatus;
import dev.keel.persistence.ConnectionAdderWakeUp;
import dev.keel.persistence.EntityAudit;
import dev.keel.persistence.EntityKind;
import dev.keel.persistence.JournalReader;
import dev.keel.persistence.KeelDataSource;
import dev.keel.persistence.KeelTracing;
import dev.keel.persistence.OnDemandSnapshots;
import dev.keel.persistence.PersistenceConfig;
import dev.keel.persistence.ProjectionLag;
import dev.keel.persistence.ReplicaReads;
import dev.keel.persistence.SchemaMigrations;
import dev.keel.registry.alert.AlertCatalog;
import dev.keel.registry.alert.AlertEvaluator;
import dev.keel.registry.alert.AlertProjection;
import dev.keel.registry.alert.AlertReadModel;
import dev.keel.registry.alert.AlertRule;
import dev.keel.registry.alert.AlertService;
import dev.keel.registry.alert.AlertSettings;
import dev.keel.registry.alert.WebhookDeliveryWorkflow;
import dev.keel.registry.history.MetricHistory;
import dev.keel.registry.history.MetricHistorySettings;
import dev.keel.registry.history.MetricHistoryStore;
import dev.keel.registry.service.RegisteredService;
import dev.keel.registry.service.ServiceChanges;
import dev.keel.registry.service.ServiceObserver;
import dev.keel.registry.service.ServiceProjection;
import dev.keel.registry.service.ServiceReadModel;
import dev.keel.registry.service.ServiceRegistry;
import dev.keel.registry.service.ServiceSettings;
import dev.keel.tenant.ApiKeys;
import dev.keel.tenant.DeferredTenantLifecycle;
import dev.keel.tenant.KeyRing;
import dev.keel.tenant.KeyRingService;
import dev.keel.tenant.NamedKeys;
import dev.keel.tenant.SlugReservation;
import dev.keel.tenant.Tenant;
import dev.keel.tenant.TenantLifecycle;
import dev.keel.tenant.TenantProjection;
import dev.keel.tenant.TenantReadModel;
import dev.keel.tenant.TenantService;
import dev.keel.tenant.TenantSettings;
import dev.keel.tenant.domain.CustomDomain;
import dev.keel.tenant.domain.DnsJavaTxtResolver;
import dev.keel.tenant.domain.DomainProjection;
import dev.keel.tenant.domain.DomainReadModel;
import dev.keel.tenant.domain.DomainService;
import dev.keel.tenant.domain.DomainSettings;
import dev.keel.tenant.lifecycle.TenantDeprovisioningWorkflow;
import dev.keel.tenant.lifecycle.TenantProvisioningWorkflow;
import dev.keel.tenant.quota.QuotaAdmission;
import dev.keel.tenant.quota.QuotaCheckSchedule;
import dev.keel.tenant.quota.QuotaCheckWorkflow;
import dev.keel.tenant.quota.QuotaLedger;
import dev.keel.tenant.quota.QuotaService;
import dev.keel.tenant.quota.QuotaSettings;
import dev.keel.tenant.quota.TenantUsages;
import dev.keel.workflow.builtin.BulkActionWorkflow;
import dev.keel.workflow.builtin.ExampleWorkflow;
import dev.keel.workflow.builtin.HttpSequenceWorkflow;
import dev.keel.workflow.execution.NodeWorkflowRegistry;
import dev.keel.workflow.execution.WorkflowDeps;
import dev.keel.workflow.execution.WorkflowExecution;
import dev.keel.workflow.execution.WorkflowRunner;
import dev.keel.workflow.execution.WorkflowService;
import dev.keel.workflow.execution.WorkflowSettings;
import dev.keel.workflow.execution.WorkflowStarter;
import dev.keel.workflow.outbound.OutboundHttp;
import dev.keel.workflow.readmodel.WakeupScheduler;
import dev.keel.workflow.readmodel.WorkflowProjection;
import dev.keel.workflow.readmodel.WorkflowReadModel;
import dev.keel.workflow.schedule.Schedule;
import dev.keel.workflow.schedule.ScheduleProjection;
import dev.keel.workflow.schedule.ScheduleReadModel;
import dev.keel.workflow.schedule.ScheduleService;
import dev.keel.workflow.schedule.ScheduleSettings;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.random.RandomGenerator;
import javax.sql.DataSource;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.server.Route;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running Keel node. {@link #start} is what {@code keel server} calls and what integration tests
 * call to boot real nodes in-process; {@code main} only parses the command line.
 */
public final class KeelNode implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(KeelNode.class);

  private final ActorSystem<Void> system;
  private final ServerBinding binding;
  private final Optional<ServerBinding> metricsBinding;
  private final NodeSettings settings;
  private final AdminToken adminToken;
  private final TenantService tenants;

  private KeelNode(
      ActorSystem<Void> system,
      ServerBinding binding,
      Optional<ServerBinding> metricsBinding,
      NodeSettings settings,
      AdminToken adminToken,
      TenantService tenants) {
    this.system = system;
    this.binding = binding;
    this.metricsBinding = metricsBinding;
    this.settings = settings;
    this.adminToken = adminToken;
    this.tenants = tenants;
  }

  /** Loads {@code application.conf} with {@code overrides} (flag values) on top, and starts. */
  public static KeelNode start(Config overrides, NodeWorkflowRegistry extraWorkflows) {
    Config config = overrides.withFallback(ConfigFactory.load()).resolve();
    NodeSettings settings = NodeSettings.fromConfig(config);
    return start(settings, config, extraWorkflows);
  }

  static KeelNode start(NodeSettings settings, Config config, NodeWorkflowRegistry registry) {
    if (!CommonPool.sharedByCallbacks()) {
      log.warn(
          "the JVM's common pool has {} thread: every callback of an ask starts a new thread; start"
              + " the JVM with -D{}=2",
          java.util.concurrent.ForkJoinPool.getCommonPoolParallelism(),
          CommonPool.PARALLELISM);
    }
    try {
      Files.createDirectories(settings.dataDir());
    } catch (IOException e) {
      throw new ConfigProblem(
          "KEEL_DATA_DIR", "cannot create " + settings.dataDir() + ": " + e.getMessage());
    }
    AdminToken token;
    try {
      token = AdminToken.resolve(settings.adminToken(), settings.dataDir());
    } catch (IOException e) {
      throw new ConfigProblem("KEEL_DATA_DIR", "cannot write the admin token: " + e.getMessage());
    }
    // Built-ins first, so that a plug-in taking a built-in's name is refused while loading plug-ins
    // (one KEEL_PLUGINS_DIR line), not later with the actor system already running.
    registry.register(new ExampleWorkflow());
    OutboundClients outbound = OutboundClients.fromConfig(config, settings);
    OutboundHttp outboundHttp =
        outbound.create(config.getDuration("keel.workflows.http-sequence.connect-timeout"));
    registry.register(new HttpSequenceWorkflow(outboundHttp));
    // Alert rules start it; a tenant's key may not, as its URL would be the tenant's to choose.
    registry.registerAdminOnly(webhookDelivery(config, outbound));
    TenantSettings tenantSettings;
    QuotaSettings quotaSettings;
    try {
      tenantSettings = TenantSettings.fromConfig(config.getConfig("keel.tenants"));
      quotaSettings = QuotaSettings.fromConfig(config.getConfig("keel.tenants"));
    } catch (TenantSettings.SettingProblem e) {
      throw new ConfigProblem(e.setting(), e.getMessage());
    } catch (IllegalArgumentException | com.typesafe.config.ConfigException e) {
      throw new ConfigProblem("keel.tenants", e.getMessage());
    }
    DeferredTenantLifecycle tenantLifecycle = new DeferredTenantLifecycle();
    AtomicReference<TenantUsages> tenantUsages = new AtomicReference<>();
    // Keel's own operations: a tenant key may neither start nor schedule them.
    registry.registerAdminOnly(
        new TenantProvisioningWorkflow(outboundHttp, tenantSettings, tenantLifecycle));
    registry.registerAdminOnly(
        new TenantDeprovisioningWorkflow(outboundHttp, tenantSettings, tenantLifecycle));
    // Started by POST /api/v1/workflows/bulk/{action} only, which bounds a tenant's to its own.
    AtomicReference<BulkActionWorkflow.Targets> bulkTargets = new AtomicReference<>();
    registry.registerAdminOnly(
        new BulkActionWorkflow(
            () ->
                Optional.ofNullable(bulkTargets.get())
                    .orElseThrow(() -> new IllegalStateException("the node is still starting"))));
    registry.registerAdminOnly(
        new QuotaCheckWorkflow(
            () ->
                Optional.ofNullable(tenantUsages.get())
                    .orElseThrow(() -> new IllegalStateException("the node is still starting")),
            outboundHttp,
            quotaSettings,
            Clock.systemUTC()));
    if (settings.pluginsDir().isPresent()) {
      try {
        registry.loadPlugins(settings.pluginsDir().get());
      } catch (IOException
          | RuntimeException
          | java.util.ServiceConfigurationError
          | LinkageError e) {
        // ServiceConfigurationError: a service file names a class that is missing, not a Workflow,
        // or
        // has no public no-argument constructor; LinkageError: a plug-in built against another SDK.
        throw new ConfigProblem(
            "KEEL_PLUGINS_DIR", e.getMessage() == null ? e.toString() : e.getMessage());
      }
    }
    // Before anything starts: an unreadable certificate or key stops the start naming it (the
    // listener reads the files again when it binds).
    settings.tls().ifPresent(TlsListener::new);
    checkPortFree(settings.host(), settings.httpPort(), "KEEL_HTTP_PORT");
    if (settings.clusterPort() != 0)
      checkPortFree(settings.host(), settings.clusterPort(), "KEEL_CLUSTER_PORT");
    ClusterFormation.checkEnvironment(config, settings);
    NodeTracing tracing = NodeTracing.fromConfig(config, settings);

    int readPool = Math.max(2, settings.databaseMaxConnections() / 2);
    NodeLabels.apply(settings.instanceId(), settings.region());
    NodeMetrics metrics = new NodeMetrics(settings.instanceId(), settings.region());
    HikariDataSource dataSource;
    try {
      dataSource =
          KeelDataSource.create(
              settings.database(), "keel-read-model", readPool, metrics.registry());
      SchemaMigrations.migrate(dataSource, settings.database().kind());
    } catch (RuntimeException e) {
      metrics.close();
      tracing.close();
      throw new ConfigProblem(
          settings.database().kind() == dev.keel.persistence.DatabaseSettings.Kind.H2
              ? "KEEL_DATA_DIR"
              : "KEEL_DATABASE_URL",
          "cannot use the database at "
              + settings.database().redactedUrl()
              + ": "
              + rootMessage(e));
    }

    Config pekko =
        PersistenceConfig.forDatabase(settings.database(), settings.databaseMaxConnections())
            .withValue(
                "pekko.remote.artery.canonical.hostname",
                ConfigValueFactory.fromAnyRef(settings.host()))
            .withValue(
                "pekko.remote.artery.canonical.port",
                ConfigValueFactory.fromAnyRef(settings.clusterPort()))
            .withFallback(ClusterFormation.overlay(settings))
            .withFallback(config);
    if (settings.replica().isPresent())
      pekko = PersistenceConfig.withReplica(pekko.resolve(), settings.replica().get(), readPool);
    // On PostgreSQL every journal write checks that this node's cluster owns the journal; H2 is one
    // node in one JVM. A node that has just joined waits a few renewals at most to learn its epoch.
    Optional<ClusterFence> fence =
        settings.database().kind() == dev.keel.persistence.DatabaseSettings.Kind.POSTGRES
            ? Optional.of(
                new ClusterFence(settings.cluster().lease().renewInterval().multipliedBy(3)))
            : Optional.empty();
    // The journal plugin finds the node's meter registry and fence in the system's setup
    // (MeteredJournalDao).
    org.apache.pekko.actor.setup.ActorSystemSetup setup =
        org.apache.pekko.actor.setup.ActorSystemSetup.create(
                org.apache.pekko.actor.BootstrapSetup.create(pekko))
            .and(new dev.keel.persistence.JournalMeters.RegistrySetup(metrics.registry()));
    if (fence.isPresent()) setup = setup.and(new ClusterFence.FenceSetup(fence.get()));
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "keel", setup);
    tracing.install(system);
    try {
      return wire(
          system,
          settings,
          pekko,
          registry,
          dataSource,
          token,
          tenantSettings,
          quotaSettings,
          tenantLifecycle,
          tenantUsages,
          bulkTargets,
          metrics,
          fence,
          outbound);
    } catch (RuntimeException e) {
      system.terminate();
      dataSource.close();
      metrics.close();
      tracing.close();
      throw e;
    }
  }

  /**
   * The read replica's pool and its lag probe (every second), when the node has one: closed with
   * the node. Its meters: the pool's, and {@code keel_database_replica_lag_seconds}.
   */
  private static Optional<ReplicaReads> replicaReads(
      ActorSystem<?> system,
      NodeSettings settings,
      HikariDataSource primary,
      NodeMetrics metrics,
      Executor blocking) {
    if (settings.replica().isEmpty()) return Optional.empty();
    Config keel = system.settings().config().getConfig("keel.database.replica");
    HikariDataSource pool =
        KeelDataSource.create(
            settings.replica().get(),
            "keel-replica",
            Math.max(2, settings.databaseMaxConnections() / 2),
            metrics.registry());
    ReplicaReads reads = new ReplicaReads(primary, pool, keel.getDuration("max-lag"));
    reads.probe();
    io.micrometer.core.instrument.Gauge.builder(
            "keel.database.replica.lag",
            reads,
            r -> r.lag().map(d -> d.toMillis() / 1000.0).orElse(Double.NaN))
        .baseUnit("seconds")
        .description("how far the read replica is behind the primary; NaN while it does not answer")
        .strongReference(true)
        .register(metrics.registry());
    org.apache.pekko.actor.Cancellable probing =
        system
            .scheduler()
            .scheduleWithFixedDelay(
                Duration.ofSeconds(1),
                Duration.ofSeconds(1),
                () -> blocking.execute(reads::probe),
                system.executionContext());
    CoordinatedShutdown.get(Adapter.toClassic(system))
        .addTask(
            CoordinatedShutdown.PhaseActorSystemTerminate(),
            "close-replica-pool",
            () -> {
              probing.cancel();
              pool.close();
              return java.util.concurrent.CompletableFuture.completedFuture(Done.getInstance());
            });
    return Optional.of(reads);
  }

  private static KeelNode wire(
      ActorSystem<Void> system,
      NodeSettings settings,
      Config config,
      NodeWorkflowRegistry registry,
      HikariDataSource dataSource,
      AdminToken token,
      TenantSettings tenantSettings,
      QuotaSettings quotaSettings,
      DeferredTenantLifecycle tenantLifecycle,
      AtomicReference<TenantUsages> tenantUsages,
      AtomicReference<BulkActionWorkflow.Targets> bulkTargets,
      NodeMetrics metrics,
      Optional<ClusterFence> fence,
      OutboundClients outbound) {
    CoordinatedShutdown shutdown = CoordinatedShutdown.get(Adapter.toClassic(system));
    shutdown.addTask(
        CoordinatedShutdown.PhaseActorSystemTerminate(),
        "close-metrics",
        () -> {
          metrics.close();
          return java.util.concurrent.CompletableFuture.completedFuture(Done.getInstance());
        });
    shutdown.addTask(
        CoordinatedShutdown.PhaseActorSystemTerminate(),
        "close-read-model-pool",
        () -> {
          dataSource.close();
          return java.util.concurrent.CompletableFuture.completedFuture(Done.getInstance());
        });

    Cluster cluster = Cluster.get(system);
    Optional<ClusterLeaseKeeper> lease =
        fence.map(
            f ->
                new ClusterLeaseKeeper(
                        system,
                        ClusterLeaseKeeper.ownPool(
                            settings.database(), settings.cluster().lease().renewInterval()),
                        f,
                        settings.cluster().lease(),
                        Clock.systemUTC())
                    .start());
    ClusterFormation.join(system, settings, lease);
    if (settings.database().kind() == dev.keel.persistence.DatabaseSettings.Kind.POSTGRES) {
      // After a PostgreSQL restart the pools come back at once, not after their backoff of up to 5
      // s.
      ConnectionAdderWakeUp wakeUp =
          ConnectionAdderWakeUp.start(settings.database(), dataSource, Duration.ofMillis(500));
      shutdown.addTask(
          CoordinatedShutdown.PhaseActorSystemTerminate(),
          "stop-connection-adder-wake-up",
          () -> {
            wakeUp.close();
            return java.util.concurrent.CompletableFuture.completedFuture(Done.getInstance());
          });
    }

    Clock clock = Clock.systemUTC();
    WorkflowSettings workflowSettings;
    try {
      workflowSettings = WorkflowSettings.fromConfig(config);
    } catch (IllegalArgumentException | com.typesafe.config.ConfigException e) {
      throw new ConfigProblem("keel.workflows", e.getMessage());
    }
    WorkflowRunner runner = WorkflowRunner.forSettings(workflowSettings, registry);
    shutdown.addTask(
        CoordinatedShutdown.PhaseActorSystemTerminate(),
        "stop-step-runner",
        () -> {
          runner.close();
          return java.util.concurrent.CompletableFuture.completedFuture(Done.getInstance());
        });
    ObjectMapper journalMapper =
        org.apache.pekko.serialization.jackson.JacksonObjectMapperProvider.get(system)
            .getOrCreate("jackson-json", Optional.empty());
    WorkflowDeps deps =
        new WorkflowDeps(
            clock,
            RandomGenerator.getDefault(),
            workflowSettings,
            registry,
            runner,
            journalMapper,
            system.scheduler(),
            metrics.workflows());
    WorkflowExecution.init(system, deps);
    Executor blocking =
        system.dispatchers().lookup(DispatcherSelector.fromConfig("keel.blocking-dispatcher"));
    // Lists, counts, history and audit read the replica when there is one (and it keeps up).
    Optional<ReplicaReads> replica = replicaReads(system, settings, dataSource, metrics, blocking);
    DataSource listReads = replica.map(ReplicaReads::dataSource).orElse(dataSource);
    JournalReader historyReads = new JournalReader(system, replica.orElse(null));
    WorkflowService workflows =
        new WorkflowService(system, registry, workflowSettings, journalMapper, clock, historyReads);
    ScheduleSettings scheduleSettings;
    try {
      scheduleSettings = ScheduleSettings.fromConfig(config.getConfig("keel.schedules"));
    } catch (IllegalArgumentException | com.typesafe.config.ConfigException e) {
      throw new ConfigProblem("keel.schedules", e.getMessage());
    }
    ServiceSettings serviceSettings;
    try {
      serviceSettings = ServiceSettings.fromConfig(config.getConfig("keel.services"));
    } catch (IllegalArgumentException | com.typesafe.config.ConfigException e) {
      throw new ConfigProblem("keel.services", e.getMessage());
    }
    TenantReadModel tenantReadModel = new TenantReadModel(dataSource, blocking);
    KeyRingService namedKeys =
        new KeyRingService(
            system, new NamedKeys(new java.security.SecureRandom()), tenantSettings.askTimeout());
    TenantService tenants =
        new TenantService(
            system,
            tenantSettings,
            new TenantReadModel(listReads, blocking),
            new ApiKeys(new java.security.SecureRandom()),
            namedKeys);
    DomainSettings domainSettings;
    DnsJavaTxtResolver dnsResolver;
    try {
      domainSettings = DomainSettings.fromConfig(config.getConfig("keel.tenants"));
      dnsResolver =
          DnsJavaTxtResolver.create(
              domainSettings.dnsServer(), domainSettings.dnsTimeout(), blocking);
    } catch (DomainSettings.SettingProblem e) {
      throw new ConfigProblem(e.setting(), e.getMessage());
    } catch (IllegalArgumentException e) {
      throw new ConfigProblem("KEEL_DNS_SERVER", e.getMessage());
    }
    DomainService domains =
        new DomainService(
            system, domainSettings, new DomainReadModel(dataSource, blocking), tenants);
    ServiceRegistry serviceRegistry =
        new ServiceRegistry(system, serviceSettings, new ServiceReadModel(listReads, blocking));
    // Quotas: admitted in the write path by each tenant's ledgers; the monthly check reads the read
    // models.
    QuotaService quotas =
        new QuotaService(tenantSettings.plans(), tenantReadModel, dataSource, blocking);
    tenantUsages.set(quotas);
    QuotaLedger.init(system, clock, quotaSettings.reconciliation());
    KeyRing.init(system, clock);
    QuotaAdmission admission =
        NodeQuotas.admission(
            system, tenantSettings, tenants, quotas, serviceRegistry, domains, workflows, clock);
    // A tenant's schedule runs and alert deliveries count towards its month but are never refused.
    Schedule.init(
        system, admission.counting(workflows), clock, scheduleSettings, metrics.schedules());
    Tenant.init(system, workflows, clock);
    SlugReservation.init(system, clock, tenantSettings.unconfirmedReservationExpiry());
    // ---- alert rules: entities, the rules every node evaluates heartbeats against, the evaluator
    AlertSettings alertSettings = alertSettings(config);
    WorkflowStarter countedStarts = admission.counting(workflows);
    // A tenant's rule repairs with its tenant's workflows only, never with Keel's admin-only ones.
    WorkflowStarter repairStarts =
        (id, workflow, input, tenantId) ->
            tenantId != null && workflows.adminOnly(workflow)
                ? java.util.concurrent.CompletableFuture.failedFuture(
                    dev.keel.persistence.Rejection.invalidFailure(
                        "workflow '" + workflow + "' is one only the admin may start"))
                : countedStarts.start(id, workflow, input, tenantId);
    AlertRule.init(system, countedStarts, workflows, clock, alertSettings, repairStarts);
    AlertReadModel alertReadModel =
        new AlertReadModel(
            dataSource,
            system.dispatchers().lookup(DispatcherSelector.fromConfig("keel.blocking-dispatcher")));
    AlertCatalog alertCatalog =
        new AlertCatalog(alertReadModel, clock, alertSettings.catalogLocalGrace())
            .start(system, alertSettings.catalogRefresh());
    // ServiceObserver for the service entities
    AlertEvaluator alertEvaluator =
        AlertEvaluator.forSystem(system, alertCatalog, alertSettings, clock);
    // Metric history: heartbeats enqueue their metrics; a flusher writes them in batches.
    MetricHistory metricHistory;
    try {
      metricHistory =
          new MetricHistory(
                  MetricHistorySettings.fromConfig(config.getConfig("keel.services.history")),
                  new MetricHistoryStore(dataSource, blocking),
                  clock)
              .start(system);
    } catch (IllegalArgumentException | com.typesafe.config.ConfigException e) {
      throw new ConfigProblem("keel.services.history", e.getMessage());
    }
    metrics.metricHistory(metricHistory);
    // The registry watch reads the change table the service projection writes; every node expires
    // old changes (idempotent).
    ServiceChanges serviceChanges = new ServiceChanges(dataSource, blocking);
    Duration changeRetention = config.getDuration("keel.services.watch.retention");
    system
        .classicSystem()
        .scheduler()
        .scheduleWithFixedDelay(
            Duration.ofMinutes(1),
            Duration.ofMinutes(10),
            () -> {
              try {
                serviceChanges.deleteOlderThan(changeRetention, clock);
              } catch (java.sql.SQLException e) {
                log.warn("service change retention failed error={}", e.getClass().getSimpleName());
              }
            },
            system.dispatchers().lookup(DispatcherSelector.fromConfig("keel.blocking-dispatcher")));
    ServiceObserver serviceObserver =
        metricHistory.observing(NodeQuotas.releasingSlots(alertEvaluator, admission));
    RegisteredService.init(
        system,
        serviceObserver,
        clock,
        new ClusterCalm(system, settings.cluster().downingStableAfter(), clock),
        metrics.services());

    ProjectionLag lag = new ProjectionLag(clock);
    WorkflowProjection.init(system, dataSource, lag);
    ScheduleProjection.init(system, dataSource, lag);
    ServiceProjection.init(system, dataSource, lag);
    AlertProjection.init(system, dataSource, lag);
    TenantProjection.init(system, dataSource, lag);
    WakeupScheduler.init(system, dataSource, workflowSettings, clock);

    WorkflowReadModel readModel = new WorkflowReadModel(dataSource, blocking);
    bulkTargets.set(
        new BulkActionWorkflow.Targets() {
          @Override
          public CompletionStage<WorkflowReadModel.Page> page(
              WorkflowReadModel.Filter filter, int limit, String cursor) {
            return readModel.list(filter, limit, cursor);
          }

          @Override
          public CompletionStage<?> act(String action, String id, String reason) {
            return switch (action) {
              case "cancel" -> workflows.cancel(id, reason);
              case "retry" -> workflows.retry(id, reason);
              case "pause" -> workflows.pause(id);
              case "resume" -> workflows.resume(id);
              default -> throw new IllegalArgumentException("unknown bulk action " + action);
            };
          }
        });
    ScheduleReadModel scheduleReadModel = new ScheduleReadModel(listReads, blocking);
    ObjectMapper httpMapper = Json.mapper();
    // Custom hostnames: claims and DNS verification (remembered entities), their list, their routes
    // under /tenants/{id}/domains, and their release when a tenant is deleted.
    CustomDomain.init(system, dnsResolver, clock, domainSettings);
    DomainProjection.init(system, dataSource, lag, domainSettings);
    tenantLifecycle.bind(
        new TenantLifecycle() {
          @Override
          public CompletionStage<String> activate(String tenantId) {
            return tenants.activate(tenantId).thenApply(Tenant.TenantView::status);
          }

          @Override
          public CompletionStage<String> markDeleted(String tenantId) {
            return tenants.markDeleted(tenantId).thenApply(Tenant.TenantView::status);
          }

          @Override
          public CompletionStage<Integer> releaseDomains(String tenantId) {
            return domains.releaseAll(tenantId);
          }

          @Override
          public CompletionStage<Void> releaseSlug(String slug, String tenantId) {
            return tenants.releaseSlug(slug, tenantId).thenApply(d -> null);
          }
        });
    HttpApi api = new HttpApi(httpMapper, token, tenants::authenticate, settings.maxBodyBytes());
    // Built once: the DSL's suppliers run per request, so nothing costly may be constructed inside
    // them.
    WorkflowRoutes workflowRoutes =
        new WorkflowRoutes(
            api,
            workflows,
            new WorkflowReadModel(listReads, blocking),
            workflowSettings.longPollMax(),
            admission);
    ScheduleService scheduleService = new ScheduleService(system, scheduleSettings, workflows);
    ScheduleRoutes scheduleRoutes =
        new ScheduleRoutes(api, scheduleService, workflows, scheduleReadModel);
    // Every sharded entity type, declared once: /ready waits for each one's coordinator,
    // /api/v1/cluster counts each one, audit replays each one, and each one snapshots on demand.
    List<EntityKind<?>> entityKinds =
        List.of(
            WorkflowExecution.KIND,
            Schedule.KIND,
            RegisteredService.KIND,
            Tenant.KIND,
            SlugReservation.KIND,
            CustomDomain.KIND,
            AlertRule.KIND,
            QuotaLedger.KIND,
            KeyRing.KIND);
    List<EntityTypeKey<?>> entityTypes =
        entityKinds.stream().<EntityTypeKey<?>>map(EntityKind::key).toList();
    Readiness readiness =
        new Readiness(system, () -> KeelDataSource.answers(dataSource), blocking, entityTypes);
    ServiceRoutes serviceRoutes =
        new ServiceRoutes(
            api,
            serviceRegistry,
            admission,
            metricHistory,
            serviceChanges,
            new ServiceRoutes.WatchSettings(
                config.getDuration("keel.services.watch.poll-interval"),
                config.getDuration("keel.services.watch.keep-alive"),
                config.getDuration("keel.services.watch.max-duration")),
            clock);
    DomainRoutes domainRoutes =
        new DomainRoutes(api, domains, admission, tenantSettings.rootDomain());
    KeyRoutes keyRoutes = new KeyRoutes(api, namedKeys, tenants, clock);
    TenantRoutes tenantRoutes =
        new TenantRoutes(
            api, tenants, id -> api.concat(domainRoutes.routes(id), keyRoutes.tenantKeys(id)));
    AlertRoutes alertRoutes =
        new AlertRoutes(
            api,
            new AlertService(
                system, alertSettings, new AlertReadModel(listReads, blocking), alertCatalog),
            workflows);
    AuditRoutes auditRoutes =
        new AuditRoutes(
            api,
            new AuditLog(
                historyReads,
                entityKinds.stream().<EntityAudit<?, ?>>map(EntityKind::audit).toList()));
    SnapshotRoutes snapshotRoutes =
        new SnapshotRoutes(
            api,
            new OnDemandSnapshots(
                system,
                new JournalReader(system),
                entityKinds.stream()
                    .<OnDemandSnapshots.Target<?>>map(EntityKind::snapshots)
                    .toList()));
    HealthRoutes healthRoutes = new HealthRoutes(api, readiness::check);
    ClusterStatus clusterStatus =
        new ClusterStatus(system, entityTypes, settings.cluster().statusTimeout(), clock);
    ClusterRoutes clusterRoutes = new ClusterRoutes(api, clusterStatus::view);
    EntityCounts entityCounts = new EntityCounts(dataSource);
    metrics.start(system, runner, lag, clusterStatus, entityCounts);
    MetricsRoutes metricsRoutes =
        new MetricsRoutes(
            api, metrics::scrape, () -> metrics.figures(system, entityCounts, clock, blocking));
    ConsoleRoutes consoleRoutes = new ConsoleRoutes(api);
    Route routes =
        api.observed(
            metrics.http(),
            RequestTracing.of(KeelTracing.get(system)),
            () ->
                api.withProblemHandling(
                    () ->
                        api.concat(
                            healthRoutes.routes(),
                            // With a metrics port, /metrics is served there only.
                            settings.metricsPort() == 0 ? metricsRoutes.prometheus() : api.reject(),
                            new ApiDocsRoutes(api).routes(),
                            consoleRoutes.files(),
                            api.pathPrefix(
                                "api",
                                () ->
                                    api.pathPrefix(
                                        "v1",
                                        () ->
                                            api.authenticated(
                                                caller ->
                                                    api.authorized(
                                                        caller,
                                                        () ->
                                                            api.concat(
                                                                workflowRoutes.routes(caller),
                                                                scheduleRoutes.routes(caller),
                                                                serviceRoutes.routes(caller),
                                                                tenantRoutes.routes(caller),
                                                                alertRoutes.routes(caller),
                                                                auditRoutes.routes(caller),
                                                                snapshotRoutes.routes(caller),
                                                                clusterRoutes.routes(caller),
                                                                metricsRoutes.figures(caller),
                                                                keyRoutes.clusterKeys(),
                                                                consoleRoutes.caller(
                                                                    caller)))))))));
    if (replica.isPresent())
      routes = new ReplicaLagHeader(api, replica.get()::answeredLag).wrap(routes);

    Optional<TlsListener> tls = settings.tls().map(TlsListener::new);
    ServerBinding binding;
    try {
      var server = Http.get(system).newServerAt(settings.host(), settings.httpPort());
      if (tls.isPresent()) server = server.enableHttps(tls.get().connectionContext());
      binding = server.bind(routes).toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new ConfigProblem(
          "KEEL_HTTP_PORT",
          "cannot listen on "
              + settings.host()
              + ":"
              + settings.httpPort()
              + ": "
              + rootMessage(e));
    }
    Optional<ServerBinding> metricsBinding = Optional.empty();
    if (settings.metricsPort() != 0) {
      try {
        metricsBinding =
            Optional.of(
                Http.get(system)
                    .newServerAt(settings.host(), settings.metricsPort())
                    .bind(
                        api.withProblemHandling(
                            () -> api.concat(metricsRoutes.prometheus(), healthRoutes.routes())))
                    .toCompletableFuture()
                    .get(10, TimeUnit.SECONDS));
      } catch (Exception e) {
        throw new ConfigProblem(
            "KEEL_METRICS_PORT",
            "cannot listen on "
                + settings.host()
                + ":"
                + settings.metricsPort()
                + ": "
                + rootMessage(e));
      }
      ServerBinding mb = metricsBinding.get();
      shutdown.addTask(
          CoordinatedShutdown.PhaseServiceUnbind(),
          "metrics-unbind",
          () -> mb.unbind().thenApply(x -> Done.getInstance()));
      log.info("metrics served on their own port metricsPort={}", mb.localAddress().getPort());
    }
    outbound.bound(
        binding.localAddress().getPort(), cluster.selfMember().address().getPort().orElse(0));
    shutdown.addTask(
        CoordinatedShutdown.PhaseActorSystemTerminate(),
        "close-outbound-http",
        () -> {
          outbound.close();
          return java.util.concurrent.CompletableFuture.completedFuture(Done.getInstance());
        });
    // Stop taking requests first, let in-flight ones finish, then the cluster hands off shards.
    shutdown.addTask(
        CoordinatedShutdown.PhaseServiceUnbind(),
        "http-unbind",
        () -> binding.unbind().thenApply(x -> Done.getInstance()));
    shutdown.addTask(
        CoordinatedShutdown.PhaseServiceRequestsDone(),
        "http-drain",
        () -> binding.terminate(Duration.ofSeconds(5)).thenApply(x -> Done.getInstance()));

    if (quotaSettings.monthlySchedule()) {
      // Asks wait for the cluster to form, so this runs in the background and retries.
      QuotaCheckSchedule.ensure(scheduleService, system, 30, Duration.ofSeconds(2));
    }
    log.info(
        "keel node started http={}://{}:{} cluster={} database={} workflows={}",
        tls.isPresent() ? "https" : "http",
        settings.host(),
        binding.localAddress().getPort(),
        cluster.selfMember().address(),
        settings.database().redactedUrl(),
        registry.all().stream().map(w -> w.name()).toList());
    token
        .file()
        .ifPresent(
            f ->
                log.info(
                    "admin token file={} (generated on first start; pass it as Authorization:"
                        + " Bearer)",
                    f));
    return new KeelNode(system, binding, metricsBinding, settings, token, tenants);
  }

  /** The webhook-delivery built-in, from {@code keel.alerts.delivery}. */
  private static WebhookDeliveryWorkflow webhookDelivery(Config config, OutboundClients outbound) {
    try {
      Config delivery = config.getConfig("keel.alerts.delivery");
      return new WebhookDeliveryWorkflow(
          outbound.create(delivery.getDuration("connect-timeout")),
          WebhookDeliveryWorkflow.Settings.fromConfig(delivery));
    } catch (IllegalArgumentException | com.typesafe.config.ConfigException e) {
      throw new ConfigProblem("keel.alerts.delivery", e.getMessage());
    }
  }

  private static AlertSettings alertSettings(Config config) {
    try {
      return AlertSettings.fromConfig(config.getConfig("keel.alerts"));
    } catch (IllegalArgumentException | com.typesafe.config.ConfigException e) {
      throw new ConfigProblem("keel.alerts", e.getMessage());
    }
  }

  private static void checkPortFree(String host, int port, String setting) {
    if (port == 0) return;
    try (ServerSocket socket = new ServerSocket()) {
      socket.setReuseAddress(true);
      socket.bind(new InetSocketAddress(host, port));
    } catch (IOException e) {
      throw new ConfigProblem(
          setting, "port " + port + " on " + host + " is not available (" + e.getMessage() + ")");
    }
  }

  static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) t = t.getCause();
    return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
  }

  /** The port /metrics is served on: its own with a metrics port, else the API's. */
  public int metricsPort() {
    return metricsBinding.map(b -> b.localAddress().getPort()).orElse(httpPort());
  }

  public int httpPort() {
    return binding.localAddress().getPort();
  }

  public ActorSystem<Void> system() {
    return system;
  }

  public NodeSettings settings() {
    return settings;
  }

  public AdminToken adminToken() {
    return adminToken;
  }

  /**
   * The tenants façade, for programs that embed the node ({@code keel run} issues its pipeline's
   * key).
   */
  public TenantService tenants() {
    return tenants;
  }

  /** Stops the way SIGTERM does: CoordinatedShutdown, leaving the cluster. */
  public CompletionStage<Done> stop() {
    return CoordinatedShutdown.get(Adapter.toClassic(system))
        .runAll(CoordinatedShutdown.unknownReason());
  }

  @Override
  public void close() {
    try {
      stop().toCompletableFuture().get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      log.warn("node did not stop within 60 s: {}", e.getMessage());
    }
  }
}
