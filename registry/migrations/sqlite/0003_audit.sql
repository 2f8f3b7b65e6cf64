-- The audit trail. Each version keeps when (milliseconds since the Unix epoch, UTC) and by
-- whom (the principal's name) it was registered; versions registered before this migration
-- keep NULL in both, shown as unknown rather than a made-up date.
ALTER TABLE subject_versions ADD COLUMN registered_at INTEGER;
ALTER TABLE subject_versions ADD COLUMN registered_by TEXT;

-- Every write, in the order written: inserted by the transaction that makes the change, so
-- a change never commits without its entry. `subject`, `version` and `schema_id` are NULL
-- where the action has none (a global setting); `detail` is a short text such as the new
-- level.
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    principal TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT,
    version INTEGER,
    schema_id INTEGER,
    detail TEXT
);

-- Append-only: entries are never changed or removed, not even by SQL run by hand.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
