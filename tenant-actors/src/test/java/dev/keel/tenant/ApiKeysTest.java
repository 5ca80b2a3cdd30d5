package dev.keel.tenant;

import static org.assertj.core.api.Assertions.assertThat;

import java.security.SecureRandom;
import org.junit.jupiter.api.Test;

class ApiKeysTest {

  private final ApiKeys keys = new ApiKeys(new SecureRandom());

  @Test
  void keysCarryAPrefixTheirTenantAnd256RandomBits() {
    String tenant = keys.newTenantId();
    String key = keys.newKey(tenant);

    assertThat(ApiKeys.isTenantId(tenant)).isTrue();
    assertThat(key)
        .startsWith("keel_" + tenant + "_")
        .hasSize("keel_".length() + tenant.length() + 1 + 64);
    assertThat(ApiKeys.tenantOf(key)).contains(tenant);
    assertThat(keys.newKey(tenant)).isNotEqualTo(key);
  }

  @Test
  void onlyTheHashIsNeededToCheckAKey() {
    String key = keys.newKey(keys.newTenantId());
    String stored = ApiKeys.hash(key);

    assertThat(stored).hasSize(64).doesNotContain(key.substring(key.lastIndexOf('_') + 1));
    assertThat(ApiKeys.matches(key, stored)).isTrue();
    assertThat(ApiKeys.matches(key + "0", stored)).isFalse();
    assertThat(ApiKeys.matches(null, stored)).isFalse();
  }

  @Test
  void tokensThatAreNotKeelKeysNameNoTenant() {
    assertThat(ApiKeys.tenantOf("it-admin-token-0123456789")).isEmpty();
    assertThat(ApiKeys.tenantOf("keel_tshort_abc")).isEmpty();
    assertThat(ApiKeys.tenantOf(null)).isEmpty();
  }
}
