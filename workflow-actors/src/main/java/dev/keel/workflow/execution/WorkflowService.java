package dev.keel.workflow.execution;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.type.LogicalType;
import dev.keel.persistence.JournalReader;
import dev.keel.persistence.JournaledEntities;
import dev.keel.persistence.RequestScope;
import dev.keel.persistence.grammar.Ids;
import dev.keel.workflow.sdk.InputProblem;
import dev.keel.workflow.sdk.Workflow;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.apache.pekko.pattern.StatusReply;

/**
 * The workflow façade for routes and other modules: validates a start against the registry, then
 * asks the execution entity (wherever sharding keeps it) with the timeout from settings.
 */
public final class WorkflowService implements WorkflowStarter, WorkflowOutcomes {

  /** A registered workflow as listed by {@code GET /api/v1/workflow-definitions}. */
  public record Definition(String name, String description, int version, int maxConcurrent) {}

  private final ActorSystem<?> system;
  private final ClusterSharding sharding;
  private final NodeWorkflowRegistry registry;
  private final WorkflowSettings settings;

  /**
   * Checks a start's input: the node's mapper without scalar coercion (see {@link
   * #withoutScalarCoercion}).
   */
  private final ObjectMapper inputMapper;

  private final JournalReader journal;
  private final JournaledEntities journaled;
  private final java.time.Clock clock;

  public WorkflowService(
      ActorSystem<?> system,
      NodeWorkflowRegistry registry,
      WorkflowSettings settings,
      ObjectMapper mapper,
      java.time.Clock clock) {
    this(system, registry, settings, mapper, clock, new JournalReader(system));
  }

  /** As above, reading {@link #history} through {@code history} (a read replica's journal). */
  public WorkflowService(
      ActorSystem<?> system,
      NodeWorkflowRegistry registry,
      WorkflowSettings settings,
      ObjectMapper mapper,
      java.time.Clock clock,
      JournalReader history) {
    this.clock = clock;
    this.system = system;
    this.sharding = ClusterSharding.get(system);
    this.registry = registry;
    this.settings = settings;
    this.inputMapper = withoutScalarCoercion(mapper);
    this.journal = history;
    this.journaled = new JournaledEntities(system);
  }

  private EntityRef<WorkflowExecution.Command> entity(String id) {
    return sharding.entityRefFor(WorkflowExecution.ENTITY_KEY, id);
  }

  /**
   * Asks an execution that was started; an unknown id is answered 404 without waking (and
   * remembering) an entity.
   */
  private <T> CompletionStage<T> askStarted(
      String id,
      java.util.function.Function<ActorRef<StatusReply<T>>, WorkflowExecution.Command> command,
      Duration timeout) {
    return journaled.askIfJournaled(
        entity(id),
        WorkflowExecution.persistenceId(id).id(),
        () -> WorkflowExecution.doesNotExist(id),
        r -> RequestScope.onBehalf(command.apply(r), WorkflowExecution.Traced::new),
        timeout);
  }

  /**
   * Starts {@code workflow} as execution {@code id}. Fails with {@link UnknownWorkflowException},
   * {@link InvalidInputException} (also for an id or tenant id outside their grammar, whoever
   * starts: the read model must hold both), or a rejection (conflict) from the entity.
   */
  public CompletionStage<WorkflowExecution.StartAccepted> startExecution(
      String id, String workflowName, JsonNode input, String tenantId) {
    List<InputProblem> idProblems = new ArrayList<>();
    Ids.workflowIdProblem(id).ifPresent(p -> idProblems.add(new InputProblem("id", p)));
    if (tenantId != null)
      Ids.tenantIdProblem(tenantId).ifPresent(p -> idProblems.add(new InputProblem("tenantId", p)));
    if (!idProblems.isEmpty())
      return CompletableFuture.failedFuture(new InvalidInputException(idProblems));
    Workflow<?, ?> workflow = registry.find(workflowName).orElse(null);
    if (workflow == null)
      return CompletableFuture.failedFuture(new UnknownWorkflowException(workflowName));
    JsonNode normalized = input == null ? NullNode.getInstance() : input;
    List<InputProblem> problems = validate(workflow, normalized, tenantId);
    if (!problems.isEmpty())
      return CompletableFuture.failedFuture(new InvalidInputException(problems));
    int version = workflow.version();
    // The asker answers 503 when the ask times out; past that instant the entity must not start it.
    java.time.Instant deadline = clock.instant().plus(settings.askTimeout());
    return entity(id)
        .<WorkflowExecution.StartAccepted>askWithStatus(
            replyTo ->
                RequestScope.<WorkflowExecution.Command>onBehalf(
                    new WorkflowExecution.Start(
                        workflowName, version, normalized, tenantId, deadline, replyTo),
                    WorkflowExecution.Traced::new),
            settings.askTimeout())
        .thenApply(
            accepted -> {
              journaled.created(WorkflowExecution.persistenceId(id).id());
              return accepted;
            });
  }

