-- The people, organisations, roles and the audit log of the Steward server.
-- One schema for SQLite and PostgreSQL: text keys (no auto-increment), times as fixed-width
-- UTC text (YYYY-MM-DDTHH:MM:SS.ffffffZ, which sorts as it reads), booleans as BOOLEAN.

-- +goose Up
CREATE TABLE regions (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL
);

CREATE TABLE agencies (
    code   TEXT PRIMARY KEY,
    name   TEXT NOT NULL,
    region TEXT NOT NULL REFERENCES regions (code)
);

CREATE TABLE users (
    name          TEXT PRIMARY KEY,
    full_name     TEXT NOT NULL DEFAULT '',
    email         TEXT NOT NULL DEFAULT '',
    agency        TEXT REFERENCES agencies (code),
    password_hash TEXT NOT NULL,
    admin         BOOLEAN NOT NULL DEFAULT FALSE,
    director      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    TEXT NOT NULL
);
CREATE INDEX users_agency ON users (agency);

CREATE TABLE projects (
    code       TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    agency     TEXT REFERENCES agencies (code),
    created_at TEXT NOT NULL
);

-- One row per role held; the data-protection track is stored cascaded as i2b2's PM cell does:
-- holding DATA_LDS means rows for DATA_OBFSC, DATA_AGG and DATA_LDS.
CREATE TABLE grants (
    user_name  TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
    project    TEXT NOT NULL REFERENCES projects (code) ON DELETE CASCADE,
    role       TEXT NOT NULL,
    granted_by TEXT NOT NULL,
    granted_at TEXT NOT NULL,
    PRIMARY KEY (user_name, project, role)
);
CREATE INDEX grants_project ON grants (project);

CREATE TABLE api_tokens (
    id         TEXT PRIMARY KEY,
    hash       TEXT NOT NULL UNIQUE,
    user_name  TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
    label      TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE INDEX api_tokens_user ON api_tokens (user_name);

-- Failed sign-ins counted per account name (known or not) and per source address.
CREATE TABLE login_failures (
    kind       TEXT NOT NULL,
    key        TEXT NOT NULL,
    count      INTEGER NOT NULL,
    first_at   TEXT NOT NULL,
    last_at    TEXT NOT NULL,
    locked_at  TEXT,
    PRIMARY KEY (kind, key)
);

CREATE TABLE sessions (
    token  TEXT PRIMARY KEY,
    data   TEXT NOT NULL,
    expiry TEXT NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expiry);

CREATE TABLE audit_log (
    seq    BIGINT PRIMARY KEY,
    time   TEXT NOT NULL,
    actor  TEXT NOT NULL,
    action TEXT NOT NULL,
    object TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT '',
    prev   TEXT NOT NULL,
    hash   TEXT NOT NULL
);
CREATE INDEX audit_log_actor ON audit_log (actor);
CREATE INDEX audit_log_action ON audit_log (action);

-- +goose Down
DROP TABLE audit_log;
DROP TABLE sessions;
DROP TABLE login_failures;
DROP TABLE api_tokens;
DROP TABLE grants;
DROP TABLE projects;
DROP TABLE users;
DROP TABLE agencies;
DROP TABLE regions;
