-- Issue 16: tables Steward computes itself. Every cell of a computed file keeps its persons
-- (a roaring bitmap of patient numbers, ToBytes, base64) while its request is open; the
-- cells a release shows are copied to released_cells, which the ledger over people checks
-- every later release against (any label, analyst or project; recalls do not remove them:
-- what was seen stays seen). The provenance says how the table was computed.

-- +goose Up
CREATE TABLE computed_cells (
    request_id TEXT NOT NULL REFERENCES export_requests (id) ON DELETE CASCADE,
    file       TEXT NOT NULL,
    label      TEXT NOT NULL,
    persons    TEXT NOT NULL,
    PRIMARY KEY (request_id, file, label)
);

CREATE TABLE released_cells (
    request_id  TEXT NOT NULL,
    project     TEXT NOT NULL,
    file        TEXT NOT NULL,
    label       TEXT NOT NULL,
    persons     TEXT NOT NULL,
    released_at TEXT NOT NULL,
    PRIMARY KEY (request_id, file, label)
);

CREATE TABLE export_provenance (
    request_id TEXT NOT NULL REFERENCES export_requests (id) ON DELETE CASCADE,
    file       TEXT NOT NULL,
    provenance TEXT NOT NULL,
    PRIMARY KEY (request_id, file)
);

-- +goose Down
DROP TABLE export_provenance;
DROP TABLE released_cells;
DROP TABLE computed_cells;
