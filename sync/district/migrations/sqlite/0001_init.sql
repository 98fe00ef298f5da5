-- 0001: the district's side of the sync.

-- Facts about this database; 'epoch' changes when a backup is restored under
-- a new name, telling kiosks to send again what the district may have lost.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

-- One-time codes a district admin issues for a service point.
CREATE TABLE enroll_codes (
    code       TEXT PRIMARY KEY,
    point_code TEXT NOT NULL,
    point_name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT,
    device_id  TEXT
) STRICT;

-- Kiosks, known by their Ed25519 public key.
CREATE TABLE devices (
    id          TEXT PRIMARY KEY,
    public_key  BLOB NOT NULL UNIQUE,
    point_code  TEXT NOT NULL,
    point_name  TEXT NOT NULL,
    app_version TEXT NOT NULL DEFAULT '',
    enrolled_at TEXT NOT NULL,
    revoked_at  TEXT,
    last_seen   TEXT,
    heartbeat   TEXT NOT NULL DEFAULT '{}'
) STRICT;

-- Nonces seen recently, so a captured request cannot be replayed.
CREATE TABLE nonces (
    device_id TEXT NOT NULL,
    nonce     TEXT NOT NULL,
    seen_at   TEXT NOT NULL,
    PRIMARY KEY (device_id, nonce)
) STRICT;
CREATE INDEX nonces_seen ON nonces (seen_at);

-- Submissions as the kiosks sent them; reply is what the first upload was
-- answered, returned unchanged to every replay.
CREATE TABLE submissions (
    id           TEXT PRIMARY KEY,
    device_id    TEXT NOT NULL REFERENCES devices (id),
    receipt_no   TEXT NOT NULL UNIQUE,
    matter       TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    payload      BLOB NOT NULL,
    received_at  TEXT NOT NULL,
    status       TEXT NOT NULL,
    reply        TEXT NOT NULL
) STRICT;

-- The change feed: every status a submission took, in order, per kiosk.
CREATE TABLE changes (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id     TEXT NOT NULL,
    submission_id TEXT NOT NULL,            -- '' for catalog changes
    receipt_no    TEXT NOT NULL,
    kind          TEXT NOT NULL,
    status        TEXT NOT NULL,
    note          TEXT NOT NULL DEFAULT '',
    operator      TEXT NOT NULL DEFAULT '',
    at            TEXT NOT NULL
) STRICT;
CREATE INDEX changes_device ON changes (device_id, seq);
