-- Leases: which replica runs each projection, projection partition and relay (src/lease).
-- `token` goes up by one at every change of holder and is checked, under a row lock, in the
-- transaction that writes the runner's checkpoint, so a holder that lost its lease cannot
-- commit. `expires_at_micros` is on the database's clock, so replicas' clocks do not matter.
-- `wanted_by` is a replica holding fewer leases of the same partitioned projection that asked
-- for this one: the holder gives it back, and for one TTL only the asker may take it.
CREATE TABLE herald_leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    token BIGINT NOT NULL,
    expires_at_micros BIGINT NOT NULL,
    wanted_by TEXT
);
