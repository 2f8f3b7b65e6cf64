-- Herald event store (PostgreSQL).

-- The global position counter, advanced by the sequencer (`herald_sequence`), which holds an
-- advisory lock until it commits, so positions become visible in increasing order
-- (see src/store/postgres.rs).
CREATE TABLE herald_head (
    id SMALLINT PRIMARY KEY CHECK (id = 1),
    position BIGINT NOT NULL,
    -- Every committed event not numbered yet was appended by a transaction at least this new
    -- (the oldest running transaction when the sequencer last looked).
    horizon XID8 NOT NULL
);
INSERT INTO herald_head (id, position, horizon) VALUES (1, 0, '0');

CREATE TABLE herald_streams (
    stream_id TEXT PRIMARY KEY,
    version BIGINT NOT NULL,
    deleted BOOLEAN NOT NULL DEFAULT FALSE,
    truncated_before BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE herald_events (
    -- Insertion order; never shown to readers (a late commit can hold a lower value).
    seq BIGSERIAL PRIMARY KEY,
    -- The appending transaction.
    tx_id XID8 NOT NULL DEFAULT pg_current_xact_id(),
    -- The commit-ordered global position, set once by the sequencer (NULL until then). Not
    -- indexed here, so setting it is a HOT update; `herald_positions` is its index.
    position BIGINT,
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
) WITH (fillfactor = 80);

-- The sequencer finds unnumbered events by their appending transaction.
CREATE INDEX herald_events_tx ON herald_events (tx_id);

-- The commit-ordered global position of each numbered event: the ordered index `read_all`
-- walks.
CREATE TABLE herald_positions (
    position BIGINT PRIMARY KEY,
    seq BIGINT NOT NULL UNIQUE
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
