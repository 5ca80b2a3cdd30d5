package dev.keel.tenant.quota;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.persistence.ManualClock;
import dev.keel.tenant.TenantPlanLookup.TenantPlan;
import dev.keel.workflow.builtin.FakeWorkflowContext;
import dev.keel.workflow.builtin.ScriptedHttpServer;
import dev.keel.workflow.builtin.ScriptedHttpServer.Answer;
import dev.keel.workflow.builtin.ScriptedHttpServer.Received;
import dev.keel.workflow.outbound.JdkOutboundHttp;
import dev.keel.workflow.sdk.InputProblem;
import dev.keel.workflow.sdk.StepFailedException;
import java.io.IOException;
import java.net.http.HttpTimeoutException;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.YearMonth;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code quota-check} on a fake workflow context (failed steps retried at once) with scripted
 * usages and a real local HTTP server as the webhook: one step per tenant, a tenant that fails is
 * recorded while the others go on, and one Slack-compatible summary is posted, retried with a
 * stable Idempotency-Key until the webhook recovers.
 */
class QuotaCheckWorkflowTest {

  private static final String WORKFLOW_ID = "quota-check-monthly@2026-11-01T09:00:00.000Z";
  private static final Duration WEBHOOK_TIMEOUT = Duration.ofSeconds(1);
  private static final TenantPlan ACME = new TenantPlan("tacme", "acme", "free");
  private static final TenantPlan GLOBEX = new TenantPlan("tglobex", "globex", "free");
  private static final TenantPlan LEGACY = new TenantPlan("tlegacy", "legacy", "gold");
  private static final TenantPlan FLAKY = new TenantPlan("tflaky", "flaky", "pro");

  private final ObjectMapper json = new ObjectMapper();
  private final ScriptedHttpServer webhook = start();
  private final FakeWorkflowContext ctx = new FakeWorkflowContext(WORKFLOW_ID);
  private final ManualClock clock = new ManualClock(Instant.parse("2026-11-01T09:00:00.004Z"));
  private final ScriptedUsages usages = new ScriptedUsages();

  @AfterEach
  void stop() {
    webhook.close();
  }

