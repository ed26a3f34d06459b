-- +goose Up
-- Issue 9's gate on exports: the agencies whose data a request's files aggregate, the
-- analysis that made them, and the basis the governance gate admitted them on (an approved
-- ethics application's id, or "single-agency:CODE"). Review checks the gate again.
ALTER TABLE export_requests ADD COLUMN agencies TEXT NOT NULL DEFAULT '';
ALTER TABLE export_requests ADD COLUMN analysis TEXT NOT NULL DEFAULT '';
ALTER TABLE export_requests ADD COLUMN basis TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE export_requests DROP COLUMN basis;
ALTER TABLE export_requests DROP COLUMN analysis;
ALTER TABLE export_requests DROP COLUMN agencies;
