package dev.keel.tenant.domain;

import java.util.List;
import java.util.concurrent.CompletionStage;

/**
 * Looks up the TXT records of a DNS name, without blocking the caller's thread. The real one is
 * {@link DnsJavaTxtResolver}; tests answer from a map. Every outcome is an answer, never a failed
 * stage, so that each reason a check fails is told apart.
 */
public interface DnsTxtResolver {

  CompletionStage<TxtAnswer> txt(String name);

  /** What a TXT lookup found. */
  sealed interface TxtAnswer {}

  /** The name has TXT records; each value with its character-strings joined. */
  record Records(List<String> values) implements TxtAnswer {
    public Records {
      values = List.copyOf(values);
    }
  }

  /** The name does not exist (NXDOMAIN). */
  record NoSuchName() implements TxtAnswer {}

  /** The name exists but has no TXT record (NOERROR with an empty answer). */
  record NoRecords() implements TxtAnswer {}

  /** No answer within the lookup's timeout. */
  record TimedOut(java.time.Duration timeout) implements TxtAnswer {}

  /** Anything else: SERVFAIL, REFUSED, a network error; {@code reason} says which. */
  record LookupFailed(String reason) implements TxtAnswer {}
}
