-- Appends and sequencing as server-side functions: one round trip each.

-- Appends a batch to a stream if the expectation holds. The events are committed with a NULL
-- position; `herald_sequence` numbers them afterwards.
--   p_expected: -1 any, -2 no stream, -3 stream exists, n >= 0 exactly version n.
-- Returns the stream version after the append. Raises SQLSTATE HR001 (message: the actual
-- version) on a version conflict, HR002 when the stream is deleted and HR003 when one of the
-- ids is already stored (a retry, which the caller checks); nothing is written then.
CREATE FUNCTION herald_append(
    p_stream TEXT,
    p_expected BIGINT,
    p_ids UUID[],
    p_types TEXT[],
    p_schema_versions INTEGER[],
    p_recorded_at BIGINT,
    p_correlations UUID[],
    p_causations UUID[],
    p_metadata JSONB[],
    p_payloads BYTEA[]
) RETURNS BIGINT
LANGUAGE plpgsql
-- Small keyed batches: index lookups, never a scan of the whole events table (plans are
-- cached per session and may predate the statistics of a growing table).
SET enable_hashjoin = off SET enable_mergejoin = off SET enable_seqscan = off
AS $$
DECLARE
    v_version BIGINT;
    v_deleted BOOLEAN;
BEGIN
    INSERT INTO herald_streams (stream_id, version) VALUES (p_stream, 0)
        ON CONFLICT (stream_id) DO NOTHING;
    -- Serializes appends to this stream (only this stream) until commit.
    SELECT version, deleted INTO v_version, v_deleted
        FROM herald_streams WHERE stream_id = p_stream FOR UPDATE;
    IF EXISTS (SELECT 1 FROM herald_events WHERE event_id = ANY (p_ids)) THEN
        RAISE EXCEPTION USING ERRCODE = 'HR003', MESSAGE = p_stream;
    END IF;
    IF v_deleted THEN
        RAISE EXCEPTION USING ERRCODE = 'HR002', MESSAGE = p_stream;
    END IF;
    IF (p_expected = -2 AND v_version <> 0)
        OR (p_expected = -3 AND v_version = 0)
        OR (p_expected >= 0 AND v_version <> p_expected) THEN
        RAISE EXCEPTION USING ERRCODE = 'HR001', MESSAGE = v_version::TEXT;
    END IF;
    IF cardinality(p_ids) = 0 THEN
        RETURN v_version;
    END IF;
    INSERT INTO herald_events (event_id, stream_id, stream_version, event_type, schema_version,
            recorded_at_micros, correlation_id, causation_id, metadata, payload)
        SELECT e.id, p_stream, v_version + e.n, e.event_type, e.schema_version, p_recorded_at,
            e.correlation_id, e.causation_id, e.metadata, e.payload
        FROM unnest(p_ids, p_types, p_schema_versions, p_correlations, p_causations, p_metadata, p_payloads)
            WITH ORDINALITY AS e(id, event_type, schema_version, correlation_id, causation_id, metadata, payload, n);
    UPDATE herald_streams SET version = v_version + cardinality(p_ids) WHERE stream_id = p_stream;
    RETURN v_version + cardinality(p_ids);
END;
$$;

-- Numbers every committed, unnumbered event after the current head, transaction by
-- transaction (a batch stays contiguous), then returns the positions of `p_ids`. Unnumbered
-- events are found through the transaction horizon: each run records the oldest running
-- transaction, and every event it could not see was appended by a transaction at least that
-- new. (A transaction left open for a long time elsewhere in the cluster holds the horizon
-- back and makes this scan longer, never incorrect.) The advisory
-- lock is held until this transaction commits, so a later run only starts once this run's
-- positions are visible: positions become visible in increasing order.
CREATE FUNCTION herald_sequence(p_ids UUID[])
RETURNS TABLE (head BIGINT, first_position BIGINT, last_position BIGINT)
LANGUAGE plpgsql
SET enable_hashjoin = off SET enable_mergejoin = off SET enable_seqscan = off
AS $$
DECLARE
    v_head BIGINT;
    v_horizon XID8;
    v_next_horizon XID8;
    v_count BIGINT;
BEGIN
    PERFORM pg_advisory_xact_lock(7256861001);
    SELECT h.position, h.horizon INTO v_head, v_horizon FROM herald_head h WHERE h.id = 1;
    -- Taken before the snapshot of the numbering statement below: whatever that statement
    -- cannot see yet belongs to a transaction at least this new.
    v_next_horizon := pg_snapshot_xmin(pg_current_snapshot());
    WITH numbered AS (
        SELECT v_head + row_number() OVER (ORDER BY p.tx_id, p.seq) AS position, p.seq
        FROM herald_events p WHERE p.tx_id >= v_horizon AND p.position IS NULL
    ), indexed AS (
        INSERT INTO herald_positions (position, seq) SELECT n.position, n.seq FROM numbered n
    )
    UPDATE herald_events e SET position = n.position FROM numbered n WHERE e.seq = n.seq;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    -- A run that numbered nothing writes nothing (no WAL flush at its commit): under load,
    -- one run numbers the events of many appenders and the others only read their positions.
    IF v_count > 0 THEN
        UPDATE herald_head SET position = v_head + v_count, horizon = v_next_horizon WHERE id = 1;
    END IF;
    RETURN QUERY SELECT v_head + v_count, min(e.position), max(e.position)
        FROM herald_events e WHERE e.event_id = ANY (p_ids);
END;
$$;
