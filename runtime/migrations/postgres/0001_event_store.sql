-- Herald event store (PostgreSQL).

-- The global position counter. Every write to the log (an append, a deletion, a truncation)
-- locks this row first and holds the lock until it commits: positions become visible in
-- increasing order, and stream versions read under the lock cannot change before the writer
-- commits (see src/store/postgres.rs).
CREATE TABLE herald_head (
    id SMALLINT PRIMARY KEY CHECK (id = 1),
    position BIGINT NOT NULL
);
INSERT INTO herald_head (id, position) VALUES (1, 0);

-- Streams that were deleted or truncated. A stream's version is its last event's, or the
-- version recorded here when that is higher (every event truncated away).
CREATE TABLE herald_streams (
    stream_id TEXT PRIMARY KEY,
    version BIGINT NOT NULL,
    deleted BOOLEAN NOT NULL DEFAULT FALSE,
    truncated_before BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE herald_events (
    -- The commit-ordered global position: `read_all` walks this index. The unique
    -- (stream_id, stream_version) index gives each stream's version.
    position BIGINT PRIMARY KEY,
    event_id UUID NOT NULL UNIQUE,
    stream_id TEXT NOT NULL,
    stream_version BIGINT NOT NULL,
    event_type TEXT NOT NULL,
    schema_version INTEGER NOT NULL,
    recorded_at_micros BIGINT NOT NULL,
    correlation_id UUID NOT NULL,
    causation_id UUID,
    metadata JSONB NOT NULL,
    payload BYTEA NOT NULL,
    UNIQUE (stream_id, stream_version)
);

CREATE TABLE herald_snapshots (
    stream_id TEXT PRIMARY KEY,
    aggregate_type TEXT NOT NULL,
    schema_version INTEGER NOT NULL,
    stream_version BIGINT NOT NULL,
    state JSONB NOT NULL
);

CREATE TABLE herald_checkpoints (
    name TEXT PRIMARY KEY,
    position BIGINT NOT NULL
);

CREATE TABLE herald_dead_letters (
    projection TEXT NOT NULL,
    position BIGINT NOT NULL,
    event_id UUID NOT NULL,
    event_type TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    error TEXT NOT NULL,
    failed_at_micros BIGINT NOT NULL,
    PRIMARY KEY (projection, position)
);
