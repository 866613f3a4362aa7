-- Missions and their waypoints. Mission ids are stored as numbers
-- (MISSION-0001 is 1); waypoint ids as their 1-based position (wp-001 is 1).
CREATE TABLE missions (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    name           TEXT    NOT NULL,
    status         TEXT    NOT NULL CHECK (status IN ('draft', 'planned', 'active', 'completed', 'aborted')),
    region         TEXT    NOT NULL CHECK (region IN ('CENTCOM', 'EUCOM', 'INDOPACOM', 'AFRICOM', 'SOUTHCOM', 'NORTHCOM', 'SPACECOM')),
    priority       INTEGER NOT NULL CHECK (priority BETWEEN 1 AND 5),
    commander      TEXT    NOT NULL,
    unit           TEXT    NOT NULL,
    created_at     TEXT    NOT NULL,
    updated_at     TEXT    NOT NULL,
    version        INTEGER NOT NULL DEFAULT 1,
    waypoint_count INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE waypoints (
    mission_id INTEGER NOT NULL REFERENCES missions (id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL CHECK (seq >= 1),
    name       TEXT    NOT NULL,
    lat        REAL    NOT NULL CHECK (lat BETWEEN -90 AND 90),
    lon        REAL    NOT NULL CHECK (lon BETWEEN -180 AND 180),
    alt_m      REAL
);

-- Mission read and waypoint update: a mission's waypoints in route order.
CREATE UNIQUE INDEX waypoints_by_mission ON waypoints (mission_id, seq);
-- Search: keyset pagination by id within each filter combination.
CREATE INDEX missions_by_status_region ON missions (status, region, id);
CREATE INDEX missions_by_status ON missions (status, id);
CREATE INDEX missions_by_region ON missions (region, id);
