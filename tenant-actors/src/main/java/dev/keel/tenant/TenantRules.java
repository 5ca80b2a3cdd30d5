package dev.keel.tenant;

import dev.keel.persistence.grammar.Texts;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What a new tenant may be called: routes list every problem in one 400; the service checks again.
 */
public final class TenantRules {

  /**
   * A slug is the first label of the tenant's default domain, so it must be a DNS label (3 to 63).
   */
  private static final Pattern SLUG = Pattern.compile("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$");

  /** Names that would read as the platform's own hosts under the root domain. */
  private static final Set<String> RESERVED =
      Set.of(
          "www",
          "api",
          "app",
          "admin",
          "keel",
          "mail",
          "status",
          "support",
          "docs",
          "static",
          "cdn",
          "auth",
          "login",
          "dashboard",
          "internal");

  public static final int MAX_NAME = Texts.MAX_TENANT_NAME_LENGTH;

  private TenantRules() {}

  /** One thing wrong with a field. */
  public record Problem(String field, String message) {}

  public static List<Problem> problems(
      String slug, String name, String plan, Map<String, TenantSettings.Plan> plans) {
    List<Problem> problems = new ArrayList<>();
    if (slug == null || slug.isEmpty()) {
      problems.add(new Problem("slug", "is required"));
    } else if (!SLUG.matcher(slug).matches() || slug.contains("--")) {
      problems.add(
          new Problem(
              "slug",
              "must be 3 to 63 lower-case letters, digits or single hyphens, starting and ending "
                  + "with a letter or digit (it becomes <slug>.<root domain>)"));
    } else if (RESERVED.contains(slug)) {
      problems.add(new Problem("slug", "'" + slug + "' is reserved"));
    }
    Texts.nameProblem(name, MAX_NAME).ifPresent(p -> problems.add(new Problem("name", p)));
    if (plan == null || plan.isEmpty()) problems.add(new Problem("plan", "is required"));
    else if (!plans.containsKey(plan))
      problems.add(new Problem("plan", "must be one of " + String.join(", ", plans.keySet())));
    return problems;
  }
}
