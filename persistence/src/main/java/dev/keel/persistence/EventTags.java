package dev.keel.persistence;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Tags route an entity type's events to its projection instances: {@code <type>-<n>} with n from
 * the entity id's hash. The count per type is fixed for the life of a journal.
 */
public final class EventTags {

  private EventTags() {}

  /**
   * How many tags each entity type's events are spread over ({@code
   * keel.persistence.tags-per-entity-type}): fixed for the life of a journal, read by every entity
   * and by every projection.
   */
  public static int tagCount(org.apache.pekko.actor.typed.ActorSystem<?> system) {
    return EntityTypeSettings.get(system).tagCount();
  }

  public static String tagFor(String entityType, String entityId, int tagCount) {
    return entityType + "-" + Math.floorMod(entityId.hashCode(), tagCount);
  }

  public static Set<String> tagSetFor(String entityType, String entityId, int tagCount) {
    return Set.of(tagFor(entityType, entityId, tagCount));
  }

  public static List<String> allTags(String entityType, int tagCount) {
    List<String> tags = new ArrayList<>(tagCount);
    for (int i = 0; i < tagCount; i++) tags.add(entityType + "-" + i);
    return tags;
  }
}
