package dev.keel.http;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Metrics label a request by the route it took: ids never become label values. */
class RouteTemplateTest {

  @Test
  void idsAfterACollectionBecomePlaceholders() {
    assertThat(RouteTemplate.of("/api/v1/workflows/order-17")).isEqualTo("/api/v1/workflows/{id}");
    assertThat(RouteTemplate.of("/api/v1/workflows/order-17/signals/approve"))
        .isEqualTo("/api/v1/workflows/{id}/signals/{id}");
    assertThat(RouteTemplate.of("/api/v1/services/s-1/heartbeat"))
        .isEqualTo("/api/v1/services/{id}/heartbeat");
    assertThat(RouteTemplate.of("/api/v1/tenants/t1/domains/shop.example.com/verify"))
        .isEqualTo("/api/v1/tenants/{id}/domains/{id}/verify");
  }

  @Test
  void anIdThatLooksLikeAWordOfTheApiIsStillAnId() {
    assertThat(RouteTemplate.of("/api/v1/workflows/history")).isEqualTo("/api/v1/workflows/{id}");
    assertThat(RouteTemplate.of("/api/v1/services/health/health"))
        .isEqualTo("/api/v1/services/{id}/health");
  }

  @Test
  void theApisOwnPathsStayAsTheyAre() {
    assertThat(RouteTemplate.of("/metrics")).isEqualTo("/metrics");
    assertThat(RouteTemplate.of("/api/v1/workflows")).isEqualTo("/api/v1/workflows");
    assertThat(RouteTemplate.of("/api/v1/workflow-counts")).isEqualTo("/api/v1/workflow-counts");
    assertThat(RouteTemplate.of("/ui")).isEqualTo("/ui");
    assertThat(RouteTemplate.of("/ui/app.js")).isEqualTo("/ui/{id}");
    assertThat(RouteTemplate.of("/api/v1/audit/workflow/w-1/events"))
        .isEqualTo("/api/v1/audit/workflow/{id}/events");
    assertThat(RouteTemplate.of("/")).isEqualTo("/");
    assertThat(RouteTemplate.of("/api/v1/workflows/")).isEqualTo("/api/v1/workflows/{id}");
    assertThat(RouteTemplate.of("/api/v1/openapi.json")).isEqualTo("/api/v1/openapi.json");
    assertThat(RouteTemplate.of("/api/docs")).isEqualTo("/api/docs");
    assertThat(RouteTemplate.of("/api/docs/swagger-ui.css")).isEqualTo("/api/docs/{id}");
  }

  @Test
  void unknownAndDeepPathsStayBounded() {
    assertThat(RouteTemplate.of("/wp-admin/install.php")).isEqualTo("/{id}/{id}");
    assertThat(RouteTemplate.of("/api/v1/audit/anything-a-client-sends/x/state"))
        .isEqualTo("/api/v1/audit/{id}/{id}/state");
    assertThat(RouteTemplate.of("/a/b/c/d/e/f/g/h/i/j/k"))
        .isEqualTo("/{id}/{id}/{id}/{id}/{id}/{id}/{id}/{id}/...");
  }
}
