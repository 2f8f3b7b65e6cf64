-- Sagas (src/saga): the deadlines the runner holding a saga's lease fires, and an index of
-- instances by state (a summary of each instance's log stream, rewritten after each change)
-- for counts and listings. Times are microseconds since the Unix epoch.
CREATE TABLE herald_saga_deadlines (
    saga TEXT NOT NULL,
    instance TEXT NOT NULL,
    name TEXT NOT NULL,
    due_micros INTEGER NOT NULL,
    PRIMARY KEY (saga, instance, name)
);
CREATE INDEX herald_saga_deadlines_due ON herald_saga_deadlines (saga, due_micros);

CREATE TABLE herald_sagas (
    saga TEXT NOT NULL,
    instance TEXT NOT NULL,
    state TEXT NOT NULL,
    last_step TEXT,
    error TEXT,
    started_micros INTEGER NOT NULL,
    updated_micros INTEGER NOT NULL,
    PRIMARY KEY (saga, instance)
);
CREATE INDEX herald_sagas_state ON herald_sagas (saga, state, started_micros);
