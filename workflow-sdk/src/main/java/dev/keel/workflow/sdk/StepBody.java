package dev.keel.workflow.sdk;

/** The body of a step: runs on a worker thread and may block or throw. */
@FunctionalInterface
public interface StepBody<T> {
  T run() throws Exception;
}
