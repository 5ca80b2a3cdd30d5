package dev.keel.workflow;

import com.typesafe.config.ConfigFactory;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializer;
import org.apache.pekko.serialization.Serializers;

/**
 * Pekko's serialization bound as on a node (the persistence module's {@code reference.conf}), for
 * tests of what crosses nodes or is stored: the bytes, the serializer and the manifest a message or
 * a snapshot is written with, and what they read back as.
 */
public final class NodeSerialization implements AutoCloseable {

  private final ActorSystem<Void> system;
  private final Serialization serialization;

  public NodeSerialization(String name) {
    system =
        ActorSystem.create(
            Behaviors.empty(),
            name,
            ConfigFactory.parseString("pekko.actor.provider = local")
                .withFallback(ConfigFactory.load()));
    serialization = SerializationExtension.get(system);
  }

  public ActorSystem<Void> system() {
    return system;
  }

  public byte[] bytes(Object message) {
    return serialization.serialize(message).get();
  }

  public int serializerId(Object message) {
    return serializer(message).identifier();
  }

  public String manifest(Object message) {
    return Serializers.manifestFor(serializer(message), message);
  }

  public Object read(byte[] bytes, int serializerId, String manifest) {
    return serialization.deserialize(bytes, serializerId, manifest).get();
  }

  /** {@code message}, written and read back as another node would read it. */
  public Object roundTrip(Object message) {
    return read(bytes(message), serializerId(message), manifest(message));
  }

  private Serializer serializer(Object message) {
    return serialization.findSerializerFor(message);
  }

  @Override
  public void close() {
    system.terminate();
  }
}
