-- Each `herald serve` process also keeps the answers of lookups (`POST /subjects/{subject}`)
-- by their exact request; an answer depends on the subject's versions and on the config
-- (`normalize`), so every committed change to either tells the listening processes to forget
-- them (payload `write:0:<table schema>`, see `storage::notifications`). Statement-level
-- triggers: one notice per statement, and PostgreSQL folds identical notices of one
-- transaction into one.
CREATE FUNCTION herald_notify_written() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('herald_registry', 'write:0:' || TG_TABLE_SCHEMA);
    RETURN NULL;
END;
$$;

CREATE TRIGGER subject_versions_written AFTER INSERT OR UPDATE OR DELETE ON subject_versions
FOR EACH STATEMENT EXECUTE FUNCTION herald_notify_written();

CREATE TRIGGER settings_written AFTER INSERT OR UPDATE OR DELETE ON settings
FOR EACH STATEMENT EXECUTE FUNCTION herald_notify_written();
