-- 0004: the agents of each service point, pushed to its kiosks.
CREATE TABLE roster (
    point_code TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    pin_hash   TEXT    NOT NULL,   -- argon2id; the PIN itself is never kept
    admin      BOOLEAN NOT NULL DEFAULT FALSE,
    active     BOOLEAN NOT NULL DEFAULT TRUE,
    updated_at TEXT    NOT NULL,
    PRIMARY KEY (point_code, name)
);
