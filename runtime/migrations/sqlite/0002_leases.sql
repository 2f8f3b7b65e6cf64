-- Leases: which process runs each projection, projection partition and relay (src/lease).
-- `token` goes up by one at every change of holder and is checked in the transaction that
-- writes the runner's checkpoint, so a holder that lost its lease cannot commit.
-- `wanted_by` is a replica holding fewer leases of the same partitioned projection that asked
-- for this one: the holder gives it back, and for one TTL only the asker may take it.
-- `expires_at_micros` is on the clock of the machine sharing the file.
CREATE TABLE herald_leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    token INTEGER NOT NULL,
    expires_at_micros INTEGER NOT NULL,
    wanted_by TEXT
);
