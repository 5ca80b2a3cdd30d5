package dev.keel.workflow.sdk;

/** One thing wrong with a start request's input: the JSON path of the field and what is wrong. */
public record InputProblem(String field, String message) {}
