package dev.keel.workflow.sdk;

/**
 * A durable workflow: Java code made of named steps whose results Keel journals.
 *
 * <p>Keel runs {@link #run} on a worker thread. Every {@code ctx.step(...)}, {@code ctx.sleep(...)}
 * and {@code ctx.awaitSignal(...)} call is recorded in the execution's journal. When the execution
 * resumes (after a crash, a redeploy, a sleep or a signal), Keel calls {@code run} again from the
 * top and every recorded call returns its recorded result at once, without running its body again.
 *
 * <p><b>Determinism rule.</b> Code outside steps must make the same calls in the same order on
 * every run: no clock reads, random numbers, I/O or iteration over unordered collections outside a
 * step. Put anything that talks to the world inside {@code ctx.step}. When a replay asks for a
 * different step than the journal recorded at that position, the execution fails with a {@link
 * ReplayDivergedError} naming both.
 *
 * <pre>{@code
 * public final class Onboarding implements Workflow<Onboarding.Input, String> {
 *   public record Input(String userId) {}
 *   public String name() { return "onboarding"; }
 *   public Class<Input> inputType() { return Input.class; }
 *   public String run(WorkflowContext ctx, Input in) {
 *     String account = ctx.step("create-account", String.class,
 *         () -> accounts.create(in.userId(), ctx.idempotencyKey()));
 *     ctx.sleep("grace-period", Duration.ofDays(1));
 *     ctx.step("send-welcome", Void.class, RetryPolicy.defaults(), () -> { mail.send(account); return null; });
 *     return account;
 *   }
 * }
 * }</pre>
 *
 * Register it programmatically with {@code WorkflowRegistry.register}, or ship it in a plug-in jar
 * with a {@code META-INF/services/dev.keel.workflow.sdk.Workflow} file and start the node with
 * {@code --plugins-dir}.
 *
 * @param <I> the input type, read from the start request's JSON {@code input} with Jackson
 * @param <O> the output type, written to the execution's JSON {@code output} with Jackson
 */
public interface Workflow<I, O> {

  /** The name clients start it by; matches {@code ^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$}. */
  String name();

  /** The input type; the start request's {@code input} is converted to it. */
  Class<I> inputType();

  /** The workflow body. See the determinism rule above. */
  O run(WorkflowContext ctx, I input) throws Exception;

  /**
   * Checks an input before the execution starts; each problem becomes an entry of the 400 answer
   * and nothing is journaled. Field paths are relative to {@code input} (e.g. {@code
   * steps[0].name}).
   */
  default java.util.List<InputProblem> validate(I input) {
    return java.util.List.of();
  }

  /**
   * The check Keel runs before a start: {@link #validate(Object)}, plus whatever depends on who the
   * execution will belong to ({@code tenantId}, null for the admin's own and Keel's).
   */
  default java.util.List<InputProblem> validateStart(I input, String tenantId) {
    return validate(input);
  }

  /** One line for {@code GET /api/v1/workflow-definitions}. */
  default String description() {
    return "";
  }

  /**
   * The declared version, stamped on every execution when it starts. Bump it when a change to
   * {@link #run} would make old journals replay differently.
   */
  default int version() {
    return 1;
  }

  /**
   * At most this many executions of this workflow run step bodies at once on one node; 0 means no
   * limit other than the node's. Executions over the cap wait their turn (shown as queued).
   */
  default int maxConcurrent() {
    return 0;
  }
}
