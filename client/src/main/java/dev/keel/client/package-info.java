/**
 * The Java client of Keel's HTTP API: {@link dev.keel.client.KeelClient} registers a service,
 * heartbeats for it in the background, reads the registry, manages alert rules and starts and
 * awaits workflows. It needs the JDK and Jackson only. Start with the example in {@link
 * dev.keel.client.KeelClient}'s class comment.
 */
package dev.keel.client;
