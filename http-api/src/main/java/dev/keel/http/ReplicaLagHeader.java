package dev.keel.http;

import java.time.Duration;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * Says, on every answer that a read replica may have served (lists, counts, a workflow's history,
 * audit), how far behind the primary it may be: {@code Keel-Replica-Lag-Ms}, 0 when the primary
 * served it. Only on a node with a replica ({@code --database-replica-url}).
 */
public final class ReplicaLagHeader {

  public static final String NAME = "Keel-Replica-Lag-Ms";

  /** GET routes whose reads go to the replica (README, Read replica). */
  private static final Pattern REPLICA_READS =
      Pattern.compile(
          "^/api/v1/(workflows|schedules|services|alerts|tenants|workflow-counts|service-counts)/?$"
              + "|^/api/v1/workflows/[^/]+/history/?$"
              + "|^/api/v1/audit/.*");

  private final HttpApi api;
  private final Supplier<Duration> lag;

  public ReplicaLagHeader(HttpApi api, Supplier<Duration> lag) {
    this.api = api;
    this.lag = lag;
  }

  /** Whether {@code GET path} is read from the replica. */
  static boolean replicaRead(String method, String path) {
    return "GET".equals(method) && REPLICA_READS.matcher(path).matches();
  }

  public Route wrap(Route inner) {
    return api.extractRequest(
        request ->
            replicaRead(request.method().name(), request.getUri().path())
                ? api.mapResponse(
                    response ->
                        response.addHeader(
                            RawHeader.create(NAME, Long.toString(lag.get().toMillis()))),
                    () -> inner)
                : inner);
  }
}
