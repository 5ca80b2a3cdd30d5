-- Read side of cron schedules, fed by ScheduleProjection from tagged schedule events; a deleted
-- schedule has no row.
CREATE TABLE keel_schedules (
  id VARCHAR(128) PRIMARY KEY,
  workflow VARCHAR(128) NOT NULL,
  -- cron and timezone as the client sent them: checked before they are stored, but of any length
  cron TEXT NOT NULL,
  timezone TEXT NOT NULL,
  paused BOOLEAN NOT NULL,
  tenant_id VARCHAR(128),
  -- null while paused
  next_run_at TIMESTAMP WITH TIME ZONE,
  -- <scheduleId>@<tick instant>: longer than a client id
  last_run_workflow_id VARCHAR(256),
  last_run_at TIMESTAMP WITH TIME ZONE,
  created_at TIMESTAMP WITH TIME ZONE NOT NULL,
  updated_at TIMESTAMP WITH TIME ZONE NOT NULL
);

-- Lists page by id ascending (the primary key); the workflow filter pages within one workflow.
CREATE INDEX keel_schedules_workflow_idx ON keel_schedules (workflow, id);
