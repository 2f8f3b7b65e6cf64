-- Confluent's data contracts: a schema id stands for its text, references, metadata and
-- rule set together, so the metadata and rule set (canonical JSON, NULL when absent) live on
-- the schema row and take part in `schema_key`. The new `/config` fields (compatibilityGroup,
-- defaultMetadata, overrideMetadata, defaultRuleSet, overrideRuleSet, normalize,
-- validateFields) are further kinds of the `settings` table, one row each, so a PUT can
-- update one without touching the others.
ALTER TABLE schemas ADD COLUMN metadata TEXT;
ALTER TABLE schemas ADD COLUMN rule_set TEXT;
