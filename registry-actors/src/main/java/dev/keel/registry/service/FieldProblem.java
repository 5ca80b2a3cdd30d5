package dev.keel.registry.service;

/**
 * One thing wrong with a registration or heartbeat: the JSON path of the field and what is wrong.
 */
public record FieldProblem(String field, String message) {}
