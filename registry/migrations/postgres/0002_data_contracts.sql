-- Confluent's data contracts: a schema id stands for its text, references, metadata and
-- rule set together, so the metadata and rule set (canonical JSON, NULL when absent) live on
-- the schema row and take part in `schema_key`. The new `/config` fields (compatibilityGroup,
-- defaultMetadata, overrideMetadata, defaultRuleSet, overrideRuleSet, normalize,
-- validateFields) are further kinds of the `settings` table, one row each, so a PUT can
-- update one without touching the others.
ALTER TABLE schemas ADD COLUMN metadata TEXT;
ALTER TABLE schemas ADD COLUMN rule_set TEXT;

-- Identity now keeps documentation (see `schema::documented`): rows written before this
-- migration carry a key computed the old way (version 1). `herald serve` recomputes those
-- keys at start-up and marks them version 2, the version new rows get by default.
ALTER TABLE schemas ADD COLUMN key_version INTEGER NOT NULL DEFAULT 2;
UPDATE schemas SET key_version = 1;
