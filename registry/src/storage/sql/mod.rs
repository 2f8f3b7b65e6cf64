//! The SQL store, written once for every backend: the statements, the registration and
//! deletion transactions and the row mapping. What truly differs between databases (pool
//! setup, the write lock, id allocation) is a [`Dialect`], a few lines per backend.

use sqlx::migrate::{Migrate, Migrator};
use sqlx::{
    AssertSqlSafe, ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Pool, Type,
    query, query_as, query_scalar,
};

mod keys;
mod write;

use super::audit::{AuditAction, settings_detail};
use super::keys::{DekFilter, DekRow, DekTarget, KekRow, KekSpec, KekUpdate, KeyStoreError};
use super::{
    AuditEntry, BoxFuture, CompatCheck, Counts, DeleteTarget, NewSchema, Registered, SchemaRow,
    SchemaStore, SettingKind, StorageError, SubjectPage, SubjectSummary, Usage, VersionRow,
    contains_pattern, natural, parse_references, parse_type,
};

/// What one database does differently from another.
pub trait Dialect: Database<Connection: Migrate> {
    /// `"sqlite"` or `"postgres"`.
    const BACKEND: &'static str;
    /// The statement that begins a write transaction.
    const BEGIN_WRITE: &'static str;
    /// Run first in every write transaction, bound to the subject, when beginning it does not
    /// serialize writers by itself.
    const LOCK_SUBJECT: Option<&'static str>;
    /// Inserts a schema row from (`$1` given id or NULL, type, text, key, references, metadata,
    /// rule set) and
    /// returns its id, or no row when another transaction inserted the same key first.
    const INSERT_SCHEMA: &'static str;
    /// Run after a schema was inserted with a given id, bound to it, when the id allocator
    /// does not move past given ids by itself.
    const SYNC_IDS: Option<&'static str>;

    /// The migrations to apply at start-up.
    fn migrator() -> &'static Migrator;

    /// Opens the writer and reader pools for `url`.
    fn open(url: &str, max_connections: u32) -> BoxFuture<'_, Result<Pools<Self>, StorageError>>;
}

/// A `schemas` row: id, type, text, references, metadata and rule set.
type SchemaColumns = (i64, String, String, String, Option<String>, Option<String>);

/// A row of [`SchemaStore::subject_page`]: subject, type, latest version, versions, live
/// versions, compatibility level and mode.
type SummaryColumns = (
    String,
    String,
    i64,
    i64,
    i64,
    Option<String>,
    Option<String>,
);

/// An `audit_log` row: id, time, principal, action, subject, version, schema id and detail.
type AuditColumns = (
    i64,
    i64,
    String,
    String,
    Option<String>,
    Option<i32>,
    Option<i64>,
    Option<String>,
);

/// The writer and the reader pool of a store.
pub type Pools<D> = (Pool<D>, Pool<D>);

/// A registry stored in a SQL database: writes through `writer` (one connection for SQLite),
/// reads through `reader` (the same pool for PostgreSQL).
#[derive(Debug, Clone)]
pub struct SqlStorage<D: Database> {
    writer: Pool<D>,
    reader: Pool<D>,
}

impl<D: Dialect> SqlStorage<D> {
    /// Connects to `url` and applies migrations (safe to run from several processes at once).
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, StorageError> {
        let (writer, reader) = D::open(url, max_connections).await?;
        D::migrator().run(&writer).await?;
        Ok(SqlStorage { writer, reader })
    }
}

