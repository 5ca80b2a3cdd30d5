package dev.keel.client;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * What a service registers with ({@code PUT /api/v1/services/{id}}).
 *
 * <pre>{@code
 * ServiceInfo info = ServiceInfo.builder("orders-api")
 *     .name("Orders API").type("processor").endpoint("http://10.0.0.5:8080")
 *     .metadata("version", "1.4.2").ttl(Duration.ofSeconds(30))
 *     .build();
 * }</pre>
 *
 * @param id the service's id, {@code ^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$}; null to take the
 *     client's service id ({@code KEEL_SERVICE_ID}) at registration
 * @param name a human name
 * @param type {@code source}, {@code processor}, {@code sink}, {@code pipeline} or any other word
 * @param endpoint {@code host:port} or a URL where the service answers
 * @param metadata free key/value pairs, filterable in lists
 * @param ttlSeconds how long Keel waits for a heartbeat before the service turns {@code stale};
 *     null: Keel's default (30)
 * @param deregisterAfterSeconds how long a stale service stays before Keel removes it; null: never
 */
public record ServiceInfo(
    String id,
    String name,
    String type,
    String endpoint,
    Map<String, String> metadata,
    Integer ttlSeconds,
    Integer deregisterAfterSeconds) {

  public ServiceInfo {
    metadata = metadata == null ? Map.of() : Copies.map(metadata);
  }

  /** This info with another id. */
  public ServiceInfo withId(String newId) {
    return new ServiceInfo(
        newId, name, type, endpoint, metadata, ttlSeconds, deregisterAfterSeconds);
  }

  public static Builder builder(String id) {
    return new Builder().id(id);
  }

  /** A builder without an id: the client's service id ({@code KEEL_SERVICE_ID}) is used. */
  public static Builder builder() {
    return new Builder();
  }

  /** Builds a {@link ServiceInfo}; every field is optional here, Keel says what it requires. */
  public static final class Builder {
    private String id;
    private String name;
    private String type;
    private String endpoint;
    private final Map<String, String> metadata = new LinkedHashMap<>();
    private Integer ttlSeconds;
    private Integer deregisterAfterSeconds;

    private Builder() {}

    public Builder id(String id) {
      this.id = id;
      return this;
    }

    public Builder name(String name) {
      this.name = name;
      return this;
    }

    public Builder type(String type) {
      this.type = type;
      return this;
    }

    public Builder endpoint(String endpoint) {
      this.endpoint = endpoint;
      return this;
    }

    public Builder metadata(String key, String value) {
      metadata.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
      return this;
    }

    public Builder metadata(Map<String, String> entries) {
      entries.forEach(this::metadata);
      return this;
    }

    public Builder ttl(Duration ttl) {
      this.ttlSeconds = ttl == null ? null : Math.toIntExact(ttl.toSeconds());
      return this;
    }

    public Builder ttlSeconds(Integer seconds) {
      this.ttlSeconds = seconds;
      return this;
    }

    public Builder deregisterAfter(Duration after) {
      this.deregisterAfterSeconds = after == null ? null : Math.toIntExact(after.toSeconds());
      return this;
    }

    public Builder deregisterAfterSeconds(Integer seconds) {
      this.deregisterAfterSeconds = seconds;
      return this;
    }

    public ServiceInfo build() {
      return new ServiceInfo(
          id, name, type, endpoint, metadata, ttlSeconds, deregisterAfterSeconds);
    }
  }
}
