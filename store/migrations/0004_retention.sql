-- 0004: when a finished matter's personal data was removed from the kiosk
-- (PIPL: kept no longer than needed). The row stays for the list and the
-- statistics: receipt number, matter, masked ID, status.
ALTER TABLE submissions ADD COLUMN purged_at TEXT;
