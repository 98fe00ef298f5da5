-- 0001: catalog, settings, agents, submissions with their materials and attachments, the outbox, the audit log.

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

-- Village agents (代办员). PINs are argon2id hashes; five wrong PINs lock the
-- account until locked_until.
CREATE TABLE agents (
    id              INTEGER PRIMARY KEY,
    name            TEXT    NOT NULL UNIQUE,
    pin_hash        TEXT    NOT NULL,
    is_admin        INTEGER NOT NULL DEFAULT 0 CHECK (is_admin IN (0, 1)),
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    locked_until    TEXT,
    created_at      TEXT    NOT NULL
) STRICT;

-- A villager's matter as saved at the service point. payload is the whole
-- submission as JSON, the document uploaded to the district; the columns
-- beside it are what the list screen filters and searches on.
CREATE TABLE submissions (
    id              TEXT PRIMARY KEY,       -- made at save time, unique across all kiosks
    receipt_no      TEXT NOT NULL UNIQUE,   -- point code + date + local sequence
    matter          TEXT NOT NULL,          -- the catalog sub-item code
    matter_name     TEXT NOT NULL,
    applicant_name  TEXT NOT NULL,
    id_number       TEXT NOT NULL,
    id_masked       TEXT NOT NULL,
    agent           TEXT NOT NULL,
    created_at      TEXT NOT NULL,          -- RFC 3339, UTC
    status          TEXT NOT NULL,
    draft_id        TEXT UNIQUE,            -- the screen's draft: a second confirm tap finds the first save
    payload         BLOB NOT NULL
) STRICT;
CREATE INDEX submissions_created ON submissions (created_at);

-- Each catalog material of a submission: received, or owed (容缺).
CREATE TABLE submission_materials (
    submission_id TEXT    NOT NULL REFERENCES submissions (id),
    position      INTEGER NOT NULL,
    name          TEXT    NOT NULL,
    required      INTEGER NOT NULL,
    received      INTEGER NOT NULL,
    owed          INTEGER NOT NULL,
    PRIMARY KEY (submission_id, position)
) STRICT;

-- Files kept under attachments/<sha256[:2]>/<sha256>; the file is written and
-- fsynced before the row that names it commits.
CREATE TABLE submission_attachments (
    submission_id     TEXT    NOT NULL REFERENCES submissions (id),
    material_position INTEGER NOT NULL,
    sha256            TEXT    NOT NULL,
    name              TEXT    NOT NULL,
    mime              TEXT    NOT NULL,
    size              INTEGER NOT NULL,
    PRIMARY KEY (submission_id, material_position, sha256),
    FOREIGN KEY (submission_id, material_position) REFERENCES submission_materials (submission_id, position)
) STRICT;
CREATE INDEX submission_attachments_sha ON submission_attachments (sha256);

-- The last receipt sequence number used per service point and day.
CREATE TABLE receipt_counters (
    point_code TEXT    NOT NULL,
    day        TEXT    NOT NULL,            -- YYYYMMDD, China Standard Time
    last       INTEGER NOT NULL,
    PRIMARY KEY (point_code, day)
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

-- Who did what, when. Append-only: the triggers refuse changes and deletes.
CREATE TABLE audit_log (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    at      TEXT NOT NULL,
    agent   TEXT NOT NULL,
    action  TEXT NOT NULL,
    subject TEXT NOT NULL DEFAULT '',
    detail  TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
