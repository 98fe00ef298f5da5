-- 0005: the kiosk keeps a villager's matter sealed for the district's key
-- (package seal) and cannot read it back. What it shows and prints comes
-- from the list's columns; the payload column holds the sealed submission,
-- emptied once the district has confirmed it (and a safety window passed).

-- The list's and the receipt's fields that lived only in the payload.
ALTER TABLE submissions ADD COLUMN main_name TEXT NOT NULL DEFAULT '';
ALTER TABLE submissions ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
-- content_hash: the hash of the submission as first saved (kiosk.PartHash),
-- the first link of its content chain; supplements hold the later links.
-- receipt_hash: the hash the receipt's token binds.
ALTER TABLE submissions ADD COLUMN content_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE submissions ADD COLUMN receipt_hash TEXT NOT NULL DEFAULT '';
-- sealed: 1 when payload is sealed; rows of older versions are sealed in
-- Go (store.SealLegacy) once the district's key is known.
ALTER TABLE submissions ADD COLUMN sealed INTEGER NOT NULL DEFAULT 0;
-- confirmed_at: when the district's feed confirmed the last upload (the
-- sealed copy goes sealed_keep_days after it; the deletion is audited).
ALTER TABLE submissions ADD COLUMN confirmed_at TEXT;
UPDATE submissions SET
    main_name = coalesce(json_extract(payload, '$.main_name'), ''),
    revision = coalesce(json_extract(payload, '$.revision'), 0)
    WHERE json_valid(payload);
-- Matters taken back from the district, and purged ones, hold no payload.
UPDATE submissions SET sealed = 1, payload = X'' WHERE restored_at IS NOT NULL OR purged_at IS NOT NULL;
-- The full ID number is no longer kept beside the list: the masked one
-- (first 6, last 4) is enough to find a matter by the last digits.
ALTER TABLE submissions DROP COLUMN id_number;

-- Which revision added an attachment: 0 for the first save, r for the r-th
-- supplement after 退回补正.
ALTER TABLE submission_attachments ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;

-- Supplements after 退回补正, sealed like the submission: only the materials
-- added, which the district merges into what it holds. content_hash is the
-- chain's link at this revision; sealed is NULL once deleted.
CREATE TABLE supplements (
    submission_id TEXT    NOT NULL REFERENCES submissions (id),
    revision      INTEGER NOT NULL,
    content_hash  TEXT    NOT NULL,
    sealed        BLOB,
    created_at    TEXT    NOT NULL,
    PRIMARY KEY (submission_id, revision)
) STRICT;
