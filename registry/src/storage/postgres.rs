//! The PostgreSQL backend: any number of stateless registry processes on one database.
//! Ids come from a sequence; writers to one subject are serialized with a transaction-scoped
//! advisory lock on the subject's hash, and the compatibility check runs while it is held.

use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{PgConnection, query, query_as, query_scalar};

use super::{
    BoxFuture, CompatCheck, Counts, DeleteTarget, NewSchema, Registered, SchemaRow, SchemaStore,
    SettingKind, StoreError, Usage, VersionRow, decide_version, parse_references, parse_type,
    plan_delete, references_json,
};

static MIGRATOR: Migrator = sqlx::migrate!("migrations/postgres");

/// A registry stored in a PostgreSQL database (or one schema of it, chosen with
/// `options=-c search_path=...` in the URL).
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connects to `url` and applies migrations (safe to run from several processes at once).
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)?;
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(2))
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(PostgresStore { pool })
    }
}

/// Serializes writers to one subject until the transaction ends.
async fn lock_subject(conn: &mut PgConnection, subject: &str) -> Result<(), StoreError> {
    query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind(subject)
        .execute(conn)
        .await?;
    Ok(())
}

async fn versions_in(
    conn: &mut PgConnection,
    subject: &str,
) -> Result<Vec<VersionRow>, StoreError> {
    let rows: Vec<(i32, i64, bool)> = query_as(
        "SELECT version, schema_id, deleted FROM subject_versions \
         WHERE subject = $1 ORDER BY version",
    )
    .bind(subject)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(version, schema_id, deleted)| VersionRow {
            version,
            schema_id,
            deleted,
        })
        .collect())
}

