-- Issue 18: the audit chain is keyed (HMAC-SHA256 under the server's key, held outside the
-- store); key_id names the key of an entry's hash, '' for entries written before (plain SHA-256).

-- +goose Up
ALTER TABLE audit_log ADD COLUMN key_id TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE audit_log DROP COLUMN key_id;
