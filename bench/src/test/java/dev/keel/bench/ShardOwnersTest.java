package dev.keel.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ShardOwnersTest {

  @Test
  void aWorkflowBelongsToTheNodeThatHoldsItsShard_andUnknownMembersAreLeftOut() throws Exception {
    // "Aa" hashes to 2112 (shard 12), "a" to 97 (shard 97).
    JsonNode view =
        LoadReport.JSON.readTree(
            """
            {"shardIds": {"workflow": {"pekko://keel@10.0.0.11:1": ["12", "13"], "pekko://keel@10.0.0.12:1": ["97"],
                                       "pekko://keel@10.0.0.13:1": ["99"]}}}
            """);

    ShardOwners owners =
        ShardOwners.of(view, Map.of("pekko://keel@10.0.0.11:1", 0, "pekko://keel@10.0.0.12:1", 1));

    assertThat(owners.owner("Aa")).isEqualTo(0);
    assertThat(owners.owner("a")).isEqualTo(1);
    assertThat(owners.owner("c")).as("shard 99's member is not one of the nodes").isEqualTo(-1);
    assertThat(owners.known()).isEqualTo(3);
  }

  @Test
  void aShardNotAllocatedYetHasNoOwner() throws Exception {
    ShardOwners owners = ShardOwners.of(LoadReport.JSON.readTree("{\"shardIds\": {}}"), Map.of());

    assertThat(owners.owner("anything")).isEqualTo(-1);
    assertThat(owners.known()).isZero();
  }

  @Test
  void theShardIsTheAbsoluteHashModuloTheShards() {
    assertThat(ShardOwners.shardOf("Aa", 100))
        .isEqualTo(12)
        .isEqualTo(ShardOwners.shardOf("BB", 100));
    assertThat(ShardOwners.shardOf("a", 100)).isEqualTo(97);
    String id = "bench-mxdjr9xl-m1234";
    assertThat(ShardOwners.shardOf(id, 100))
        .isEqualTo(Math.abs(id.hashCode()) % 100)
        .isBetween(0, 99);
  }
}
