package dev.keel.client;

/**
 * An alert rule as written ({@code PUT /api/v1/alerts/{id}}): when {@code service} (an id, or
 * {@code *} for every service) enters {@code condition}, Keel posts to {@code webhook}.
 *
 * <pre>{@code
 * keel.putAlert("orders-down", new AlertRule("orders-api", "status != healthy", "https://hooks.example/keel", 300));
 * keel.putAlert("lagging", new AlertRule("*", "metrics.lag_seconds > 30", "https://hooks.example/keel", null));
 * }</pre>
 *
 * @param service a service id, or {@code *}
 * @param condition {@code status} or {@code metrics.<name>} compared with {@code == != < <= > >=}
 *     to a word or a number
 * @param webhook an http or https URL
 * @param cooldownSeconds the least time between two firings for one service; null: Keel's default
 */
public record AlertRule(
    String service, String condition, String webhook, Integer cooldownSeconds) {}
