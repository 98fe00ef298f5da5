-- 0005: district staff: accounts, sessions, sign-in throttling, audit log.
CREATE TABLE staff_users (
    username      TEXT PRIMARY KEY,
    name          TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,   -- argon2id; the password itself is never kept
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT    NOT NULL
) STRICT;

-- A signed-in browser. Only the SHA-256 of the cookie's token is kept, so a
-- copy of the database signs nobody in.
CREATE TABLE staff_sessions (
    token_hash TEXT PRIMARY KEY,
    username   TEXT NOT NULL,
    csrf       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    seen_at    TEXT NOT NULL
) STRICT;

-- Failed sign-ins by username and by address, for throttling.
CREATE TABLE staff_login_failures (
    key TEXT NOT NULL,
    at  TEXT NOT NULL
) STRICT;
CREATE INDEX staff_login_failures_key ON staff_login_failures (key, at);

-- Who did what, when, from where.
CREATE TABLE staff_audit (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    at       TEXT NOT NULL,
    username TEXT NOT NULL,
    ip       TEXT NOT NULL,
    action   TEXT NOT NULL,
    subject  TEXT NOT NULL DEFAULT '',
    detail   TEXT NOT NULL DEFAULT ''
) STRICT;

-- The matter's name, for the inbox's search (the code was there already).
ALTER TABLE submissions ADD COLUMN matter_name TEXT NOT NULL DEFAULT '';
UPDATE submissions SET matter_name = coalesce(json_extract(CAST(payload AS TEXT), '$.matter_name'), '');
