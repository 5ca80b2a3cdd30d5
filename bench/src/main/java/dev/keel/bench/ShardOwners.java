package dev.keel.bench;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.HashMap;
import java.util.Map;

/**
 * Which node holds each workflow shard, from one {@code GET /api/v1/cluster} answer ({@code
 * shardIds.workflow}: member address → shard ids), and so which node holds a workflow: its shard is
 * Pekko's default for the id ({@link #shardOf}). A start sent to another node crosses the cluster
 * to reach it, and its answer crosses back.
 */
final class ShardOwners {

  /** Keel's {@code --shards} default, which the bench's nodes keep. */
  static final int SHARDS = 100;

  private final Map<Integer, Integer> nodeOfShard;

  private ShardOwners(Map<Integer, Integer> nodeOfShard) {
    this.nodeOfShard = nodeOfShard;
  }

  /** {@code nodeOfMember}: member address → node index; members not in it are ignored. */
  static ShardOwners of(JsonNode clusterView, Map<String, Integer> nodeOfMember) {
    Map<Integer, Integer> owners = new HashMap<>();
    clusterView
        .path("shardIds")
        .path("workflow")
        .fields()
        .forEachRemaining(
            member -> {
              Integer node = nodeOfMember.get(member.getKey());
              if (node == null) return;
              for (JsonNode shard : member.getValue())
                owners.put(Integer.parseInt(shard.asText()), node);
            });
    return new ShardOwners(owners);
  }

  /**
   * Pekko's {@code HashCodeMessageExtractor}, which Keel's entities keep: the absolute hash code of
   * the id modulo the number of shards (ClusterApiTest checks it against a real region).
   */
  static int shardOf(String entityId, int shards) {
    return Math.abs(entityId.hashCode()) % shards;
  }

  /** The node that holds {@code workflowId}, or -1 while its shard is not allocated yet. */
  int owner(String workflowId) {
    return nodeOfShard.getOrDefault(shardOf(workflowId, SHARDS), -1);
  }

  /** Shards whose holder is known. */
  int known() {
    return nodeOfShard.size();
  }
}
