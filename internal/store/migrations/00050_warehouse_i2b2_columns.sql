-- i2b2's standard columns the warehouse keeps (issue 23): the rest of patient_dimension's
-- demographics, visit_dimension's status and location path, observation_fact's quantity and
-- confidence, and where each row came from. Times of day: start and end dates of facts and
-- visits are now stored as YYYY-MM-DD HH:MM:SS (rows loaded before hold a date alone, read as
-- midnight; they are not rewritten, so that the sealed values bound to them still open).

-- +goose Up
ALTER TABLE patient_dimension ADD COLUMN language_cd TEXT NOT NULL DEFAULT '';
ALTER TABLE patient_dimension ADD COLUMN marital_status_cd TEXT NOT NULL DEFAULT '';
ALTER TABLE patient_dimension ADD COLUMN religion_cd TEXT NOT NULL DEFAULT '';
ALTER TABLE patient_dimension ADD COLUMN income_cd TEXT NOT NULL DEFAULT '';
ALTER TABLE patient_dimension ADD COLUMN statecityzip_path TEXT NOT NULL DEFAULT '';
ALTER TABLE patient_dimension ADD COLUMN sourcesystem_cd TEXT NOT NULL DEFAULT '';
ALTER TABLE visit_dimension ADD COLUMN active_status_cd TEXT NOT NULL DEFAULT '';
ALTER TABLE visit_dimension ADD COLUMN location_path TEXT NOT NULL DEFAULT '';
ALTER TABLE visit_dimension ADD COLUMN sourcesystem_cd TEXT NOT NULL DEFAULT '';
ALTER TABLE observation_fact ADD COLUMN quantity_num DOUBLE PRECISION;
ALTER TABLE observation_fact ADD COLUMN confidence_num DOUBLE PRECISION;
ALTER TABLE observation_fact ADD COLUMN sourcesystem_cd TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE observation_fact DROP COLUMN sourcesystem_cd;
ALTER TABLE observation_fact DROP COLUMN confidence_num;
ALTER TABLE observation_fact DROP COLUMN quantity_num;
ALTER TABLE visit_dimension DROP COLUMN sourcesystem_cd;
ALTER TABLE visit_dimension DROP COLUMN location_path;
ALTER TABLE visit_dimension DROP COLUMN active_status_cd;
ALTER TABLE patient_dimension DROP COLUMN sourcesystem_cd;
ALTER TABLE patient_dimension DROP COLUMN statecityzip_path;
ALTER TABLE patient_dimension DROP COLUMN income_cd;
ALTER TABLE patient_dimension DROP COLUMN religion_cd;
ALTER TABLE patient_dimension DROP COLUMN marital_status_cd;
ALTER TABLE patient_dimension DROP COLUMN language_cd;
