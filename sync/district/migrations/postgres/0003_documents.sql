-- 0003: other documents the district publishes to every kiosk: the official
-- holiday arrangement of a year ("holidays", version = the year).
CREATE TABLE documents (
    kind         TEXT NOT NULL,
    version      TEXT NOT NULL,
    sha256       TEXT NOT NULL,
    document     BYTEA NOT NULL,
    published_at TEXT NOT NULL,
    PRIMARY KEY (kind, version)
);
