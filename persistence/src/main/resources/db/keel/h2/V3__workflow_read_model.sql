-- Read side of workflow executions, fed by WorkflowProjection from tagged events.
CREATE TABLE keel_workflows (
  id VARCHAR(128) PRIMARY KEY,
  workflow VARCHAR(128) NOT NULL,
  tenant_id VARCHAR(128),
  -- status is what clients filter on: 'paused' while paused, else phase (running, sleeping, waiting, final states)
  status VARCHAR(16) NOT NULL,
  phase VARCHAR(16) NOT NULL,
  paused BOOLEAN NOT NULL,
  version INTEGER NOT NULL,
  created_at TIMESTAMP WITH TIME ZONE NOT NULL,
  updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
  completed_at TIMESTAMP WITH TIME ZONE
);

-- Lists page newest first by (created_at, id); filters by status and workflow.
CREATE INDEX keel_workflows_created_idx ON keel_workflows (created_at DESC, id DESC);
CREATE INDEX keel_workflows_status_idx ON keel_workflows (status, created_at DESC, id DESC);
CREATE INDEX keel_workflows_workflow_idx ON keel_workflows (workflow, created_at DESC, id DESC);

-- The durable index of due wake-ups: sleeping, waiting and retrying executions may passivate;
-- WakeupScheduler reads this table to wake them on time, on any node, after any restart.
CREATE TABLE keel_workflow_wakeups (
  workflow_id VARCHAR(128) PRIMARY KEY,
  wake_at TIMESTAMP WITH TIME ZONE NOT NULL
);

CREATE INDEX keel_workflow_wakeups_due_idx ON keel_workflow_wakeups (wake_at);