  @Test
  void eachTenantIsOneStepAFailingTenantIsRecordedAndOneSummaryIsPostedUntilTheWebhookRecovers()
      throws Exception {
    usages.tenants.addAll(List.of(ACME, LEGACY, FLAKY, GLOBEX));
    usages.usage.put(
        ACME,
        List.of(
            QuotaUsage.of(Quota.SERVICES, 10, 10),
            QuotaUsage.of(Quota.WORKFLOW_STARTS, 1003, 1000),
            QuotaUsage.of(Quota.DOMAINS, 0, 1)));
    usages.usage.put(FLAKY, List.of(QuotaUsage.of(Quota.SERVICES, 3, 200)));
    usages.usage.put(GLOBEX, List.of(QuotaUsage.of(Quota.SERVICES, 1, 10)));
    usages.failFirst.put(FLAKY, new AtomicInteger(1));
    webhook.script(
        "/hooks/T000/B000/secret",
        Answer.text(500, "slack is down"),
        Answer.text(200, "ok").after(WEBHOOK_TIMEOUT.multipliedBy(4)),
        Answer.text(200, "ok"));

    QuotaCheckWorkflow.Output output =
        workflow(true).run(ctx, new QuotaCheckWorkflow.Input(null, null));

    assertThat(ctx.calls())
        .extracting(FakeWorkflowContext.Call::name)
        .containsExactly(
            "period",
            "list-tenants",
            "usage-tacme",
            "usage-tlegacy",
            "usage-tflaky",
            "usage-tglobex",
            "notify");
    assertThat(output.period()).as("the month before 2026-11-01").isEqualTo("2026-10");
    assertThat(output.tenantsChecked()).isEqualTo(4);
    assertThat(output.usage())
        .extracting(TenantUsage::tenantId)
        .containsExactly("tacme", "tflaky", "tglobex");
    assertThat(output.usage().get(0).period()).isEqualTo("2026-10");
    assertThat(output.atOrOverLimit()).containsExactly("tacme");
    assertThat(output.failures())
        .singleElement()
        .satisfies(
            f -> {
              assertThat(f.tenantId()).isEqualTo("tlegacy");
              assertThat(f.error()).contains("plan 'gold' is not defined");
            });
    assertThat(ctx.stepRecord("usage-tlegacy").attempts())
        .as("a missing plan is not retried")
        .isEqualTo(1);
    assertThat(ctx.stepRecord("usage-tflaky").attempts()).as("a read-model hiccup is").isEqualTo(2);
    assertThat(output.notified()).isTrue();

    List<Received> posts = webhook.received("/hooks/T000/B000/secret");
    // At least the 500, the timeout and the 200; a loaded machine may time out once more.
    assertThat(posts)
        .hasSizeGreaterThanOrEqualTo(3)
        .extracting(r -> r.header("Idempotency-Key"))
        .containsOnly(WORKFLOW_ID + "/notify");
    assertThat(posts)
        .extracting(Received::bodyText)
        .as("the same summary each time")
        .containsOnly(posts.get(0).bodyText());
    assertThat(posts.get(0).method()).isEqualTo("POST");
    assertThat(posts.get(0).header("Content-Type")).isEqualTo("application/json");
    FakeWorkflowContext.StepRecord notify = ctx.stepRecord("notify");
    assertThat(notify.succeeded()).isTrue();
    assertThat(notify.failures())
        .hasSizeGreaterThanOrEqualTo(2)
        .anySatisfy(
            f ->
                assertThat(f)
                    .isInstanceOf(IOException.class)
                    .hasMessage(
                        "the quota webhook at " + webhook.url("/").getHost() + " answered 500"))
        .anySatisfy(f -> assertThat(f).isInstanceOf(HttpTimeoutException.class))
        .allSatisfy(f -> assertThat(f).hasMessageNotContaining("secret"));
    assertThat(notify.policy().maxAttempts()).isEqualTo(8);

    JsonNode payload = json.readTree(posts.get(0).body());
    assertThat(payload.get("text").asText())
        .isEqualTo("Keel quota check 2026-10: 1 of 4 tenants are at or over a plan limit");
    JsonNode blocks = payload.get("blocks");
    assertThat(blocks.get(0).get("type").asText()).isEqualTo("header");
    assertThat(blocks.get(0).get("text").get("text").asText())
        .isEqualTo("Keel quota check 2026-10");
    assertThat(blocks.get(2).get("type").asText()).isEqualTo("section");
    assertThat(blocks.get(2).get("text").get("type").asText()).isEqualTo("mrkdwn");
    assertThat(blocks.get(2).get("text").get("text").asText())
        .isEqualTo(
            "*acme* (plan free, `tacme`)\n"
                + "• services: 10 of 10 (at limit)\n"
                + "• workflow-starts-per-month: 1003 of 1000 (over)");
    JsonNode context = blocks.get(blocks.size() - 1);
    assertThat(context.get("type").asText()).isEqualTo("context");
    assertThat(context.get("elements").get(0).get("text").asText())
        .contains(WORKFLOW_ID)
        .contains("1 tenant could not be checked");
  }

  @Test
  void aGivenMonthIsUsedAsIsAndNobodyOverMeansNoNotification() throws Exception {
    usages.tenants.add(GLOBEX);
    usages.usage.put(
        GLOBEX, List.of(QuotaUsage.of(Quota.SERVICES, 1, 10), QuotaUsage.of(Quota.DOMAINS, 0, -1)));

    QuotaCheckWorkflow.Output output =
        workflow(true).run(ctx, new QuotaCheckWorkflow.Input(2026, 3));

    assertThat(ctx.calls())
        .extracting(FakeWorkflowContext.Call::name)
        .containsExactly("list-tenants", "usage-tglobex");
    assertThat(usages.periods).containsExactly(YearMonth.of(2026, 3));
    assertThat(output.period()).isEqualTo("2026-03");
    assertThat(output.atOrOverLimit()).isEmpty();
    assertThat(output.notified()).isFalse();
    assertThat(webhook.received("/hooks/T000/B000/secret")).isEmpty();
  }

  @Test
  void withoutAWebhookTheReportIsTheOutputAlone() throws Exception {
    usages.tenants.add(ACME);
    usages.usage.put(ACME, List.of(QuotaUsage.of(Quota.SERVICES, 10, 10)));

    QuotaCheckWorkflow.Output output =
        workflow(false).run(ctx, new QuotaCheckWorkflow.Input(null, null));

    assertThat(output.atOrOverLimit()).containsExactly("tacme");
    assertThat(output.notified()).isFalse();
    assertThat(ctx.calls()).extracting(FakeWorkflowContext.Call::name).doesNotContain("notify");
  }

