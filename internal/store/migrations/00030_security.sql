-- Issue 18, seed 002 Part C's security model.
-- login_failures also keeps locks for refused access (cause), the address a lock recorded,
-- and an administrator's request that a director reinstate a locked account.

-- +goose Up
ALTER TABLE login_failures ADD COLUMN cause TEXT NOT NULL DEFAULT '';
ALTER TABLE login_failures ADD COLUMN address TEXT NOT NULL DEFAULT '';
ALTER TABLE login_failures ADD COLUMN unlock_requested_by TEXT NOT NULL DEFAULT '';
ALTER TABLE login_failures ADD COLUMN unlock_reason TEXT NOT NULL DEFAULT '';
CREATE INDEX login_failures_locked ON login_failures (kind, locked_at);

-- +goose Down
DROP INDEX login_failures_locked;
ALTER TABLE login_failures DROP COLUMN unlock_reason;
ALTER TABLE login_failures DROP COLUMN unlock_requested_by;
ALTER TABLE login_failures DROP COLUMN address;
ALTER TABLE login_failures DROP COLUMN cause;
