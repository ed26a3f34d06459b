-- Export requests (issue 8): who may request, the requests and their files' check results,
-- the release ledger and the download links.

-- +goose Up
CREATE TABLE airlock_settings (
    project   TEXT PRIMARY KEY REFERENCES projects (code) ON DELETE CASCADE,
    rules     TEXT NOT NULL DEFAULT '{}',
    bunker    BOOLEAN NOT NULL DEFAULT FALSE,
    link_days INTEGER NOT NULL DEFAULT 7
);

-- The SPOC's list: who may request exports in a project, automatic or validated.
CREATE TABLE export_users (
    project   TEXT NOT NULL REFERENCES projects (code) ON DELETE CASCADE,
    user_name TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
    mode      TEXT NOT NULL,
    ip_range  TEXT NOT NULL DEFAULT '',
    set_by    TEXT NOT NULL,
    set_at    TEXT NOT NULL,
    PRIMARY KEY (project, user_name)
);

CREATE TABLE export_requests (
    id         TEXT PRIMARY KEY,
    project    TEXT NOT NULL REFERENCES projects (code),
    author     TEXT NOT NULL,
    mode       TEXT NOT NULL,
    purpose    TEXT NOT NULL,
    exception  TEXT NOT NULL DEFAULT '',
    status     TEXT NOT NULL,
    created_at TEXT NOT NULL,
    decided_by TEXT NOT NULL DEFAULT '',
    decided_at TEXT NOT NULL DEFAULT '',
    comment    TEXT NOT NULL DEFAULT '',
    sampled    BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX export_requests_project ON export_requests (project, status);

-- One row per file: its metadata and the check's evidence (rules and cells, never hidden values).
CREATE TABLE export_files (
    request_id TEXT NOT NULL REFERENCES export_requests (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    meta       TEXT NOT NULL,
    verdict    TEXT NOT NULL,
    evidence   TEXT NOT NULL,
    PRIMARY KEY (request_id, name)
);

-- The ledger: what was released (visible cells, totals), from which population, by whom.
CREATE TABLE release_ledger (
    id          TEXT PRIMARY KEY,
    request_id  TEXT NOT NULL REFERENCES export_requests (id),
    project     TEXT NOT NULL,
    population  TEXT NOT NULL,
    released_by TEXT NOT NULL,
    released_at TEXT NOT NULL,
    record      TEXT NOT NULL
);
CREATE INDEX release_ledger_population ON release_ledger (population);

CREATE TABLE download_links (
    id         TEXT PRIMARY KEY,
    hash       TEXT NOT NULL UNIQUE,
    request_id TEXT NOT NULL REFERENCES export_requests (id),
    recipient  TEXT NOT NULL,
    ip_range   TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revoked_at TEXT,
    uses       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX download_links_request ON download_links (request_id);

-- +goose Down
DROP TABLE download_links;
DROP TABLE release_ledger;
DROP TABLE export_files;
DROP TABLE export_requests;
DROP TABLE export_users;
DROP TABLE airlock_settings;
