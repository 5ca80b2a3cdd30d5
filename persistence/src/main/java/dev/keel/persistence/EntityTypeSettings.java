package dev.keel.persistence;

import com.typesafe.config.Config;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;

/**
 * What every entity reads from the configuration as it starts (its type's tag count and snapshot
 * policy), read once per actor system. A typed system builds its settings anew on every call of
 * {@code settings()}: reading them per entity was a measurable part of starting a workflow.
 */
public final class EntityTypeSettings implements Extension {

  private static final ExtensionId<EntityTypeSettings> ID =
      new ExtensionId<>() {
        @Override
        public EntityTypeSettings createExtension(ActorSystem<?> system) {
          return new EntityTypeSettings(system.settings().config());
        }
      };

  private final Config config;
  private final int tagCount;
  private final Map<String, Integer> snapshotEvery = new ConcurrentHashMap<>();

  private EntityTypeSettings(Config config) {
    this.config = config;
    this.tagCount = config.getInt("keel.persistence.tags-per-entity-type");
  }

  public static EntityTypeSettings get(ActorSystem<?> system) {
    return ID.apply(system);
  }

  /** {@code keel.persistence.tags-per-entity-type}. */
  public int tagCount() {
    return tagCount;
  }

  /** {@code keel.snapshots.<entityType>.every} ({@link EntitySnapshots#every}). */
  public int snapshotEvery(String entityType) {
    return snapshotEvery.computeIfAbsent(entityType, type -> EntitySnapshots.every(config, type));
  }
}
