/**
 * The grammar of every kind of value a client sends, in one place: ids, tenant ids, names and free
 * text, metadata, time zones, durations and instants. Routes check request fields with it before
 * anything is journaled; entities and built-in workflows check again with the same rules where they
 * parse values. The limits are those of the table columns each value reaches (the migrations under
 * {@code db/keel}), so that a value that passes never stops a read model.
 *
 * <p>Each check answers what is wrong as the message of a field's 400 entry ({@code "must ..."}),
 * never echoing the value itself, which may be long or hold characters a log cannot show.
 */
package dev.keel.persistence.grammar;
