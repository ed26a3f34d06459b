-- Issue 17: the privacy budget of DATA_OBFSC answers, and the obfuscation settings.

-- +goose Up
-- The obfuscation, budget and lockout settings (one row, JSON), changed by administrators
-- through the settings API or serve's flags; every change is audited.
CREATE TABLE obfsc_settings (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    settings   TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
);

-- Each user's spending in a project per period, in nano-ρ (zCDP): spent never exceeds the
-- settings' budget plus what administrators granted for the period.
CREATE TABLE obfsc_budgets (
    user_name    TEXT NOT NULL,
    project      TEXT NOT NULL,
    period_start TEXT NOT NULL,
    spent        BIGINT NOT NULL DEFAULT 0,
    granted      BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (user_name, project, period_start)
);

-- What each user has been told: one row per released count (a total or a breakdown
-- dimension of one question about one version of the data) with what was shown, so that
-- asking again is free and gets the same answer even where the count has drifted since (ages
-- computed on the day of the query).
CREATE TABLE obfsc_releases (
    user_name    TEXT NOT NULL,
    project      TEXT NOT NULL,
    release_key  TEXT NOT NULL,
    cost         BIGINT NOT NULL,
    shown        TEXT NOT NULL,
    period_start TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (user_name, project, release_key)
);

-- +goose Down
DROP TABLE obfsc_releases;
DROP TABLE obfsc_budgets;
DROP TABLE obfsc_settings;
