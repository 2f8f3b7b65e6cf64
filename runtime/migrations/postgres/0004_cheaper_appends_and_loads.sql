-- Appends and aggregate loads with less work per call. A profile of the PostgreSQL side of
-- the command benchmark (benches/cqrs-peer) spent a tenth of its time planning the load
-- query again for every group (its custom plans were never given up for a generic one) and
-- another twentieth setting up the two window functions that numbered appended events.

-- `herald_append` with the same arguments and results as in 0002. The ids of an append's
-- events are now looked up only when its expectation failed (or its stream is deleted), to
-- answer a retried append whose expectation went stale with outcome 3; the ids of an accepted
-- append that are already stored fail the insert on their unique index (23505), and the
-- store then runs the group's appends again one by one, where a lone append whose ids are
-- stored is answered as a retry. Both only happen when a caller retries an append whose
-- outcome it did not learn; the check they replace was a statement in every call. Positions
-- and stream versions are computed per append in a loop instead of with window functions:
-- the events of append r are the p_counts[r] events after those of appends 1 .. r-1.
CREATE OR REPLACE FUNCTION herald_append(
    p_streams TEXT[],
    p_expected BIGINT[],
    p_counts INTEGER[],
    p_requests INTEGER[],
    p_ids UUID[],
    p_types TEXT[],
    p_schema_versions INTEGER[],
    p_recorded_at BIGINT,
    p_correlations UUID[],
    p_causations UUID[],
    p_metadata JSONB[],
    p_payloads BYTEA[]
) RETURNS TABLE (request INTEGER, outcome INTEGER, version BIGINT, first_position BIGINT)
LANGUAGE plpgsql
-- Small keyed batches: index lookups, never a scan of the whole events table (plans are
-- cached per session and may predate the statistics of a growing table).
SET enable_hashjoin = off SET enable_mergejoin = off SET enable_seqscan = off
SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
DECLARE
    v_appends INTEGER := cardinality(p_streams);
    v_outcomes INTEGER[] := array_fill(0, ARRAY[v_appends]);
    v_versions BIGINT[] := array_fill(0::BIGINT, ARRAY[v_appends]);
    -- The position of an accepted append's first event, 0 for the others.
    v_firsts BIGINT[] := array_fill(0::BIGINT, ARRAY[v_appends]);
    -- The index of an append's first event in the event arrays, less one.
    v_offsets INTEGER[] := array_fill(0, ARRAY[v_appends]);
    v_head BIGINT;
    v_next BIGINT;
    v_offset INTEGER := 0;
    r RECORD;
BEGIN
    -- The log's lock, held until commit: versions read below cannot change meanwhile, and
    -- the next writer numbers its events only once these are visible.
    SELECT h.position INTO v_head FROM herald_head h WHERE h.id = 1 FOR UPDATE;
    FOR r IN
        SELECT q.n, q.expected, coalesce(s.deleted, FALSE) AS deleted,
            greatest(coalesce(last.stream_version, 0), coalesce(s.version, 0)) AS current
        FROM unnest(p_streams, p_expected) WITH ORDINALITY AS q(stream_id, expected, n)
        LEFT JOIN herald_streams s ON s.stream_id = q.stream_id
        LEFT JOIN LATERAL (
            SELECT e.stream_version FROM herald_events e WHERE e.stream_id = q.stream_id
            ORDER BY e.stream_version DESC LIMIT 1
        ) last ON TRUE
    LOOP
        v_versions[r.n] := r.current;
        IF r.deleted THEN
            v_outcomes[r.n] := 2;
        ELSIF (r.expected = -2 AND r.current <> 0)
            OR (r.expected = -3 AND r.current = 0)
            OR (r.expected >= 0 AND r.current <> r.expected) THEN
            v_outcomes[r.n] := 1;
        END IF;
    END LOOP;
    v_next := v_head + 1;
    FOR n IN 1 .. v_appends LOOP
        IF v_outcomes[n] <> 0 AND p_counts[n] > 0 AND EXISTS (
            SELECT 1 FROM herald_events e
            WHERE e.event_id = ANY (p_ids[v_offset + 1 : v_offset + p_counts[n]])
        ) THEN
            v_outcomes[n] := 3;
        END IF;
        v_offsets[n] := v_offset;
        v_offset := v_offset + p_counts[n];
        IF v_outcomes[n] = 0 AND p_counts[n] > 0 THEN
            v_firsts[n] := v_next;
            v_next := v_next + p_counts[n];
        END IF;
    END LOOP;
    IF v_next > v_head + 1 THEN
        INSERT INTO herald_events (position, event_id, stream_id, stream_version, event_type,
                schema_version, recorded_at_micros, correlation_id, causation_id, metadata, payload)
            SELECT v_firsts[e.request] + e.k - 1 - v_offsets[e.request], e.id,
                p_streams[e.request], v_versions[e.request] + e.k - v_offsets[e.request],
                e.event_type, e.schema_version, p_recorded_at, e.correlation_id, e.causation_id,
                e.metadata, e.payload
            FROM unnest(p_requests, p_ids, p_types, p_schema_versions, p_correlations,
                    p_causations, p_metadata, p_payloads)
                WITH ORDINALITY AS e(request, id, event_type, schema_version, correlation_id,
                    causation_id, metadata, payload, k)
            WHERE v_firsts[e.request] > 0;
        UPDATE herald_head SET position = v_next - 1 WHERE id = 1;
    END IF;
    RETURN QUERY SELECT n, v_outcomes[n],
            CASE WHEN v_firsts[n] > 0 THEN v_versions[n] + p_counts[n] ELSE v_versions[n] END,
            v_firsts[n]
        FROM generate_series(1, v_appends) AS n;
END;
$$;

-- The rows of several aggregate loads in one call: for load n (1-based), stream p_streams[n]
-- from version p_froms[n], at most p_limits[n] events, each row tagged with n; a load of a
-- stream without events gives one row of NULL events (deleted tells whether the stream was
-- deleted). A function so that its plan is made once per session.
CREATE FUNCTION herald_load(p_streams TEXT[], p_froms BIGINT[], p_limits BIGINT[])
RETURNS TABLE (n INTEGER, deleted BOOLEAN, stream_version BIGINT, event_type TEXT,
    schema_version INTEGER, payload BYTEA)
LANGUAGE plpgsql STABLE
SET enable_hashjoin = off SET enable_mergejoin = off SET enable_seqscan = off
SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY SELECT q.n::INTEGER, s.deleted, e.stream_version, e.event_type,
            e.schema_version, e.payload
        FROM unnest(p_streams, p_froms, p_limits)
            WITH ORDINALITY AS q(stream_id, from_version, max_rows, n)
        LEFT JOIN herald_streams s ON s.stream_id = q.stream_id
        LEFT JOIN LATERAL (
            SELECT ev.stream_version, ev.event_type, ev.schema_version, ev.payload
            FROM herald_events ev
            WHERE ev.stream_id = q.stream_id AND ev.stream_version >= q.from_version
            ORDER BY ev.stream_version
            LIMIT q.max_rows
        ) e ON TRUE;
END;
$$;
