package dev.keel.tenant.domain;

import static dev.keel.tenant.domain.CustomDomain.LOOKUP_FAILED;
import static dev.keel.tenant.domain.CustomDomain.NO_RECORD;
import static dev.keel.tenant.domain.CustomDomain.NXDOMAIN;
import static dev.keel.tenant.domain.CustomDomain.TIMEOUT;
import static dev.keel.tenant.domain.CustomDomain.WRONG_VALUE;

import dev.keel.tenant.domain.CustomDomain.CheckCompleted;
import dev.keel.tenant.domain.CustomDomain.Command;
import dev.keel.tenant.domain.CustomDomain.Pending;
import dev.keel.tenant.domain.DnsTxtResolver.LookupFailed;
import dev.keel.tenant.domain.DnsTxtResolver.NoRecords;
import dev.keel.tenant.domain.DnsTxtResolver.NoSuchName;
import dev.keel.tenant.domain.DnsTxtResolver.Records;
import dev.keel.tenant.domain.DnsTxtResolver.TimedOut;
import dev.keel.tenant.domain.DnsTxtResolver.TxtAnswer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.javadsl.ActorContext;

/**
 * The DNS side of one {@link CustomDomain}, not journaled: it looks the challenge up and answers
 * the hostname with {@link CheckCompleted}, saying whether the challenge was found and, when not,
 * which of the distinct reasons a tenant can act on. One lookup at a time.
 */
final class ChallengeLookup {

  private final String hostname;
  private final DnsTxtResolver resolver;
  private final Duration dnsTimeout;
  private final ActorContext<Command> context;

  /** A lookup is under way; a second one waits for its result instead of starting. */
  private boolean underWay;

  ChallengeLookup(
      String hostname,
      DnsTxtResolver resolver,
      Duration dnsTimeout,
      ActorContext<Command> context) {
    this.hostname = hostname;
    this.resolver = resolver;
    this.dnsTimeout = dnsTimeout;
    this.context = context;
  }

  boolean underWay() {
    return underWay;
  }

  /** The lookup under way answered (its {@link CheckCompleted} is being handled). */
  void answered() {
    underWay = false;
  }

  /**
   * Looks the challenge up, unless a lookup is under way already; its result comes back as {@link
   * CheckCompleted}.
   */
  void start(Pending s, String trigger) {
    if (underWay) return;
    underWay = true;
    String name = CustomDomain.challengeName(hostname);
    String token = s.ownership().challengeToken();
    CompletionStage<TxtAnswer> lookup;
    try {
      lookup = resolver.txt(name);
    } catch (RuntimeException e) {
      lookup = CompletableFuture.completedFuture(new LookupFailed("DNS lookup failed (" + e + ")"));
    }
    context.pipeToSelf(
        bounded(lookup),
        (answer, failure) -> {
          if (failure != null || answer == null) {
            return new CheckCompleted(
                trigger,
                false,
                LOOKUP_FAILED,
                "DNS lookup failed (" + (failure == null ? "no answer" : failure.toString()) + ")");
          }
          return judge(name, token, answer, trigger);
        });
  }

  /**
   * A resolver that never answers must not stall verification: past the DNS timeout (and a little)
   * it is a timeout.
   */
  private CompletableFuture<TxtAnswer> bounded(CompletionStage<TxtAnswer> lookup) {
    CompletableFuture<TxtAnswer> result = new CompletableFuture<>();
    lookup.whenComplete(
        (answer, failure) -> {
          if (failure != null) result.completeExceptionally(failure);
          else result.complete(answer);
        });
    Duration limit = dnsTimeout.plusSeconds(1);
    return result.completeOnTimeout(
        new TimedOut(dnsTimeout), limit.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** What a lookup means for the claim: found, or which of the distinct reasons it failed. */
  static CheckCompleted judge(String name, String token, TxtAnswer answer, String trigger) {
    if (answer instanceof Records r) {
      for (String value : r.values()) {
        if (value.trim().equals(token)) {
          return new CheckCompleted(
              trigger, true, null, "TXT record " + name + " holds the challenge");
        }
      }
      return new CheckCompleted(
          trigger,
          false,
          WRONG_VALUE,
          "TXT record " + name + " has " + shown(r.values()) + " but not the challenge value");
    }
    if (answer instanceof NoSuchName) {
      return new CheckCompleted(
          trigger,
          false,
          NXDOMAIN,
          name + " does not exist (NXDOMAIN); add a TXT record there with the challenge value");
    }
    if (answer instanceof NoRecords) {
      return new CheckCompleted(
          trigger, false, NO_RECORD, name + " has no TXT record; add one with the challenge value");
    }
    if (answer instanceof TimedOut t) {
      return new CheckCompleted(
          trigger,
          false,
          TIMEOUT,
          "the DNS server did not answer for "
              + name
              + " within "
              + t.timeout().toMillis()
              + " ms");
    }
    LookupFailed f = (LookupFailed) answer;
    return new CheckCompleted(trigger, false, LOOKUP_FAILED, f.reason());
  }

  private static String shown(List<String> values) {
    List<String> shown = new ArrayList<>();
    for (String v : values.subList(0, Math.min(3, values.size()))) {
      shown.add("\"" + (v.length() > 64 ? v.substring(0, 61) + "..." : v) + "\"");
    }
    String more = values.size() > 3 ? " and " + (values.size() - 3) + " more" : "";
    return (values.size() == 1 ? "the value " : "the values ") + String.join(", ", shown) + more;
  }
}
