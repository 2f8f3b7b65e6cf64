-- Herald consumers (PostgreSQL): the inbox and the dead letters of `herald::consumer`.

-- One row per message a consumer has taken, written in the same transaction as the
-- handler's effects (or as the message's dead letter): a redelivered message finds its row
-- and has no second effect.
CREATE TABLE herald_inbox (
    consumer TEXT NOT NULL,
    event_id TEXT NOT NULL,
    stream_sequence BIGINT NOT NULL,
    received_at_micros BIGINT NOT NULL,
    PRIMARY KEY (consumer, event_id)
);

-- Messages a consumer gave up on after its attempts, with what is needed to replay them.
CREATE TABLE herald_consumer_dead_letters (
    consumer TEXT NOT NULL,
    event_id TEXT NOT NULL,
    subject TEXT NOT NULL,
    stream_sequence BIGINT NOT NULL,
    headers TEXT NOT NULL,
    payload BYTEA NOT NULL,
    attempts INTEGER NOT NULL,
    error TEXT NOT NULL,
    failed_at_micros BIGINT NOT NULL,
    PRIMARY KEY (consumer, event_id)
);
