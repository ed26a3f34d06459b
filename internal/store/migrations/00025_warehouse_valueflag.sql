-- i2b2's observation_fact.valueflag_cd: a fact's flag (H high, L low, A abnormal, N normal…),
-- which FLAG value constraints compare.

-- +goose Up
ALTER TABLE observation_fact ADD COLUMN valueflag_cd TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE observation_fact DROP COLUMN valueflag_cd;
