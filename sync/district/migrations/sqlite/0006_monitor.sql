-- 0006: what the staff pages for the service points, the catalog and the
-- devices read and keep.

-- Facts of a submission that do not change after its first upload, read once
-- from its payload so the monitor's figures need not parse every payload.
-- created_at is when the village agent saved it (the kiosk's clock), in UTC
-- as 2006-01-02T15:04:05Z: fixed width, so text order is time order.
CREATE TABLE submission_facts (
    submission_id   TEXT PRIMARY KEY,
    device_id       TEXT NOT NULL,
    point_code      TEXT NOT NULL,
    matter          TEXT NOT NULL,
    catalog_version TEXT NOT NULL,
    created_at      TEXT NOT NULL
) STRICT;
CREATE INDEX submission_facts_created ON submission_facts (created_at);
CREATE INDEX submission_facts_device ON submission_facts (device_id, created_at);

-- A submission's history, read by the figures and the status page.
CREATE INDEX changes_submission ON changes (submission_id, seq);

-- A catalog a staff member uploaded and is looking at before publishing,
-- kept by its SHA-256 so the publish button never re-uploads it. Dropped
-- when published or a day old.
CREATE TABLE staged_documents (
    sha256    TEXT PRIMARY KEY,
    kind      TEXT NOT NULL,
    document  BLOB NOT NULL,
    staged_by TEXT NOT NULL,
    staged_at TEXT NOT NULL
) STRICT;
