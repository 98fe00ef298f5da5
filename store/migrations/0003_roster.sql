-- 0003: agents the district manages. A roster from the district can add
-- agents, change their PINs and roles, and stop them (active = 0); a stopped
-- agent cannot sign in but stays in the audit log.
ALTER TABLE agents ADD COLUMN active INTEGER NOT NULL DEFAULT 1;
