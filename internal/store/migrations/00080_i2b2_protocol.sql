-- Issue 20: what i2b2's cell protocol needs beside Steward's own query tables: the request
-- XML a query was asked with (getRequestXml_fromQueryMasterId gives it back), and the result
-- instances other than the count (PATIENTSET, breakdowns) with the document the user was
-- told, so that listing results and fetching a breakdown again never recomputes it. Both go
-- with their query master (retention removes them with it).

-- +goose Up
CREATE TABLE i2b2_requests (
    query_master_id TEXT PRIMARY KEY REFERENCES qt_query_master (query_master_id) ON DELETE CASCADE,
    request_xml     TEXT NOT NULL
);

CREATE TABLE i2b2_results (
    result_instance_id TEXT PRIMARY KEY,
    query_master_id    TEXT NOT NULL REFERENCES qt_query_master (query_master_id) ON DELETE CASCADE,
    result_type        TEXT NOT NULL,
    set_size           BIGINT NOT NULL,
    obfuscate_method   TEXT NOT NULL,
    description        TEXT NOT NULL,
    document           TEXT NOT NULL,
    created_at         TEXT NOT NULL
);
CREATE INDEX i2b2_results_master ON i2b2_results (query_master_id);

-- +goose Down
DROP TABLE i2b2_results;
DROP TABLE i2b2_requests;
