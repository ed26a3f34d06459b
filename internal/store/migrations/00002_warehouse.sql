-- The research warehouse: i2b2's star schema (observation_fact and its dimensions, the
-- mapping tables), the identified data kept apart, and the stored cohort queries.
-- Every row carries the agency it belongs to ('' for data of the whole site). Dates are
-- text YYYY-MM-DD; *_blob columns hold base64 AES-GCM ciphertext, never plain text.

-- +goose Up
CREATE TABLE concept_dimension (
    concept_path TEXT NOT NULL,
    concept_cd   TEXT NOT NULL,
    name_char    TEXT NOT NULL DEFAULT '',
    concept_blob TEXT,
    agency       TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (concept_path, agency)
);
CREATE INDEX concept_dimension_cd ON concept_dimension (concept_cd);

CREATE TABLE modifier_dimension (
    modifier_path TEXT NOT NULL,
    modifier_cd   TEXT NOT NULL,
    name_char     TEXT NOT NULL DEFAULT '',
    modifier_blob TEXT,
    agency        TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (modifier_path, agency)
);

CREATE TABLE provider_dimension (
    provider_id   TEXT NOT NULL,
    provider_path TEXT NOT NULL,
    name_char     TEXT NOT NULL DEFAULT '',
    provider_blob TEXT,
    agency        TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (provider_path, provider_id, agency)
);

CREATE TABLE patient_dimension (
    patient_num      BIGINT PRIMARY KEY,
    vital_status_cd  TEXT NOT NULL DEFAULT '',
    birth_date       TEXT,
    death_date       TEXT,
    sex_cd           TEXT NOT NULL DEFAULT '',
    age_in_years_num INTEGER,
    race_cd          TEXT NOT NULL DEFAULT '',
    zip_cd           TEXT NOT NULL DEFAULT '',
    patient_blob     TEXT,
    agency           TEXT NOT NULL DEFAULT ''
);
CREATE INDEX patient_dimension_agency ON patient_dimension (agency);

CREATE TABLE visit_dimension (
    encounter_num  BIGINT PRIMARY KEY,
    patient_num    BIGINT NOT NULL,
    start_date     TEXT,
    end_date       TEXT,
    inout_cd       TEXT NOT NULL DEFAULT '',
    location_cd    TEXT NOT NULL DEFAULT '',
    length_of_stay INTEGER,
    visit_blob     TEXT,
    agency         TEXT NOT NULL DEFAULT ''
);
CREATE INDEX visit_dimension_patient ON visit_dimension (patient_num);

CREATE TABLE observation_fact (
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
    agency           TEXT NOT NULL DEFAULT ''
);
-- i2b2's key (patient_num, concept_cd, modifier_cd, start_date, encounter_num, instance_num,
-- provider_id) is checked by the loader per batch; the index that answers cohort queries
-- is by concept.
CREATE INDEX observation_fact_concept ON observation_fact (concept_cd, patient_num);
CREATE INDEX observation_fact_patient ON observation_fact (patient_num);

CREATE TABLE patient_mapping (
    patient_ide        TEXT NOT NULL,
    patient_ide_source TEXT NOT NULL,
    patient_num        BIGINT NOT NULL,
    patient_ide_status TEXT NOT NULL DEFAULT '',
    project_id         TEXT NOT NULL DEFAULT '@',
    agency             TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (patient_ide, patient_ide_source, project_id)
);

CREATE TABLE encounter_mapping (
    encounter_ide        TEXT NOT NULL,
    encounter_ide_source TEXT NOT NULL,
    project_id           TEXT NOT NULL DEFAULT '@',
    encounter_num        BIGINT NOT NULL,
    patient_ide          TEXT NOT NULL DEFAULT '',
    patient_ide_source   TEXT NOT NULL DEFAULT '',
    agency               TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (encounter_ide, encounter_ide_source, project_id)
);

-- Identified data (i2b2's Identity Management cell): name, record number and address of a
-- patient, one encrypted JSON document per row; read only for DATA_PROT.
CREATE TABLE patient_identity (
    patient_num   BIGINT PRIMARY KEY,
    identity_blob TEXT NOT NULL,
    agency        TEXT NOT NULL DEFAULT ''
);

-- Bumped by every load, so that servers drop what they cached of the warehouse.
CREATE TABLE warehouse_loads (
    seq       BIGINT PRIMARY KEY,
    loaded_at TEXT NOT NULL,
    rows      BIGINT NOT NULL
);

-- Stored queries, as i2b2's CRC keeps them.
CREATE TABLE qt_query_master (
    query_master_id TEXT PRIMARY KEY,
    project         TEXT NOT NULL,
    user_name       TEXT NOT NULL,
    name            TEXT NOT NULL DEFAULT '',
    definition      TEXT NOT NULL,
    canonical       TEXT NOT NULL,
    created_at      TEXT NOT NULL
);
CREATE INDEX qt_query_master_user ON qt_query_master (user_name);

CREATE TABLE qt_query_instance (
    query_instance_id TEXT PRIMARY KEY,
    query_master_id   TEXT NOT NULL REFERENCES qt_query_master (query_master_id),
    user_name         TEXT NOT NULL,
    status            TEXT NOT NULL,
    start_date        TEXT NOT NULL,
    end_date          TEXT
);

CREATE TABLE qt_query_result_instance (
    result_instance_id TEXT PRIMARY KEY,
    query_instance_id  TEXT NOT NULL REFERENCES qt_query_instance (query_instance_id),
    user_name          TEXT NOT NULL,
    result_type        TEXT NOT NULL,
    set_size           BIGINT NOT NULL,
    real_set_size      BIGINT NOT NULL,
    obfuscation_method TEXT NOT NULL DEFAULT '',
    shown              TEXT NOT NULL DEFAULT '',
    created_at         TEXT NOT NULL
);
CREATE INDEX qt_result_lockout ON qt_query_result_instance (user_name, result_type, real_set_size);

-- Users locked out of running queries (i2b2's LOCKEDOUT), until an administrator unlocks.
CREATE TABLE query_lockouts (
    user_name  TEXT PRIMARY KEY,
    locked_at  TEXT NOT NULL,
    results    INTEGER NOT NULL
);

-- +goose Down
DROP TABLE query_lockouts;
DROP TABLE qt_query_result_instance;
DROP TABLE qt_query_instance;
DROP TABLE qt_query_master;
DROP TABLE warehouse_loads;
DROP TABLE patient_identity;
DROP TABLE encounter_mapping;
DROP TABLE patient_mapping;
DROP TABLE observation_fact;
DROP TABLE visit_dimension;
DROP TABLE patient_dimension;
DROP TABLE provider_dimension;
DROP TABLE modifier_dimension;
DROP TABLE concept_dimension;
