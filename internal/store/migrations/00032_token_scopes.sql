-- Issue 18: an API token's scopes (read, query, export, admin), space-separated. Tokens made
-- before keep every scope, as they had.

-- +goose Up
ALTER TABLE api_tokens ADD COLUMN scopes TEXT NOT NULL DEFAULT 'read query export admin';

-- +goose Down
ALTER TABLE api_tokens DROP COLUMN scopes;
