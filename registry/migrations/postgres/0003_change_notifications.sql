-- Several `herald serve` processes may share this database, each with a cache of parsed
-- schemas by id. When a version row is permanently deleted, its schema id may no longer be
-- served: tell every process listening on the `herald_registry` channel (see
-- `storage::notifications`). The notification is sent by the deleting transaction itself,
-- so it is delivered only if that transaction commits, and it covers every writer, SQL run
-- by hand included. The payload is `schema:<id>:<table schema>`, so registries kept in
-- different schemas of one database ignore each other. Soft deletes (an UPDATE) change
-- nothing a cache holds: Confluent serves a soft-deleted schema by id.
CREATE FUNCTION herald_notify_version_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('herald_registry', 'schema:' || OLD.schema_id || ':' || TG_TABLE_SCHEMA);
    RETURN NULL;
END;
$$;

CREATE TRIGGER subject_versions_deleted AFTER DELETE ON subject_versions
FOR EACH ROW EXECUTE FUNCTION herald_notify_version_deleted();
