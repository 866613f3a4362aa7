-- Readiness probes the write path with an insert that is always rolled
-- back (GET /readyz): this table never holds a row.
CREATE TABLE IF NOT EXISTS write_probe (pad BLOB NOT NULL);
