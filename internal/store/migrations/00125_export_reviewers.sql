-- Issue 16: one or two independent reviewers per project (exceptions always two), and
-- each reviewer's decision on a request, in the capacity they reviewed it (a data-governance
-- officer approves; a bunker's data publisher verifies but never approves alone).

-- +goose Up
ALTER TABLE airlock_settings ADD COLUMN reviewers INTEGER NOT NULL DEFAULT 1;

CREATE TABLE export_reviews (
    request_id TEXT NOT NULL REFERENCES export_requests (id) ON DELETE CASCADE,
    reviewer   TEXT NOT NULL,
    capacity   TEXT NOT NULL,            -- officer | publisher
    decision   TEXT NOT NULL,            -- approve | reject
    comment    TEXT NOT NULL,
    free       TEXT NOT NULL DEFAULT '', -- JSON: per file, the cells an exception frees
    decided_at TEXT NOT NULL,
    PRIMARY KEY (request_id, reviewer)
);

-- +goose Down
DROP TABLE export_reviews;
ALTER TABLE airlock_settings DROP COLUMN reviewers;