impl<D> SchemaStore for SqlStorage<D>
where
    D: Dialect,
    for<'c> &'c mut D::Connection: Executor<'c, Database = D>,
    D::Arguments: IntoArguments<D>,
    usize: ColumnIndex<D::Row>,
    for<'q> bool: Encode<'q, D> + Decode<'q, D> + Type<D>,
    for<'q> i32: Encode<'q, D> + Decode<'q, D> + Type<D>,
    for<'q> i64: Encode<'q, D> + Decode<'q, D> + Type<D>,
    for<'q> Option<i32>: Encode<'q, D> + Decode<'q, D> + Type<D>,
    for<'q> Option<i64>: Encode<'q, D> + Decode<'q, D> + Type<D>,
    for<'q> String: Decode<'q, D> + Type<D>,
    for<'q> &'q str: Encode<'q, D> + Type<D>,
    for<'q> Option<&'q str>: Encode<'q, D> + Type<D>,
    for<'q> Option<String>: Decode<'q, D> + Type<D>,
{
    fn backend(&self) -> &'static str {
        D::BACKEND
    }

    fn ping(&self) -> BoxFuture<'_, Result<(), StorageError>> {
        Box::pin(async move {
            query("SELECT 1").execute(&self.reader).await?;
            Ok(())
        })
    }

    fn register<'a>(
        &'a self,
        subject: &'a str,
        new: &'a NewSchema,
        check: CompatCheck<'a>,
        by: &'a str,
    ) -> BoxFuture<'a, Result<Option<Registered>, StorageError>> {
        Box::pin(async move {
            let mut tx = self.begin_write(subject).await?;
            let registered = Self::register_in(&mut tx, subject, new, check, by).await?;
            if registered.is_some_and(|r| !r.existed) {
                tx.commit().await?;
            }
            Ok(registered)
        })
    }

    fn schema(&self, id: i64) -> BoxFuture<'_, Result<Option<SchemaRow>, StorageError>> {
        Box::pin(async move {
            let row: Option<SchemaColumns> = query_as(
                "SELECT id, schema_type, schema_text, refs, metadata, rule_set \
                 FROM schemas s WHERE id = $1 \
                 AND EXISTS (SELECT 1 FROM subject_versions sv WHERE sv.schema_id = s.id)",
            )
            .bind(id)
            .fetch_optional(&self.reader)
            .await?;
            row.map(|(id, schema_type, text, refs, metadata, rule_set)| {
                Ok(SchemaRow {
                    id,
                    schema_type: parse_type(&schema_type)?,
                    text,
                    references: parse_references(&refs)?,
                    metadata,
                    rule_set,
                })
            })
            .transpose()
        })
    }

    fn usages(&self, id: i64) -> BoxFuture<'_, Result<Vec<Usage>, StorageError>> {
        Box::pin(async move {
            let rows: Vec<(String, i32, bool)> = query_as(
                "SELECT subject, version, deleted FROM subject_versions \
                 WHERE schema_id = $1 ORDER BY subject, version",
            )
            .bind(id)
            .fetch_all(&self.reader)
            .await?;
            rows.into_iter()
                .map(|(subject, version, deleted)| {
                    Ok(Usage {
                        version: stored_version(&subject, version)?,
                        subject,
                        deleted,
                    })
                })
                .collect()
        })
    }

    fn subjects(&self) -> BoxFuture<'_, Result<Vec<(String, bool)>, StorageError>> {
        Box::pin(async move {
            let rows: Vec<(String, i64)> = query_as(
                "SELECT subject, SUM(CASE WHEN deleted THEN 0 ELSE 1 END) \
                 FROM subject_versions GROUP BY subject ORDER BY subject",
            )
            .fetch_all(&self.reader)
            .await?;
            Ok(rows
                .into_iter()
                .map(|(subject, live)| (subject, live > 0))
                .collect())
        })
    }

    fn subject_page<'a>(
        &'a self,
        search: &'a str,
        offset: i64,
        limit: i64,
    ) -> BoxFuture<'a, Result<SubjectPage, StorageError>> {
        Box::pin(async move {
            let pattern = contains_pattern(search);
            let mut names: Vec<String> = query_scalar(
                "SELECT DISTINCT subject FROM subject_versions \
                 WHERE LOWER(subject) LIKE $1 ESCAPE '\\'",
            )
            .bind(pattern.as_str())
            .fetch_all(&self.reader)
            .await?;
            names.sort_by(|a, b| natural::compare(a, b));
            let total = i64::try_from(names.len()).unwrap_or(i64::MAX);
            let start = usize::try_from(offset).unwrap_or(0).min(names.len());
            let end = start
                .saturating_add(usize::try_from(limit).unwrap_or(0))
                .min(names.len());
            let page = &names[start..end];
            if page.is_empty() {
                return Ok(SubjectPage {
                    total,
                    subjects: Vec::new(),
                });
            }
            // One placeholder per name of the page; the names themselves are bound.
            let placeholders: Vec<String> = (1..=page.len()).map(|i| format!("${i}")).collect();
            let statement = format!(
                "SELECT v.subject, \
                 (SELECT s.schema_type FROM subject_versions w JOIN schemas s ON s.id = w.schema_id \
                  WHERE w.subject = v.subject ORDER BY w.deleted, w.version DESC LIMIT 1), \
                 CAST(COALESCE(MAX(CASE WHEN v.deleted THEN NULL ELSE v.version END), MAX(v.version)) AS BIGINT), \
                 COUNT(*), SUM(CASE WHEN v.deleted THEN 0 ELSE 1 END), \
                 (SELECT value FROM settings WHERE kind = 'compatibility' AND subject = v.subject), \
                 (SELECT value FROM settings WHERE kind = 'mode' AND subject = v.subject) \
                 FROM subject_versions v WHERE v.subject IN ({}) GROUP BY v.subject",
                placeholders.join(", ")
            );
            let mut summaries = query_as(AssertSqlSafe(statement));
            for name in page {
                summaries = summaries.bind(name.as_str());
            }
            let rows: Vec<SummaryColumns> = summaries.fetch_all(&self.reader).await?;
            let mut subjects = rows
                .into_iter()
                .map(
                    |(subject, schema_type, latest, versions, live, compatibility, mode)| {
                        let latest = i32::try_from(latest)
                            .ok()
                            .and_then(|v| stored_version(&subject, v).ok())
                            .ok_or_else(|| {
                                StorageError::Corrupt(format!(
                                    "subject `{subject}` has version {latest}"
                                ))
                            })?;
                        Ok(SubjectSummary {
                            schema_type: parse_type(&schema_type)?,
                            latest,
                            versions,
                            live: live > 0,
                            compatibility,
                            mode,
                            subject,
                        })
                    },
                )
                .collect::<Result<Vec<_>, StorageError>>()?;
            subjects.sort_by(|a, b| natural::compare(&a.subject, &b.subject));
            Ok(SubjectPage { total, subjects })
        })
    }

    fn versions<'a>(
        &'a self,
        subject: &'a str,
    ) -> BoxFuture<'a, Result<Vec<VersionRow>, StorageError>> {
        Box::pin(async move {
            let mut conn = self.reader.acquire().await?;
            Self::versions_in(&mut conn, subject).await
        })
    }

    fn delete<'a>(
        &'a self,
        subject: &'a str,
        target: DeleteTarget,
        permanent: bool,
        by: &'a str,
    ) -> BoxFuture<'a, Result<Vec<i32>, StorageError>> {
        Box::pin(async move {
            let mut tx = self.begin_write(subject).await?;
            let deleted = Self::delete_in(&mut tx, subject, target, permanent, by).await?;
            tx.commit().await?;
            Ok(deleted)
        })
    }

    fn referenced_by<'a>(
        &'a self,
        subject: &'a str,
        version: i32,
    ) -> BoxFuture<'a, Result<Vec<i64>, StorageError>> {
        Box::pin(async move {
            let ids: Vec<i64> = query_scalar(
                "SELECT DISTINCT r.schema_id FROM schema_references r \
                 JOIN subject_versions sv ON sv.schema_id = r.schema_id \
                 WHERE r.subject = $1 AND r.version = $2 AND sv.deleted = FALSE \
                 ORDER BY r.schema_id",
            )
            .bind(subject)
            .bind(version)
            .fetch_all(&self.reader)
            .await?;
            Ok(ids)
        })
    }

    fn setting<'a>(
        &'a self,
        kind: SettingKind,
        subject: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Option<String>, StorageError>> {
        Box::pin(async move {
            let value: Option<String> =
                query_scalar("SELECT value FROM settings WHERE kind = $1 AND subject = $2")
                    .bind(kind.as_str())
                    .bind(subject.unwrap_or(""))
                    .fetch_optional(&self.reader)
                    .await?;
            Ok(value)
        })
    }

    fn put_settings<'a>(
        &'a self,
        subject: Option<&'a str>,
        values: &'a [(SettingKind, String)],
        by: &'a str,
    ) -> BoxFuture<'a, Result<(), StorageError>> {
        Box::pin(async move {
            let mut tx = self.begin_write(subject.unwrap_or("")).await?;
            for (kind, value) in values {
                query(
                    "INSERT INTO settings (kind, subject, value) VALUES ($1, $2, $3) \
                     ON CONFLICT (kind, subject) DO UPDATE SET value = excluded.value",
                )
                .bind(kind.as_str())
                .bind(subject.unwrap_or(""))
                .bind(value.as_str())
                .execute(&mut *tx)
                .await?;
            }
            let action = AuditAction::for_settings(values.iter().map(|(kind, _)| *kind), true);
            let detail = settings_detail(values);
            Self::audit_in(&mut tx, by, action, subject, None, Some(&detail)).await?;
            tx.commit().await?;
            Ok(())
        })
    }

    fn delete_settings<'a>(
        &'a self,
        subject: Option<&'a str>,
        kinds: &'a [SettingKind],
        by: &'a str,
    ) -> BoxFuture<'a, Result<Vec<(SettingKind, String)>, StorageError>> {
        Box::pin(async move {
            let mut tx = self.begin_write(subject.unwrap_or("")).await?;
            let mut removed = Vec::new();
            for kind in kinds {
                let value: Option<String> = query_scalar(
                    "DELETE FROM settings WHERE kind = $1 AND subject = $2 RETURNING value",
                )
                .bind(kind.as_str())
                .bind(subject.unwrap_or(""))
                .fetch_optional(&mut *tx)
                .await?;
                if let Some(value) = value {
                    removed.push((*kind, value));
                }
            }
            if !removed.is_empty() {
                let action =
                    AuditAction::for_settings(removed.iter().map(|(kind, _)| *kind), false);
                let detail = settings_detail(&removed);
                Self::audit_in(&mut tx, by, action, subject, None, Some(&detail)).await?;
            }
            tx.commit().await?;
            Ok(removed)
        })
    }

    fn audit_log(
        &self,
        after: i64,
        limit: i64,
    ) -> BoxFuture<'_, Result<Vec<AuditEntry>, StorageError>> {
        Box::pin(async move {
            let rows: Vec<AuditColumns> = query_as(
                "SELECT id, at, principal, action, subject, version, schema_id, detail \
                 FROM audit_log WHERE id > $1 ORDER BY id LIMIT $2",
            )
            .bind(after)
            .bind(limit)
            .fetch_all(&self.reader)
            .await?;
            rows.into_iter()
                .map(
                    |(id, at, principal, action, subject, version, schema_id, detail)| {
                        Ok(AuditEntry {
                            id,
                            at,
                            principal,
                            action: action.parse()?,
                            subject,
                            version,
                            schema_id,
                            detail,
                        })
                    },
                )
                .collect()
        })
    }

    fn stale_keys(&self) -> BoxFuture<'_, Result<Vec<i64>, StorageError>> {
        Box::pin(async move {
            let ids: Vec<i64> =
                query_scalar("SELECT id FROM schemas WHERE key_version < 2 ORDER BY id")
                    .fetch_all(&self.reader)
                    .await?;
            Ok(ids)
        })
    }

    fn set_key<'a>(&'a self, id: i64, key: &'a str) -> BoxFuture<'a, Result<(), StorageError>> {
        Box::pin(async move {
            query("UPDATE schemas SET schema_key = $1, key_version = 2 WHERE id = $2")
                .bind(key)
                .bind(id)
                .execute(&self.writer)
                .await?;
            Ok(())
        })
    }

    fn counts(&self) -> BoxFuture<'_, Result<Counts, StorageError>> {
        Box::pin(async move {
            let (schemas, subjects): (i64, i64) = query_as(
                "SELECT (SELECT COUNT(DISTINCT schema_id) FROM subject_versions), \
                 (SELECT COUNT(DISTINCT subject) FROM subject_versions WHERE deleted = FALSE)",
            )
            .fetch_one(&self.reader)
            .await?;
            Ok(Counts { schemas, subjects })
        })
    }

    fn keks(&self, deleted: bool) -> BoxFuture<'_, Result<Vec<KekRow>, StorageError>> {
        Box::pin(self.keks_read(deleted))
    }

    fn kek<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Option<KekRow>, StorageError>> {
        Box::pin(self.kek_read(name))
    }

    fn create_kek<'a>(
        &'a self,
        spec: &'a KekSpec,
        by: &'a str,
    ) -> BoxFuture<'a, Result<KekRow, KeyStoreError>> {
        Box::pin(self.create_kek_tx(spec, by))
    }

    fn update_kek<'a>(
        &'a self,
        name: &'a str,
        update: &'a KekUpdate,
        by: &'a str,
    ) -> BoxFuture<'a, Result<KekRow, KeyStoreError>> {
        Box::pin(self.update_kek_tx(name, update, by))
    }

    fn delete_kek<'a>(
        &'a self,
        name: &'a str,
        permanent: bool,
        by: &'a str,
    ) -> BoxFuture<'a, Result<(), KeyStoreError>> {
        Box::pin(self.delete_kek_tx(name, permanent, by))
    }

    fn undelete_kek<'a>(
        &'a self,
        name: &'a str,
        by: &'a str,
    ) -> BoxFuture<'a, Result<(), KeyStoreError>> {
        Box::pin(self.undelete_kek_tx(name, by))
    }

    fn deks<'a>(
        &'a self,
        kek_name: &'a str,
        filter: DekFilter<'a>,
    ) -> BoxFuture<'a, Result<Vec<DekRow>, StorageError>> {
        Box::pin(self.deks_read(kek_name, filter))
    }

    fn create_dek<'a>(
        &'a self,
        dek: &'a DekRow,
        by: &'a str,
    ) -> BoxFuture<'a, Result<DekRow, KeyStoreError>> {
        Box::pin(self.create_dek_tx(dek, by))
    }

    fn delete_deks<'a>(
        &'a self,
        target: DekTarget<'a>,
        permanent: bool,
        by: &'a str,
    ) -> BoxFuture<'a, Result<(), KeyStoreError>> {
        Box::pin(async move { self.delete_deks_tx(&target, permanent, by).await })
    }

    fn undelete_deks<'a>(
        &'a self,
        target: DekTarget<'a>,
        by: &'a str,
    ) -> BoxFuture<'a, Result<(), KeyStoreError>> {
        Box::pin(async move { self.undelete_deks_tx(&target, by).await })
    }
}

/// A version number read from a row: positive, or the row is corrupt.
fn stored_version(subject: &str, version: i32) -> Result<i32, StorageError> {
    if version >= 1 {
        Ok(version)
    } else {
        Err(StorageError::Corrupt(format!(
            "subject `{subject}` has version {version}, outside [1, 2^31-1]"
        )))
    }
}
