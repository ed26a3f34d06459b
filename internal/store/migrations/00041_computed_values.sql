-- Issue 16: a computed cell of a numeric value keeps its persons' true values (a JSON array,
-- in the order of its persons) while its request is open, so that dominance and p % are
-- judged on them again at approval. Never shown; empty for a count of persons.

-- +goose Up
ALTER TABLE computed_cells ADD COLUMN person_values TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE computed_cells DROP COLUMN person_values;
