-- Issue 16, zeros: the analyst's reason for the zero cells a request declares structural
-- is kept with the request (the declared cells are in each file's metadata), so that every
-- reviewer sees it and it outlives the review comment. Earlier requests declared none.

-- +goose Up
ALTER TABLE export_requests ADD COLUMN structural_reason TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE export_requests DROP COLUMN structural_reason;
