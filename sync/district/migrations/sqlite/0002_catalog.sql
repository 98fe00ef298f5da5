-- 0002: catalog versions the district publishes to every kiosk.
CREATE TABLE catalogs (
    id           INTEGER PRIMARY KEY,
    version      TEXT NOT NULL,
    sha256       TEXT NOT NULL UNIQUE,
    document     BLOB NOT NULL,
    published_at TEXT NOT NULL
) STRICT;
