-- 0004: personal data the kiosk no longer holds.
-- purged_at: when a finished matter's personal data was removed (PIPL: kept
-- no longer than needed); the row stays for the list and the statistics.
-- restored_at: when a submission was taken back from the district after the
-- kiosk lost its database; only the list's fields came back.
ALTER TABLE submissions ADD COLUMN purged_at TEXT;
ALTER TABLE submissions ADD COLUMN restored_at TEXT;
