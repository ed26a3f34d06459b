-- Issue 16: retroactive checks as a process. Each project samples a share of its released
-- automatic exports per period (10 % per month unless its officer sets otherwise); the
-- server's schedule, or `steward export retro run` from cron, samples each ended period
-- once; the officer records each sample's outcome.

-- +goose Up
CREATE TABLE export_retro_settings (
    project    TEXT PRIMARY KEY REFERENCES projects (code) ON DELETE CASCADE,
    rate       DOUBLE PRECISION NOT NULL,
    period     TEXT NOT NULL, -- month or week
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
);

-- One row per project and period sampled: how many were released, how many picked, the seed.
CREATE TABLE export_retro_runs (
    project  TEXT NOT NULL REFERENCES projects (code) ON DELETE CASCADE,
    period   TEXT NOT NULL, -- 2026-11 or 2026-W47
    released INTEGER NOT NULL,
    picked   INTEGER NOT NULL,
    rate     DOUBLE PRECISION NOT NULL,
    seed     BIGINT NOT NULL,
    run_at   TEXT NOT NULL,
    run_by   TEXT NOT NULL,
    PRIMARY KEY (project, period)
);

CREATE TABLE export_retro_samples (
    request_id TEXT PRIMARY KEY REFERENCES export_requests (id),
    project    TEXT NOT NULL,
    period     TEXT NOT NULL,
    sampled_at TEXT NOT NULL,
    outcome    TEXT NOT NULL DEFAULT '', -- '' (open), no_issue, analyst_contacted, new_export_asked, recalled
    outcome_by TEXT NOT NULL DEFAULT '',
    outcome_at TEXT NOT NULL DEFAULT ''
);
CREATE INDEX export_retro_samples_project ON export_retro_samples (project, period);

-- +goose Down
DROP TABLE export_retro_samples;
DROP TABLE export_retro_runs;
DROP TABLE export_retro_settings;
