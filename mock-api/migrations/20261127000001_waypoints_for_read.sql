-- Mission read: a mission's waypoints in route order with every column the
-- read returns, so that the read is one range scan of this index instead of
-- an index lookup plus a table lookup per waypoint. The unique index on
-- (mission_id, seq) stays: it keeps waypoint ids unique per mission.
CREATE INDEX waypoints_for_read ON waypoints (mission_id, seq, name, lat, lon, alt_m);
