-- A numeric fact without i2b2's qualifier in tval_char is an equal value (E), as i2b2's
-- loaders write it; NUMBER constraints read tval_char (issue 23), so facts loaded before are
-- given the E the loader now gives them. tval_char is not part of what sealed values are
-- bound to.

-- +goose Up
UPDATE observation_fact SET tval_char = 'E' WHERE valtype_cd = 'N' AND tval_char = '' AND nval_num IS NOT NULL;

-- +goose Down
SELECT 1;