async fn register_in(
    conn: &mut PgConnection,
    subject: &str,
    new: &NewSchema,
    check: CompatCheck<'_>,
) -> Result<Registered, StoreError> {
    let live_same: Option<(i32, i64)> = query_as(
        "SELECT sv.version, sv.schema_id FROM subject_versions sv \
         JOIN schemas s ON s.id = sv.schema_id \
         WHERE sv.subject = $1 AND s.schema_key = $2 AND sv.deleted = FALSE \
         ORDER BY sv.version LIMIT 1",
    )
    .bind(subject)
    .bind(&new.key)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some((version, id)) = live_same {
        if let Some(given) = new.id.filter(|given| *given != id) {
            return Err(StoreError::IdMismatch {
                given,
                reason: format!("the schema is registered with id {id}"),
            });
        }
        return Ok(Registered {
            id,
            version,
            existed: true,
            created: false,
        });
    }
    let existing_id: Option<i64> = query_scalar("SELECT id FROM schemas WHERE schema_key = $1")
        .bind(&new.key)
        .fetch_optional(&mut *conn)
        .await?;
    if let Some(given) = new.id {
        match existing_id {
            Some(id) if id != given => {
                return Err(StoreError::IdMismatch {
                    given,
                    reason: format!("the schema is registered with id {id}"),
                });
            }
            Some(_) => {}
            None => {
                let taken: Option<i64> = query_scalar("SELECT id FROM schemas WHERE id = $1")
                    .bind(given)
                    .fetch_optional(&mut *conn)
                    .await?;
                if taken.is_some() {
                    return Err(StoreError::IdMismatch {
                        given,
                        reason: "that id holds a different schema".to_owned(),
                    });
                }
            }
        }
    }
    let rows = versions_in(conn, subject).await?;
    let version = decide_version(&rows, new, check)?;
    let id = match existing_id {
        Some(id) => id,
        None => {
            // Another subject may insert the same schema concurrently: keep its id.
            let inserted: Option<i64> = query_scalar(
                "INSERT INTO schemas (id, schema_type, schema_text, schema_key, refs) \
                 VALUES (COALESCE($1, nextval(pg_get_serial_sequence('schemas', 'id'))), \
                 $2, $3, $4, $5) ON CONFLICT (schema_key) DO NOTHING RETURNING id",
            )
            .bind(new.id)
            .bind(new.schema_type.as_str())
            .bind(&new.text)
            .bind(&new.key)
            .bind(references_json(&new.references))
            .fetch_optional(&mut *conn)
            .await?;
            let Some(id) = inserted else {
                let id: i64 = query_scalar("SELECT id FROM schemas WHERE schema_key = $1")
                    .bind(&new.key)
                    .fetch_one(&mut *conn)
                    .await?;
                return finish_register(conn, subject, version, id, false).await;
            };
            if new.id.is_some() {
                query(
                    "SELECT setval(pg_get_serial_sequence('schemas', 'id'), \
                     GREATEST($1, (SELECT last_value FROM schemas_id_seq)))",
                )
                .bind(id)
                .execute(&mut *conn)
                .await?;
            }
            for (position, reference) in (0i32..).zip(&new.references) {
                query(
                    "INSERT INTO schema_references (schema_id, position, name, subject, version) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(id)
                .bind(position)
                .bind(&reference.name)
                .bind(&reference.subject)
                .bind(reference.version)
                .execute(&mut *conn)
                .await?;
            }
            id
        }
    };
    finish_register(conn, subject, version, id, existing_id.is_none()).await
}

async fn finish_register(
    conn: &mut PgConnection,
    subject: &str,
    version: i32,
    id: i64,
    created: bool,
) -> Result<Registered, StoreError> {
    query(
        "INSERT INTO subject_versions (subject, version, schema_id, deleted) \
         VALUES ($1, $2, $3, FALSE)",
    )
    .bind(subject)
    .bind(version)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(Registered {
        id,
        version,
        existed: false,
        created,
    })
}

async fn delete_in(
    conn: &mut PgConnection,
    subject: &str,
    target: DeleteTarget,
    permanent: bool,
) -> Result<Vec<i32>, StoreError> {
    let rows = versions_in(conn, subject).await?;
    let versions = plan_delete(&rows, target, permanent)?;
    for &version in &versions {
        let by: Option<i64> = query_scalar(
            "SELECT r.schema_id FROM schema_references r \
             JOIN subject_versions sv ON sv.schema_id = r.schema_id \
             WHERE r.subject = $1 AND r.version = $2 AND (sv.deleted = FALSE OR $3) LIMIT 1",
        )
        .bind(subject)
        .bind(version)
        .bind(permanent)
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(by) = by {
            return Err(StoreError::ReferenceExists { version, by });
        }
        let sql = if permanent {
            "DELETE FROM subject_versions WHERE subject = $1 AND version = $2"
        } else {
            "UPDATE subject_versions SET deleted = TRUE WHERE subject = $1 AND version = $2"
        };
        query(sql)
            .bind(subject)
            .bind(version)
            .execute(&mut *conn)
            .await?;
    }
    if permanent && target == DeleteTarget::Subject {
        query("DELETE FROM settings WHERE subject = $1")
            .bind(subject)
            .execute(&mut *conn)
            .await?;
    }
    Ok(versions)
}

impl SchemaStore for PostgresStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn ping(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            query("SELECT 1").execute(&self.pool).await?;
            Ok(())
        })
    }

    fn register<'a>(
        &'a self,
        subject: &'a str,
        new: &'a NewSchema,
        check: CompatCheck<'a>,
    ) -> BoxFuture<'a, Result<Registered, StoreError>> {
        Box::pin(async move {
            let mut tx = self.pool.begin().await?;
            lock_subject(&mut tx, subject).await?;
            let registered = register_in(&mut tx, subject, new, check).await?;
            if !registered.existed {
                tx.commit().await?;
            }
            Ok(registered)
        })
    }

    fn schema(&self, id: i64) -> BoxFuture<'_, Result<Option<SchemaRow>, StoreError>> {
        Box::pin(async move {
            let row: Option<(i64, String, String, String)> = query_as(
                "SELECT id, schema_type, schema_text, refs FROM schemas s WHERE id = $1 \
                 AND EXISTS (SELECT 1 FROM subject_versions sv WHERE sv.schema_id = s.id)",
            )
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
            row.map(|(id, schema_type, text, refs)| {
                Ok(SchemaRow {
                    id,
                    schema_type: parse_type(&schema_type)?,
                    text,
                    references: parse_references(&refs)?,
                })
            })
            .transpose()
        })
    }

    fn usages(&self, id: i64) -> BoxFuture<'_, Result<Vec<Usage>, StoreError>> {
        Box::pin(async move {
            let rows: Vec<(String, i32, bool)> = query_as(
                "SELECT subject, version, deleted FROM subject_versions \
                 WHERE schema_id = $1 ORDER BY subject, version",
            )
            .bind(id)
            .fetch_all(&self.pool)
            .await?;
            Ok(rows
                .into_iter()
                .map(|(subject, version, deleted)| Usage {
                    subject,
                    version,
                    deleted,
                })
                .collect())
        })
    }

    fn subjects(&self) -> BoxFuture<'_, Result<Vec<(String, bool)>, StoreError>> {
        Box::pin(async move {
            let rows: Vec<(String, bool)> = query_as(
                "SELECT subject, bool_and(deleted) FROM subject_versions \
                 GROUP BY subject ORDER BY subject",
            )
            .fetch_all(&self.pool)
            .await?;
            Ok(rows
                .into_iter()
                .map(|(subject, all_deleted)| (subject, !all_deleted))
                .collect())
        })
    }

    fn versions<'a>(
        &'a self,
        subject: &'a str,
    ) -> BoxFuture<'a, Result<Vec<VersionRow>, StoreError>> {
        Box::pin(async move {
            let mut conn = self.pool.acquire().await?;
            versions_in(&mut conn, subject).await
        })
    }

    fn delete<'a>(
        &'a self,
        subject: &'a str,
        target: DeleteTarget,
        permanent: bool,
    ) -> BoxFuture<'a, Result<Vec<i32>, StoreError>> {
        Box::pin(async move {
            let mut tx = self.pool.begin().await?;
            lock_subject(&mut tx, subject).await?;
            let deleted = delete_in(&mut tx, subject, target, permanent).await?;
            tx.commit().await?;
            Ok(deleted)
        })
    }

    fn referenced_by<'a>(
        &'a self,
        subject: &'a str,
        version: i32,
    ) -> BoxFuture<'a, Result<Vec<i64>, StoreError>> {
        Box::pin(async move {
            let ids: Vec<i64> = query_scalar(
                "SELECT DISTINCT r.schema_id FROM schema_references r \
                 JOIN subject_versions sv ON sv.schema_id = r.schema_id \
                 WHERE r.subject = $1 AND r.version = $2 AND sv.deleted = FALSE \
                 ORDER BY r.schema_id",
            )
            .bind(subject)
            .bind(version)
            .fetch_all(&self.pool)
            .await?;
            Ok(ids)
        })
    }

    fn setting<'a>(
        &'a self,
        kind: SettingKind,
        subject: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Option<String>, StoreError>> {
        Box::pin(async move {
            let value: Option<String> =
                query_scalar("SELECT value FROM settings WHERE kind = $1 AND subject = $2")
                    .bind(kind.as_str())
                    .bind(subject.unwrap_or(""))
                    .fetch_optional(&self.pool)
                    .await?;
            Ok(value)
        })
    }

    fn put_setting<'a>(
        &'a self,
        kind: SettingKind,
        subject: Option<&'a str>,
        value: &'a str,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            query(
                "INSERT INTO settings (kind, subject, value) VALUES ($1, $2, $3) \
                 ON CONFLICT (kind, subject) DO UPDATE SET value = excluded.value",
            )
            .bind(kind.as_str())
            .bind(subject.unwrap_or(""))
            .bind(value)
            .execute(&self.pool)
            .await?;
            Ok(())
        })
    }

    fn delete_setting<'a>(
        &'a self,
        kind: SettingKind,
        subject: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Option<String>, StoreError>> {
        Box::pin(async move {
            let value: Option<String> = query_scalar(
                "DELETE FROM settings WHERE kind = $1 AND subject = $2 RETURNING value",
            )
            .bind(kind.as_str())
            .bind(subject.unwrap_or(""))
            .fetch_optional(&self.pool)
            .await?;
            Ok(value)
        })
    }

    fn counts(&self) -> BoxFuture<'_, Result<Counts, StoreError>> {
        Box::pin(async move {
            let (schemas, subjects): (i64, i64) = query_as(
                "SELECT (SELECT COUNT(DISTINCT schema_id) FROM subject_versions), \
                 (SELECT COUNT(DISTINCT subject) FROM subject_versions WHERE deleted = FALSE)",
            )
            .fetch_one(&self.pool)
            .await?;
            Ok(Counts { schemas, subjects })
        })
    }
}
