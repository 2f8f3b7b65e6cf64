-- Herald event store (SQLite).

-- The global position counter. Appends run in BEGIN IMMEDIATE transactions, which SQLite
-- serializes, so positions are handed out in commit order.
CREATE TABLE herald_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    position INTEGER NOT NULL
);
INSERT INTO herald_head (id, position) VALUES (1, 0);

CREATE TABLE herald_streams (
    stream_id TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    truncated_before INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE herald_events (
    position INTEGER PRIMARY KEY,
    event_id BLOB NOT NULL UNIQUE,
    stream_id TEXT NOT NULL,
    stream_version INTEGER NOT NULL,
    event_type TEXT NOT NULL,
    schema_version INTEGER NOT NULL,
    recorded_at_micros INTEGER NOT NULL,
    correlation_id BLOB NOT NULL,
    causation_id BLOB,
    metadata TEXT NOT NULL,
    payload BLOB NOT NULL,
    UNIQUE (stream_id, stream_version)
);

CREATE TABLE herald_snapshots (
    stream_id TEXT PRIMARY KEY,
    aggregate_type TEXT NOT NULL,
    schema_version INTEGER NOT NULL,
    stream_version INTEGER NOT NULL,
    state TEXT NOT NULL
);

CREATE TABLE herald_checkpoints (
    name TEXT PRIMARY KEY,
    position INTEGER NOT NULL
);

CREATE TABLE herald_dead_letters (
    projection TEXT NOT NULL,
    position INTEGER NOT NULL,
    event_id BLOB NOT NULL,
    event_type TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    error TEXT NOT NULL,
    failed_at_micros INTEGER NOT NULL,
    PRIMARY KEY (projection, position)
);
