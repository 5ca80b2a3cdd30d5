package dev.keel.tenant.quota;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.tenant.TenantPlanLookup.TenantPlan;
import dev.keel.workflow.outbound.OutboundHttp;
import dev.keel.workflow.sdk.InputProblem;
import dev.keel.workflow.sdk.RetryPolicy;
import dev.keel.workflow.sdk.StepFailedException;
import dev.keel.workflow.sdk.Workflow;
import dev.keel.workflow.sdk.WorkflowContext;
import java.io.IOException;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * {@code quota-check}: every tenant's usage against its plan for one calendar month, and one
 * summary to {@code KEEL_QUOTA_WEBHOOK_URL} when any tenant is at or over a limit.
 *
 * <p>Input {@code {"year": 2026, "month": 10}}, or {@code {}} for the month before the one it runs
 * in (UTC): the built-in schedule {@value #SCHEDULE_ID} runs it on the 1st at 09:00 UTC, when the
 * month just ended is the one to report. Workflow starts are counted within that month; services
 * and custom domains as they are when the check runs (the read models keep no history of them).
 *
 * <p>Steps: {@code period} (only without input), {@code list-tenants} (every tenant not being
 * deleted), {@code usage-<tenantId>} for each (a failure for one tenant is recorded in the output
 * and the others go on), then {@code notify} when any tenant is at or over a limit and a webhook is
 * configured (retried with backoff, one {@code Idempotency-Key} across retries).
 */
public final class QuotaCheckWorkflow
    implements Workflow<QuotaCheckWorkflow.Input, QuotaCheckWorkflow.Output> {

  public static final String NAME = "quota-check";
  public static final String SCHEDULE_ID = "quota-check-monthly";
  public static final String CRON = "0 9 1 * *";

  /** Both or neither; neither means the month before the run's. */
  public record Input(Integer year, Integer month) {}

  /** What the first step lists: every tenant not being deleted. */
  public record TenantList(List<TenantPlan> tenants) {}

  public record TenantFailure(String tenantId, String slug, String error) {}

  /**
   * {@code atOrOverLimit}: the tenants with a quota at or over its limit (their next new one is
   * refused); {@code notified}: whether the summary was posted.
   */
  public record Output(
      String period,
      int tenantsChecked,
      List<TenantUsage> usage,
      List<String> atOrOverLimit,
      List<TenantFailure> failures,
      boolean notified) {}

  private static final ObjectMapper JSON = new ObjectMapper();

  /** Reading the read models: a few quick tries, then the tenant is recorded as failed. */
  private static final RetryPolicy READ_RETRY =
      RetryPolicy.defaults()
          .withMaxAttempts(3)
          .withBackoff(Duration.ofSeconds(2), Duration.ofSeconds(30), 2.0)
          .withNonRetryable(QuotaService.UnknownPlanException.class);

  private final Supplier<TenantUsages> usages;
  private final OutboundHttp http;
  private final QuotaSettings settings;
  private final Clock clock;

  /**
   * {@code usages} is asked in steps only: the node binds its {@link QuotaService} once the actor
   * system exists, after the built-in workflows are registered; a step asking earlier fails and
   * retries.
   */
  public QuotaCheckWorkflow(
      Supplier<TenantUsages> usages, OutboundHttp http, QuotaSettings settings, Clock clock) {
    this.usages = usages;
    this.http = http;
    this.settings = settings;
    this.clock = clock;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Class<Input> inputType() {
    return Input.class;
  }

  @Override
  public String description() {
    return "Every tenant's usage against its plan for a month ({\"year\",\"month\"}, default the"
        + " previous one); notifies KEEL_QUOTA_WEBHOOK_URL when any tenant is at or over a"
        + " limit";
  }

  @Override
  public List<InputProblem> validate(Input input) {
    List<InputProblem> problems = new ArrayList<>();
    if ((input.year() == null) != (input.month() == null)) {
      problems.add(
          new InputProblem(
              input.year() == null ? "year" : "month", "give year and month together, or neither"));
    }
    if (input.year() != null && (input.year() < 2000 || input.year() > 9999)) {
      problems.add(new InputProblem("year", "must be between 2000 and 9999"));
    }
    if (input.month() != null && (input.month() < 1 || input.month() > 12)) {
      problems.add(new InputProblem("month", "must be between 1 and 12"));
    }
    return problems;
  }

  @Override
  public Output run(WorkflowContext ctx, Input input) throws Exception {
    String period =
        input.year() != null
            ? YearMonth.of(input.year(), input.month()).toString()
            // A clock read, so a step: a replay must see the month the first run saw.
            : ctx.step(
                "period",
                String.class,
                () -> YearMonth.now(clock.withZone(ZoneOffset.UTC)).minusMonths(1).toString());
    YearMonth month = YearMonth.parse(period);
    List<TenantPlan> listed =
        ctx.step(
                "list-tenants",
                TenantList.class,
                READ_RETRY,
                () -> new TenantList(usages.get().tenants()))
            .tenants();

    List<TenantUsage> usage = new ArrayList<>();
    List<TenantFailure> failures = new ArrayList<>();
    for (TenantPlan tenant : listed) {
      try {
        usage.add(
            ctx.step(
                "usage-" + tenant.tenantId(),
                TenantUsage.class,
                READ_RETRY,
                () -> usages.get().usage(tenant, month)));
      } catch (StepFailedException e) {
        failures.add(new TenantFailure(tenant.tenantId(), tenant.slug(), e.getMessage()));
      }
    }
    List<TenantUsage> reached = usage.stream().filter(u -> !u.reached().isEmpty()).toList();
    boolean notified = false;
    if (!reached.isEmpty() && settings.webhookUrl().isPresent()) {
      byte[] body =
          JSON.writeValueAsBytes(
              QuotaNotification.payload(
                  period, listed.size(), reached, failures.size(), ctx.workflowId()));
      RetryPolicy retry =
          RetryPolicy.defaults()
              .withMaxAttempts(settings.webhookMaxAttempts())
              .withBackoff(settings.webhookInitialBackoff(), settings.webhookMaxBackoff(), 2.0)
              .withJitter(0.2);
      ctx.step(
          "notify",
          Integer.class,
          retry,
          () -> post(settings.webhookUrl().get(), body, ctx.idempotencyKey()));
      notified = true;
    }
    return new Output(
        period,
        listed.size(),
        usage,
        reached.stream().map(TenantUsage::tenantId).toList(),
        failures,
        notified);
  }

  /**
   * Posts the summary; anything but a 2xx throws so that the step retries. Names the host only: the
   * URL is a secret.
   */
  private int post(URI url, byte[] body, String idempotencyKey) throws IOException {
    OutboundHttp.Response response =
        http.send(
            new OutboundHttp.Request(
                "POST",
                url,
                Map.of("Content-Type", "application/json", "Idempotency-Key", idempotencyKey),
                body,
                settings.webhookTimeout()));
    if (response.status() / 100 != 2) {
      throw new IOException(
          "the quota webhook at " + url.getHost() + " answered " + response.status());
    }
    return response.status();
  }
}
