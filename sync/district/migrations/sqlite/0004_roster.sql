-- 0004: the agents of each service point, pushed to its kiosks.
CREATE TABLE roster (
    point_code TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    pin_hash   TEXT    NOT NULL,   -- argon2id; the PIN itself is never kept
    admin      INTEGER NOT NULL DEFAULT 0,
    active     INTEGER NOT NULL DEFAULT 1,
    updated_at TEXT    NOT NULL,
    PRIMARY KEY (point_code, name)
) STRICT;
