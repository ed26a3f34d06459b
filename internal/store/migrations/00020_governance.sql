-- Governance (issue 9): what CORI's privacy and ethics-review policy (seed 002) asks Steward
-- to record — the purposes each project states, ethics applications and the board's
-- decisions, consent of agencies, regions and clients, retention rules and corrections asked
-- for by the people the data is about.

-- +goose Up
CREATE TABLE project_purposes (
    project  TEXT NOT NULL REFERENCES projects (code) ON DELETE CASCADE,
    purpose  TEXT NOT NULL,
    set_by   TEXT NOT NULL,
    set_at   TEXT NOT NULL,
    PRIMARY KEY (project, purpose)
);

-- When a project's work ends: retention rules count from here.
CREATE TABLE project_terms (
    project  TEXT PRIMARY KEY REFERENCES projects (code) ON DELETE CASCADE,
    ends_on  TEXT NOT NULL,
    set_by   TEXT NOT NULL,
    set_at   TEXT NOT NULL
);

CREATE TABLE ethics_applications (
    id            TEXT PRIMARY KEY,
    project       TEXT NOT NULL REFERENCES projects (code),
    investigator  TEXT NOT NULL REFERENCES users (name),
    title         TEXT NOT NULL,
    purpose       TEXT NOT NULL,
    summary       TEXT NOT NULL,
    risks         TEXT NOT NULL,
    benefits      TEXT NOT NULL,
    conflicts     TEXT NOT NULL,
    status        TEXT NOT NULL,  -- submitted, circulated, approved, rejected
    submitted_at  TEXT NOT NULL,
    circulated_at TEXT,           -- when every board member had received it
    decided_at    TEXT,
    decided_by    TEXT,
    reasons       TEXT NOT NULL DEFAULT '',
    conditions    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX ethics_applications_project ON ethics_applications (project);

-- What an application covers and asserts: kind is agency, region, sector, analysis or assurance.
CREATE TABLE ethics_scope (
    application TEXT NOT NULL REFERENCES ethics_applications (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    value       TEXT NOT NULL,
    PRIMARY KEY (application, kind, value)
);

-- Consent of an agency or a region to an approved application (party_kind agency | region),
-- or of an agency to a single-agency evaluation of a project (application '').
CREATE TABLE consents (
    application TEXT NOT NULL,
    project     TEXT NOT NULL REFERENCES projects (code) ON DELETE CASCADE,
    party_kind  TEXT NOT NULL,
    party       TEXT NOT NULL,
    consented   BOOLEAN NOT NULL,
    note        TEXT NOT NULL DEFAULT '',
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (application, project, party_kind, party)
);

-- A client's consent, by agency, to research and evaluation use of their records (the
-- additional consent form of Part B). client is the agency's coded client identifier.
CREATE TABLE client_consents (
    agency      TEXT NOT NULL REFERENCES agencies (code),
    client      TEXT NOT NULL,
    consented   BOOLEAN NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (agency, client)
);

CREATE TABLE retention_rules (
    kind     TEXT PRIMARY KEY,
    days     INTEGER NOT NULL,
    basis    TEXT NOT NULL,
    set_by   TEXT NOT NULL,
    set_at   TEXT NOT NULL
);

-- Corrections a person asked for (Part A, 9): recorded and sent to the agency, which alone
-- edits its data (Part A, 6).
CREATE TABLE person_corrections (
    id           TEXT PRIMARY KEY,
    agency       TEXT NOT NULL REFERENCES agencies (code),
    client       TEXT NOT NULL,
    item         TEXT NOT NULL,
    requested    TEXT NOT NULL,
    status       TEXT NOT NULL,  -- requested, amended, declined
    response     TEXT NOT NULL DEFAULT '',
    recorded_by  TEXT NOT NULL,
    recorded_at  TEXT NOT NULL,
    closed_at    TEXT
);
CREATE INDEX person_corrections_client ON person_corrections (agency, client);

-- +goose Down
DROP TABLE person_corrections;
DROP TABLE retention_rules;
DROP TABLE client_consents;
DROP TABLE consents;
DROP TABLE ethics_scope;
DROP TABLE ethics_applications;
DROP TABLE project_terms;
DROP TABLE project_purposes;
