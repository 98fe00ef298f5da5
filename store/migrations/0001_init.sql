-- 0001: the catalog, settings, and the beginnings of submissions and the outbox.

-- Every catalog the kiosk has held. Exactly one row is active; installing a new
-- version flips the flag inside one transaction, so readers never see none.
CREATE TABLE catalog_versions (
    id           INTEGER PRIMARY KEY,
    version      TEXT    NOT NULL,
    origin       TEXT    NOT NULL CHECK (origin IN ('default', 'district', 'file')),
    sha256       TEXT    NOT NULL,
    document     BLOB    NOT NULL,           -- the catalog JSON as published
    installed_at TEXT    NOT NULL,           -- RFC 3339, UTC
    active       INTEGER NOT NULL DEFAULT 0 CHECK (active IN (0, 1))
) STRICT;
CREATE UNIQUE INDEX catalog_versions_one_active ON catalog_versions (active) WHERE active = 1;
CREATE UNIQUE INDEX catalog_versions_sha ON catalog_versions (sha256);

-- Small settings such as the service point code; values are text.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

-- A villager's matter as saved at the service point. The intake issue fills
-- in the applicant, materials and attachments around it.
CREATE TABLE submissions (
    id          TEXT PRIMARY KEY,            -- made at save time, unique across all kiosks
    receipt_no  TEXT NOT NULL UNIQUE,
    sub_code    TEXT NOT NULL,               -- the catalog sub-item
    status      TEXT NOT NULL,
    created_at  TEXT NOT NULL
) STRICT;

-- Work waiting to go to the district, written in the same transaction as
-- what it refers to and removed only once the district confirms it.
CREATE TABLE outbox (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    submission_id   TEXT    NOT NULL REFERENCES submissions (id),
    kind            TEXT    NOT NULL,
    created_at      TEXT    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    last_error      TEXT
) STRICT;
CREATE INDEX outbox_submission ON outbox (submission_id);
