-- Schemas by global id, allocated from a sequence. Rows are never deleted, so no id is
-- handed out twice.
CREATE TABLE schemas (
    id BIGSERIAL PRIMARY KEY,
    schema_type TEXT NOT NULL,
    schema_text TEXT NOT NULL,
    -- The schema's fingerprint combined with its references: one id per distinct schema.
    schema_key TEXT NOT NULL UNIQUE,
    refs TEXT NOT NULL DEFAULT '[]'
);

-- Versions of each subject; soft-deleted versions keep their row until a permanent delete.
CREATE TABLE subject_versions (
    subject TEXT NOT NULL,
    version INTEGER NOT NULL,
    schema_id BIGINT NOT NULL REFERENCES schemas (id),
    deleted BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (subject, version)
);
CREATE INDEX subject_versions_by_schema ON subject_versions (schema_id);

-- References from a schema to a subject version, for referencedby and delete checks.
CREATE TABLE schema_references (
    schema_id BIGINT NOT NULL REFERENCES schemas (id),
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    subject TEXT NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (schema_id, position)
);
CREATE INDEX schema_references_by_target ON schema_references (subject, version);

-- Compatibility levels and modes; the empty subject holds the global setting.
CREATE TABLE settings (
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (kind, subject)
);
