-- Issue 18, seed 002 Part C: CORI's access levels. An associate regional agency's personnel
-- may hold district level (the agencies of its region, aggregates only); a user's level is
-- '' for the default of their affiliation (evaluation group for an agency's personnel, the
-- highest level for CORI's own staff).

-- +goose Up
ALTER TABLE agencies ADD COLUMN regional BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE users ADD COLUMN level TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE users DROP COLUMN level;
ALTER TABLE agencies DROP COLUMN regional;
