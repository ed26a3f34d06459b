-- i2b2's ontology (metadata) table, as much of it as says how an item finds its patients or
-- visits and what the concept tree shows: c_tablename, c_facttablecolumn, c_columnname,
-- c_columndatatype, c_operator and c_dimcode (so that \i2b2\Demographics\Gender\Female\
-- names the patients whose patient_dimension.sex_cd is F), with the display columns.
-- The loader fills it from a site's ontology file and with the demographics of the
-- patients it loads.

-- +goose Up
CREATE TABLE warehouse_ontology (
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
    agency             TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (c_fullname, agency)
);

-- +goose Down
DROP TABLE warehouse_ontology;
