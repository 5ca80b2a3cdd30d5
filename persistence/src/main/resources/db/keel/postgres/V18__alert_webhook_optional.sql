-- An alert rule may start a repair workflow instead of calling a webhook (AlertRepair): its
-- webhook is then null.
ALTER TABLE keel_alerts ALTER COLUMN webhook DROP NOT NULL;
