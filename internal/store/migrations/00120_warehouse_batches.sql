-- Issue 16, the data validator (seed 003): a load that needs review lands as a batch in
-- staging tables (staged_<table>, the warehouse table's columns and the batch), which no
-- cohort query, breakdown, totalnum, patient-level read or export reads. A data validator
-- reviews the batch and approves it (its rows move into the warehouse tables, and the load
-- generation is bumped so that servers drop what they cached) or rejects it (its rows are
-- deleted). warehouse_batches keeps every batch, also those loaded without review.
-- The staging tables have no keys: a row whose key the warehouse (or the batch) already
-- holds is counted as rejected at review, and approval is refused while any is.

-- +goose Up
CREATE TABLE warehouse_batches (
    id          BIGINT PRIMARY KEY,
    agency      TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL, -- pending, approved, rejected, direct (loaded without review)
    rows        BIGINT NOT NULL DEFAULT 0,
    loaded_at   TEXT NOT NULL,
    loaded_by   TEXT NOT NULL DEFAULT '',
    decided_at  TEXT,
    decided_by  TEXT NOT NULL DEFAULT ''
);

-- Whether loads need a validator's review (one row, id 1; none: not required).
CREATE TABLE warehouse_review (
    id         INTEGER PRIMARY KEY,
    required   INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
);

CREATE TABLE staged_concept_dimension (
    batch_id     BIGINT NOT NULL,
    concept_path TEXT NOT NULL,
    concept_cd   TEXT NOT NULL,
    name_char    TEXT NOT NULL DEFAULT '',
    concept_blob TEXT,
    agency       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX staged_concept_dimension_batch ON staged_concept_dimension (batch_id);

CREATE TABLE staged_modifier_dimension (
    batch_id      BIGINT NOT NULL,
    modifier_path TEXT NOT NULL,
    modifier_cd   TEXT NOT NULL,
    name_char     TEXT NOT NULL DEFAULT '',
    modifier_blob TEXT,
    agency        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX staged_modifier_dimension_batch ON staged_modifier_dimension (batch_id);

CREATE TABLE staged_provider_dimension (
    batch_id      BIGINT NOT NULL,
    provider_id   TEXT NOT NULL,
    provider_path TEXT NOT NULL,
    name_char     TEXT NOT NULL DEFAULT '',
    provider_blob TEXT,
    agency        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX staged_provider_dimension_batch ON staged_provider_dimension (batch_id);

CREATE TABLE staged_patient_dimension (
    batch_id          BIGINT NOT NULL,
    patient_num       BIGINT NOT NULL,
    vital_status_cd   TEXT NOT NULL DEFAULT '',
    birth_date        TEXT,
    death_date        TEXT,
    sex_cd            TEXT NOT NULL DEFAULT '',
    age_in_years_num  INTEGER,
    race_cd           TEXT NOT NULL DEFAULT '',
    zip_cd            TEXT NOT NULL DEFAULT '',
    patient_blob      TEXT,
    agency            TEXT NOT NULL DEFAULT '',
    language_cd       TEXT NOT NULL DEFAULT '',
    marital_status_cd TEXT NOT NULL DEFAULT '',
    religion_cd       TEXT NOT NULL DEFAULT '',
    income_cd         TEXT NOT NULL DEFAULT '',
    statecityzip_path TEXT NOT NULL DEFAULT '',
    sourcesystem_cd   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX staged_patient_dimension_batch ON staged_patient_dimension (batch_id, patient_num);

CREATE TABLE staged_visit_dimension (
    batch_id         BIGINT NOT NULL,
    encounter_num    BIGINT NOT NULL,
    patient_num      BIGINT NOT NULL,
    start_date       TEXT,
    end_date         TEXT,
    inout_cd         TEXT NOT NULL DEFAULT '',
    location_cd      TEXT NOT NULL DEFAULT '',
    length_of_stay   INTEGER,
    visit_blob       TEXT,
    agency           TEXT NOT NULL DEFAULT '',
    active_status_cd TEXT NOT NULL DEFAULT '',
    location_path    TEXT NOT NULL DEFAULT '',
    sourcesystem_cd  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX staged_visit_dimension_batch ON staged_visit_dimension (batch_id, encounter_num);

CREATE TABLE staged_observation_fact (
    batch_id         BIGINT NOT NULL,
    encounter_num    BIGINT NOT NULL,
    patient_num      BIGINT NOT NULL,
    concept_cd       TEXT NOT NULL,
    provider_id      TEXT NOT NULL DEFAULT '@',
    start_date       TEXT NOT NULL,
    modifier_cd      TEXT NOT NULL DEFAULT '@',
    instance_num     INTEGER NOT NULL DEFAULT 1,
    valtype_cd       TEXT NOT NULL DEFAULT '',
    tval_char        TEXT NOT NULL DEFAULT '',
    nval_num         DOUBLE PRECISION,
    units_cd         TEXT NOT NULL DEFAULT '',
    end_date         TEXT,
    location_cd      TEXT NOT NULL DEFAULT '',
    observation_blob TEXT,
    agency           TEXT NOT NULL DEFAULT '',
    valueflag_cd     TEXT NOT NULL DEFAULT '',
    quantity_num     DOUBLE PRECISION,
    confidence_num   DOUBLE PRECISION,
    sourcesystem_cd  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX staged_observation_fact_batch ON staged_observation_fact (batch_id);

CREATE TABLE staged_patient_mapping (
    batch_id           BIGINT NOT NULL,
    patient_ide        TEXT NOT NULL,
    patient_ide_source TEXT NOT NULL,
    patient_num        BIGINT NOT NULL,
    patient_ide_status TEXT NOT NULL DEFAULT '',
    project_id         TEXT NOT NULL DEFAULT '@',
    agency             TEXT NOT NULL DEFAULT ''
);
CREATE INDEX staged_patient_mapping_batch ON staged_patient_mapping (batch_id);

CREATE TABLE staged_encounter_mapping (
    batch_id             BIGINT NOT NULL,
    encounter_ide        TEXT NOT NULL,
    encounter_ide_source TEXT NOT NULL,
    project_id           TEXT NOT NULL DEFAULT '@',
    encounter_num        BIGINT NOT NULL,
    patient_ide          TEXT NOT NULL DEFAULT '',
    patient_ide_source   TEXT NOT NULL DEFAULT '',
    agency               TEXT NOT NULL DEFAULT ''
);
CREATE INDEX staged_encounter_mapping_batch ON staged_encounter_mapping (batch_id);

CREATE TABLE staged_patient_identity (
    batch_id      BIGINT NOT NULL,
    patient_num   BIGINT NOT NULL,
    identity_blob TEXT NOT NULL,
    agency        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX staged_patient_identity_batch ON staged_patient_identity (batch_id, patient_num);

CREATE TABLE staged_warehouse_ontology (
    batch_id           BIGINT NOT NULL,
    c_fullname         TEXT NOT NULL,
    c_hlevel           INTEGER,
    c_name             TEXT NOT NULL DEFAULT '',
    c_synonym_cd       TEXT NOT NULL DEFAULT 'N',
    c_visualattributes TEXT NOT NULL DEFAULT '',
    c_basecode         TEXT NOT NULL DEFAULT '',
    c_facttablecolumn  TEXT NOT NULL DEFAULT '',
    c_tablename        TEXT NOT NULL DEFAULT '',
    c_columnname       TEXT NOT NULL DEFAULT '',
    c_columndatatype   TEXT NOT NULL DEFAULT '',
    c_operator         TEXT NOT NULL DEFAULT '',
    c_dimcode          TEXT NOT NULL DEFAULT '',
    c_tooltip          TEXT NOT NULL DEFAULT '',
    m_applied_path     TEXT NOT NULL DEFAULT '@',
    agency             TEXT NOT NULL DEFAULT ''
);
CREATE INDEX staged_warehouse_ontology_batch ON staged_warehouse_ontology (batch_id);

-- +goose Down
DROP TABLE staged_warehouse_ontology;
DROP TABLE staged_patient_identity;
DROP TABLE staged_encounter_mapping;
DROP TABLE staged_patient_mapping;
DROP TABLE staged_observation_fact;
DROP TABLE staged_visit_dimension;
DROP TABLE staged_patient_dimension;
DROP TABLE staged_provider_dimension;
DROP TABLE staged_modifier_dimension;
DROP TABLE staged_concept_dimension;
DROP TABLE warehouse_review;
DROP TABLE warehouse_batches;
