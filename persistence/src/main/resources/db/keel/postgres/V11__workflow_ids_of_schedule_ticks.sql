-- A schedule's tick starts the workflow <scheduleId>@<tick instant>: with a 128-character schedule
-- id (the contract's longest) that is 153 characters, longer than the 128 these columns held, and
-- the workflow projection stopped at its first such event. Widened to the longest workflow id
-- (dev.keel.persistence.grammar.Ids.MAX_WORKFLOW_ID_LENGTH), as keel_schedules.last_run_workflow_id
-- already is; PostgreSQL widens a VARCHAR without rewriting the table.
ALTER TABLE keel_workflows ALTER COLUMN id TYPE VARCHAR(256);
ALTER TABLE keel_workflow_wakeups ALTER COLUMN workflow_id TYPE VARCHAR(256);
