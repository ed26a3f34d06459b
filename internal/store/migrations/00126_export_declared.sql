-- Issue 16: a hand-made upload's contributors are declared by the analyst, not verified;
-- such a request always waits for a reviewer. Every earlier request was hand-made.

-- +goose Up
ALTER TABLE export_requests ADD COLUMN declared BOOLEAN NOT NULL DEFAULT TRUE;

-- +goose Down
ALTER TABLE export_requests DROP COLUMN declared;
