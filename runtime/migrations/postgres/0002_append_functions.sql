-- Appends as one server-side function: one round trip and one commit for a whole group of
-- appends to distinct streams (the store groups concurrent appends of a process). Nothing
-- but the events and the head is written.
--
-- Per append `r` (1-based): p_streams[r], p_expected[r] (-1 any, -2 no stream, -3 stream
-- exists, n >= 0 exactly version n) and p_counts[r], its number of events. The events of all
-- appends are concatenated in append order in the per-event arrays; p_requests[i] is the
-- append event i belongs to. The streams must be distinct.
--
-- Returns one row per append: outcome 0 appended (version: the stream version after it,
-- first_position: the position of its first event), 1 version conflict (version: the actual
-- version), 2 stream deleted, 3 one of its event ids is already stored (the caller checks
-- whether it is a retry). Appends with outcome > 0 write nothing; the others commit together.
CREATE FUNCTION herald_append(
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
    v_outcomes INTEGER[] := array_fill(0, ARRAY[cardinality(p_streams)]);
    v_versions BIGINT[] := array_fill(0::BIGINT, ARRAY[cardinality(p_streams)]);
    v_firsts BIGINT[] := array_fill(0::BIGINT, ARRAY[cardinality(p_streams)]);
    v_accepted BOOLEAN[] := array_fill(FALSE, ARRAY[cardinality(p_streams)]);
    v_total BIGINT := 0;
    v_head BIGINT;
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
    FOR r IN
        SELECT DISTINCT i.request FROM unnest(p_ids, p_requests) AS i(id, request)
        JOIN herald_events e ON e.event_id = i.id
    LOOP
        v_outcomes[r.request] := 3;
    END LOOP;
    FOR n IN 1 .. cardinality(p_streams) LOOP
        IF v_outcomes[n] = 0 AND p_counts[n] > 0 THEN
            v_accepted[n] := TRUE;
            v_firsts[n] := v_head + v_total + 1;
            v_total := v_total + p_counts[n];
        END IF;
    END LOOP;
    IF v_total > 0 THEN
        INSERT INTO herald_events (position, event_id, stream_id, stream_version, event_type,
                schema_version, recorded_at_micros, correlation_id, causation_id, metadata, payload)
            SELECT v_head + row_number() OVER (ORDER BY e.k), e.id, p_streams[e.request],
                v_versions[e.request] + row_number() OVER (PARTITION BY e.request ORDER BY e.k),
                e.event_type, e.schema_version, p_recorded_at, e.correlation_id, e.causation_id,
                e.metadata, e.payload
            FROM unnest(p_requests, p_ids, p_types, p_schema_versions, p_correlations,
                    p_causations, p_metadata, p_payloads)
                WITH ORDINALITY AS e(request, id, event_type, schema_version, correlation_id,
                    causation_id, metadata, payload, k)
            WHERE v_accepted[e.request];
        UPDATE herald_head SET position = v_head + v_total WHERE id = 1;
    END IF;
    RETURN QUERY SELECT n, v_outcomes[n],
            CASE WHEN v_accepted[n] THEN v_versions[n] + p_counts[n] ELSE v_versions[n] END,
            v_firsts[n]
        FROM generate_series(1, cardinality(p_streams)) AS n;
END;
$$;
