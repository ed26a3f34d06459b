-- Issue 20: i2b2's rename and delete of a query master. Steward keeps every query it answered
-- (the lockout counts them and the audit log names them), so a delete hides the query from
-- the CRC cell's lists rather than removing it, and a rename is the name i2b2 clients see.

-- +goose Up
CREATE TABLE i2b2_masters (
    query_master_id TEXT PRIMARY KEY REFERENCES qt_query_master (query_master_id) ON DELETE CASCADE,
    name            TEXT,
    deleted_at      TEXT
);

-- +goose Down
DROP TABLE i2b2_masters;