  @Override
  public CompletionStage<StartOutcome> start(
      String workflowId, String workflow, JsonNode input, String tenantId) {
    return startExecution(workflowId, workflow, input, tenantId)
        .thenApply(accepted -> new StartOutcome(workflowId, accepted.created()));
  }

  /**
   * A copy of {@code mapper} that binds a JSON value only to a field of its own type. Jackson's
   * default turns {@code 7} or {@code true} into the String "7" or "true", "10" into the number 10,
   * and truncates {@code 1.5} to the integer 1; a start with such input is refused with 400 and the
   * field's path instead, so that what a workflow sees is what the client sent. A whole number for
   * a decimal field stays allowed. Only the check at the start is strict: the runner binds the
   * journaled input with the node's own mapper, as before, so executions journaled earlier replay.
   */
  static ObjectMapper withoutScalarCoercion(ObjectMapper mapper) {
    ObjectMapper strict = mapper.copy().disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT);
    strict
        .coercionConfigFor(LogicalType.Textual)
        .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
        .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
        .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail);
    for (LogicalType scalar :
        new LogicalType[] {LogicalType.Integer, LogicalType.Float, LogicalType.Boolean}) {
      strict.coercionConfigFor(scalar).setCoercion(CoercionInputShape.String, CoercionAction.Fail);
    }
    strict
        .coercionConfigFor(LogicalType.Boolean)
        .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail);
    return strict;
  }

  /**
   * What a start of {@code workflowName} with {@code input} on behalf of {@code tenantId} (null:
   * the admin) would be refused for (empty when the input fits), without starting anything:
   * schedules check their input with it when defined.
   *
   * @throws UnknownWorkflowException for a name no workflow is registered under
   */
  public List<InputProblem> inputProblems(String workflowName, JsonNode input, String tenantId) {
    Workflow<?, ?> workflow =
        registry.find(workflowName).orElseThrow(() -> new UnknownWorkflowException(workflowName));
    return validate(workflow, input == null ? NullNode.getInstance() : input, tenantId);
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private List<InputProblem> validate(Workflow workflow, JsonNode input, String tenantId) {
    Object typed;
    try {
      typed = inputMapper.treeToValue(input, workflow.inputType());
    } catch (JsonMappingException e) {
      String path =
          e.getPath().stream()
              .map(
                  ref ->
                      ref.getFieldName() != null ? ref.getFieldName() : "[" + ref.getIndex() + "]")
              .collect(Collectors.joining("."))
              .replace(".[", "[");
      String field = path.isEmpty() ? "input" : "input." + path;
      String message =
          e instanceof MismatchedInputException
              ? "has the wrong type or shape"
              : e.getOriginalMessage();
      return List.of(new InputProblem(field, message));
    } catch (Exception e) {
      return List.of(new InputProblem("input", "cannot be read: " + e.getMessage()));
    }
    if (typed == null) return List.of(new InputProblem("input", "is required"));
    List<InputProblem> problems = new ArrayList<>();
    for (Object p : workflow.validateStart(typed, tenantId)) {
      InputProblem problem = (InputProblem) p;
      problems.add(
          new InputProblem(
              problem.field().startsWith("input") ? problem.field() : "input." + problem.field(),
              problem.message()));
    }
    return problems;
  }

  public CompletionStage<ExecutionView> get(String id) {
    return askStarted(id, WorkflowExecution.Get::new, settings.askTimeout());
  }

  /** Answers when the execution is final, or with its current view when {@code wait} runs out. */
  public CompletionStage<ExecutionView> awaitFinal(String id, Duration wait) {
    Duration bounded = wait.compareTo(settings.longPollMax()) > 0 ? settings.longPollMax() : wait;
    return this.<ExecutionView>askStarted(id, WorkflowExecution.AwaitFinal::new, bounded)
        .handle(
            (view, error) -> {
              if (error == null) return CompletableFuture.completedFuture(view);
              if (isTimeout(error)) return get(id);
              return CompletableFuture.<ExecutionView>failedFuture(error);
            })
        .thenCompose(stage -> stage);
  }

  @Override
  public CompletionStage<java.util.Optional<Outcome>> awaitOutcome(
      String workflowId, Duration wait) {
    return awaitFinal(workflowId, wait)
        .thenApply(
            view ->
                view.isFinal()
                    ? java.util.Optional.of(new Outcome(view.status(), view.error()))
                    : java.util.Optional.empty());
  }

  private static boolean isTimeout(Throwable error) {
    for (Throwable t = error; t != null; t = t.getCause()) {
      if (t instanceof TimeoutException) return true;
    }
    return false;
  }

  public CompletionStage<ExecutionView> cancel(String id, String reason) {
    return askStarted(id, r -> new WorkflowExecution.Cancel(reason, r), settings.askTimeout());
  }

  public CompletionStage<ExecutionView> pause(String id) {
    return askStarted(id, WorkflowExecution.Pause::new, settings.askTimeout());
  }

  public CompletionStage<ExecutionView> resume(String id) {
    return askStarted(id, WorkflowExecution.Resume::new, settings.askTimeout());
  }

  /** Takes a failed or cancelled execution back to running (see {@link ExecutionRecovery}). */
  public CompletionStage<ExecutionView> retry(String id, String reason) {
    return askStarted(id, r -> new WorkflowExecution.Retry(reason, r), settings.askTimeout());
  }

  /**
   * What a rerun of {@code id} from {@code fromStep} would copy; fails with {@link
   * InvalidInputException} on {@code fromStep} when the execution never reached that step.
   */
  public CompletionStage<ExecutionRecovery.RerunSource> rerunSource(String id, String fromStep) {
    return this.<ExecutionRecovery.RerunSource>askStarted(
            id, r -> new WorkflowExecution.PrepareRerun(fromStep, r), settings.askTimeout())
        .exceptionallyCompose(
            error -> {
              var rejection = dev.keel.persistence.Rejection.of(error);
              if (rejection.isPresent()
                  && rejection.get().kind() == dev.keel.persistence.Rejection.Kind.INVALID)
                return CompletableFuture.failedFuture(
                    new InvalidInputException(
                        List.of(new InputProblem("fromStep", rejection.get().detail()))));
              return CompletableFuture.failedFuture(error);
            });
  }

  /**
   * Starts {@code newId} as a rerun of {@code id} from the step {@code fromStep} of {@code source}
   * (see {@link #rerunSource}): the calls before it copied, the rest run by the current code, the
   * two executions linked both ways.
   */
  public CompletionStage<WorkflowExecution.StartAccepted> rerun(
      String id, String fromStep, String newId, ExecutionRecovery.RerunSource source) {
    List<InputProblem> idProblems = new ArrayList<>();
    Ids.workflowIdProblem(newId).ifPresent(p -> idProblems.add(new InputProblem("id", p)));
    if (!idProblems.isEmpty())
      return CompletableFuture.failedFuture(new InvalidInputException(idProblems));
    Workflow<?, ?> workflow = registry.find(source.workflow()).orElse(null);
    if (workflow == null)
      return CompletableFuture.failedFuture(new UnknownWorkflowException(source.workflow()));
    java.time.Instant deadline = clock.instant().plus(settings.askTimeout());
    return entity(newId)
        .<WorkflowExecution.StartAccepted>askWithStatus(
            replyTo ->
                RequestScope.<WorkflowExecution.Command>onBehalf(
                    new WorkflowExecution.StartRerun(
                        source.workflow(),
                        workflow.version(),
                        source.input(),
                        source.tenantId(),
                        id,
                        fromStep,
                        source.copied(),
                        deadline,
                        replyTo),
                    WorkflowExecution.Traced::new),
            settings.askTimeout())
        .thenCompose(
            accepted -> {
              journaled.created(WorkflowExecution.persistenceId(newId).id());
              // Linked after the start, so that a link never names an execution that is not there.
              return this.<Done>askStarted(
                      id,
                      r -> new WorkflowExecution.LinkRerun(newId, fromStep, r),
                      settings.askTimeout())
                  .thenApply(done -> accepted);
            });
  }

  public CompletionStage<Done> signal(String id, String name, JsonNode payload) {
    JsonNode normalized = payload == null ? NullNode.getInstance() : payload;
    return askStarted(
        id, r -> new WorkflowExecution.SendSignal(name, normalized, r), settings.askTimeout());
  }

  /** The execution's journal, oldest first; fails with not-found when it has none. */
  public CompletionStage<List<JournalReader.JournalEntry>> history(String id) {
    return journal.events(WorkflowExecution.persistenceId(id).id(), 0L, Long.MAX_VALUE);
  }

  /**
   * Whether only the admin may start {@code workflowName} ({@link
   * NodeWorkflowRegistry#registerAdminOnly}).
   */
  public boolean adminOnly(String workflowName) {
    return registry.adminOnly(workflowName);
  }

  public List<Definition> definitions() {
    return registry.all().stream()
        .map(w -> new Definition(w.name(), w.description(), w.version(), w.maxConcurrent()))
        .toList();
  }
}