  @Test
  void aWebhookThatNeverRecoversFailsTheCheckWithItsStepVisible() {
    usages.tenants.add(ACME);
    usages.usage.put(ACME, List.of(QuotaUsage.of(Quota.SERVICES, 11, 10)));
    webhook.script("/hooks/T000/B000/secret", Answer.empty(502));

    assertThatThrownBy(() -> workflow(true).run(ctx, new QuotaCheckWorkflow.Input(2026, 10)))
        .isInstanceOfSatisfying(
            StepFailedException.class, e -> assertThat(e.stepName()).isEqualTo("notify"))
        .hasMessageNotContaining("secret");
    assertThat(webhook.received("/hooks/T000/B000/secret")).as("every attempt").hasSize(8);
  }

  @Test
  void theDefaultMonthIsThePreviousOneInUtcAcrossAYear() throws Exception {
    clock.set(Instant.parse("2027-01-01T00:30:00Z"));

    assertThat(workflow(false).run(ctx, new QuotaCheckWorkflow.Input(null, null)).period())
        .isEqualTo("2026-12");
  }

  @Test
  void yearAndMonthAreCheckedBeforeAnythingStarts() {
    QuotaCheckWorkflow workflow = workflow(false);

    assertThat(workflow.validate(new QuotaCheckWorkflow.Input(2026, null)))
        .extracting(InputProblem::field)
        .containsExactly("month");
    assertThat(workflow.validate(new QuotaCheckWorkflow.Input(null, 10)))
        .extracting(InputProblem::field)
        .containsExactly("year");
    assertThat(workflow.validate(new QuotaCheckWorkflow.Input(1999, 13)))
        .extracting(InputProblem::field)
        .containsExactly("year", "month");
    assertThat(workflow.validate(new QuotaCheckWorkflow.Input(2026, 10))).isEmpty();
    assertThat(workflow.validate(new QuotaCheckWorkflow.Input(null, null))).isEmpty();
  }

  @Test
  void theBuiltInScheduleRunsOnTheFirstAt0900UtcForTheMonthJustEnded() {
    var definition = QuotaCheckSchedule.definition();

    assertThat(definition.workflow()).isEqualTo("quota-check");
    assertThat(definition.cron()).isEqualTo("0 9 1 * *");
    assertThat(definition.timezone()).isEqualTo("UTC");
    assertThat(definition.input().isObject() && definition.input().isEmpty())
        .as("{}: the default month")
        .isTrue();
    assertThat(definition.tenantId()).as("the admin's").isNull();
    assertThat(definition.paused()).isFalse();
  }

  private QuotaCheckWorkflow workflow(boolean withWebhook) {
    QuotaSettings settings =
        new QuotaSettings(
            true,
            withWebhook ? Optional.of(webhook.url("/hooks/T000/B000/secret")) : Optional.empty(),
            WEBHOOK_TIMEOUT,
            Duration.ofMillis(10),
            Duration.ofMillis(100),
            8,
            new QuotaLedger.Reconciliation(Duration.ofMinutes(1), Duration.ofMinutes(2)));
    return new QuotaCheckWorkflow(
        () -> usages, new JdkOutboundHttp(Duration.ofSeconds(2)), settings, clock);
  }

  /** Usages from a script; a tenant on plan {@code gold} has a plan that is not configured. */
  private static final class ScriptedUsages implements TenantUsages {
    final List<TenantPlan> tenants = new ArrayList<>();
    final Map<TenantPlan, List<QuotaUsage>> usage = new ConcurrentHashMap<>();
    final Map<TenantPlan, AtomicInteger> failFirst = new ConcurrentHashMap<>();
    final List<YearMonth> periods = new ArrayList<>();

    @Override
    public List<TenantPlan> tenants() {
      return List.copyOf(tenants);
    }

    @Override
    public TenantUsage usage(TenantPlan tenant, YearMonth period) throws SQLException {
      periods.add(period);
      if (tenant.plan().equals("gold")) throw new QuotaService.UnknownPlanException("gold");
      AtomicInteger failures = failFirst.get(tenant);
      if (failures != null && failures.getAndDecrement() > 0)
        throw new SQLException("connection reset");
      return new TenantUsage(
          tenant.tenantId(), tenant.slug(), tenant.plan(), period.toString(), usage.get(tenant));
    }
  }

  private static ScriptedHttpServer start() {
    try {
      return new ScriptedHttpServer();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
