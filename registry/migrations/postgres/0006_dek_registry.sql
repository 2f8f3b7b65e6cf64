-- The DEK registry: key encryption keys (KEKs, which live in a KMS; the registry keeps their
-- name, KMS and properties, never their material) and the data encryption keys (DEKs) each
-- one wraps, per subject, algorithm and version. A DEK keeps only its key material as the
-- KEK encrypted it (base64); the raw key is never stored. Times are milliseconds since the
-- Unix epoch, UTC.
CREATE TABLE keks (
    name TEXT PRIMARY KEY,
    kms_type TEXT NOT NULL,
    kms_key_id TEXT NOT NULL,
    -- A JSON object of strings.
    kms_props TEXT NOT NULL,
    doc TEXT,
    shared BOOLEAN NOT NULL,
    ts BIGINT NOT NULL,
    deleted BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE TABLE deks (
    kek_name TEXT NOT NULL REFERENCES keks (name),
    subject TEXT NOT NULL,
    algorithm TEXT NOT NULL,
    version INTEGER NOT NULL,
    encrypted_key_material TEXT NOT NULL,
    ts BIGINT NOT NULL,
    deleted BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (kek_name, subject, algorithm, version)
);
