-- 0002: what the sync with the district needs on the kiosk.

-- An outbox entry that cannot succeed by retrying (the district has the same
-- id with other content) is parked with its reason for a person to look at.
ALTER TABLE outbox ADD COLUMN parked INTEGER NOT NULL DEFAULT 0;

-- What the district last said about a submission: when it confirmed receipt,
-- and the note that came with a status (the reason for 退回补正).
ALTER TABLE submissions ADD COLUMN district_note TEXT NOT NULL DEFAULT '';
ALTER TABLE submissions ADD COLUMN received_at TEXT;
ALTER TABLE submissions ADD COLUMN status_at TEXT;
