package dev.keel.tenant.quota;

import dev.keel.tenant.TenantSettings;

/**
 * What a plan limits, named as in {@code keel.tenants.plans} and in a 429's {@code quota} member.
 */
public enum Quota {
  SERVICES("services", "service", "services"),
  WORKFLOW_STARTS(
      "workflow-starts-per-month", "workflow start per month", "workflow starts per month"),
  DOMAINS("domains", "custom domain", "custom domains");

  private final String key;
  private final String one;
  private final String many;

  Quota(String key, String one, String many) {
    this.key = key;
    this.one = one;
    this.many = many;
  }

  public String key() {
    return key;
  }

  /** {@code 1 service}, {@code 10 services}: for messages people read. */
  public String count(long n) {
    return n + " " + (n == 1 ? one : many);
  }

  /** What {@code plan} allows of this; {@code -1} is unlimited. */
  public int limitIn(TenantSettings.Plan plan) {
    switch (this) {
      case SERVICES:
        return plan.services();
      case WORKFLOW_STARTS:
        return plan.workflowStartsPerMonth();
      default:
        return plan.domains();
    }
  }
}
