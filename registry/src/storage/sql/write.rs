//! The write transactions of [`SqlStorage`]: registering a schema under a subject (finding or
//! inserting the schema row, deciding the version) and deleting versions, each inside the
//! subject's lock, and the audit entry every write appends in its transaction.

use sqlx::{
    ColumnIndex, Decode, Encode, Executor, IntoArguments, Transaction, Type, query, query_as,
    query_scalar,
};

use super::{Dialect, SqlStorage, stored_version};
use crate::storage::audit::{AuditAction, now_millis};
use crate::storage::{
    CompatCheck, DeleteTarget, NewSchema, Registered, Registration, StorageError, VersionRow,
    decide_version, plan_delete, references_json,
};

/// A `subject_versions` row: version, schema id, deleted, registration time and principal.
type VersionColumns = (i32, i64, bool, Option<i64>, Option<String>);

impl<D> SqlStorage<D>
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
    /// Begins a write transaction that holds the subject's lock.
    pub(super) async fn begin_write(
        &self,
        subject: &str,
    ) -> Result<Transaction<'static, D>, StorageError> {
        let mut tx = self.writer.begin_with(D::BEGIN_WRITE).await?;
        if let Some(lock) = D::LOCK_SUBJECT {
            query(lock).bind(subject).execute(&mut *tx).await?;
        }
        Ok(tx)
    }

    pub(super) async fn versions_in(
        conn: &mut D::Connection,
        subject: &str,
    ) -> Result<Vec<VersionRow>, StorageError> {
        let rows: Vec<VersionColumns> = query_as(
            "SELECT version, schema_id, deleted, registered_at, registered_by \
             FROM subject_versions WHERE subject = $1 ORDER BY version",
        )
        .bind(subject)
        .fetch_all(conn)
        .await?;
        rows.into_iter()
            .map(|(version, schema_id, deleted, at, by)| {
                Ok(VersionRow {
                    version: stored_version(subject, version)?,
                    schema_id,
                    deleted,
                    // Both are written together; a row with one alone was not written by
                    // the registry and says nothing reliable.
                    registered: at.zip(by).map(|(at, by)| Registration { at, by }),
                })
            })
            .collect()
    }

    /// Appends an entry to the audit log, stamped now, inside the write's transaction;
    /// returns the time it was stamped with.
    pub(super) async fn audit_in(
        conn: &mut D::Connection,
        by: &str,
        action: AuditAction,
        subject: Option<&str>,
        version: Option<(i32, i64)>,
        detail: Option<&str>,
    ) -> Result<i64, StorageError> {
        let at = now_millis();
        query(
            "INSERT INTO audit_log (at, principal, action, subject, version, schema_id, detail) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(at)
        .bind(by)
        .bind(action.as_str())
        .bind(subject)
        .bind(version.map(|(version, _)| version))
        .bind(version.map(|(_, id)| id))
        .bind(detail)
        .execute(conn)
        .await?;
        Ok(at)
    }

    /// The id a new registration must use: the one the schema already has, else none, after
    /// checking an IMPORT's given id against both.
    async fn existing_id(
        conn: &mut D::Connection,
        new: &NewSchema,
    ) -> Result<Option<i64>, StorageError> {
        let existing: Option<i64> = query_scalar("SELECT id FROM schemas WHERE schema_key = $1")
            .bind(new.key.as_str())
            .fetch_optional(&mut *conn)
            .await?;
        let Some(given) = new.id else {
            return Ok(existing);
        };
        match existing {
            Some(id) if id != given => Err(id_mismatch(given, id)),
            Some(_) => Ok(existing),
            None => {
                let taken: Option<i64> = query_scalar("SELECT id FROM schemas WHERE id = $1")
                    .bind(given)
                    .fetch_optional(&mut *conn)
                    .await?;
                match taken {
                    Some(_) => Err(StorageError::IdMismatch {
                        given,
                        reason: "that id holds a different schema".to_owned(),
                    }),
                    None => Ok(None),
                }
            }
        }
    }

    /// Stores the schema text under a new id, or returns the id another transaction stored it
    /// under meanwhile (`false`: not created here).
    async fn insert_schema(
        conn: &mut D::Connection,
        new: &NewSchema,
    ) -> Result<(i64, bool), StorageError> {
        let inserted: Option<i64> = query_scalar(D::INSERT_SCHEMA)
            .bind(new.id)
            .bind(new.schema_type.as_str())
            .bind(new.text.as_str())
            .bind(new.key.as_str())
            .bind(references_json(&new.references).as_str())
            .bind(new.metadata.as_deref())
            .bind(new.rule_set.as_deref())
            .fetch_optional(&mut *conn)
            .await?;
        let Some(id) = inserted else {
            let id: i64 = query_scalar("SELECT id FROM schemas WHERE schema_key = $1")
                .bind(new.key.as_str())
                .fetch_one(&mut *conn)
                .await?;
            return Ok((id, false));
        };
        if let (Some(sync), Some(_)) = (D::SYNC_IDS, new.id) {
            query(sync).bind(id).execute(&mut *conn).await?;
        }
        for (position, reference) in (0i32..).zip(&new.references) {
            query(
                "INSERT INTO schema_references (schema_id, position, name, subject, version) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(id)
            .bind(position)
            .bind(reference.name.as_str())
            .bind(reference.subject.as_str())
            .bind(reference.version)
            .execute(&mut *conn)
            .await?;
        }
        Ok((id, true))
    }

    pub(super) async fn register_in(
        conn: &mut D::Connection,
        subject: &str,
        new: &NewSchema,
        check: CompatCheck<'_>,
        by: &str,
    ) -> Result<Option<Registered>, StorageError> {
        let live_same: Option<(i32, i64)> = query_as(
            "SELECT sv.version, sv.schema_id FROM subject_versions sv \
             JOIN schemas s ON s.id = sv.schema_id \
             WHERE sv.subject = $1 AND s.schema_key = $2 AND sv.deleted = FALSE \
             ORDER BY sv.version LIMIT 1",
        )
        .bind(subject)
        .bind(new.key.as_str())
        .fetch_optional(&mut *conn)
        .await?;
        if let Some((version, id)) = live_same {
            if let Some(given) = new.id.filter(|given| *given != id) {
                return Err(id_mismatch(given, id));
            }
            return Ok(Some(Registered {
                id,
                version: stored_version(subject, version)?,
                existed: true,
                created: false,
            }));
        }
        let existing_id = Self::existing_id(conn, new).await?;
        let rows = Self::versions_in(conn, subject).await?;
        let live: Vec<VersionRow> = rows.iter().filter(|r| !r.deleted).cloned().collect();
        if !check(&live) {
            return Ok(None);
        }
        let version = decide_version(&rows, new)?;
        let (id, created) = match existing_id {
            Some(id) => (id, false),
            None => Self::insert_schema(conn, new).await?,
        };
        // The version and its audit entry carry the same time.
        let at = Self::audit_in(
            &mut *conn,
            by,
            AuditAction::Register,
            Some(subject),
            Some((version, id)),
            Some(new.schema_type.as_str()),
        )
        .await?;
        query(
            "INSERT INTO subject_versions \
             (subject, version, schema_id, deleted, registered_at, registered_by) \
             VALUES ($1, $2, $3, FALSE, $4, $5)",
        )
        .bind(subject)
        .bind(version)
        .bind(id)
        .bind(at)
        .bind(by)
        .execute(&mut *conn)
        .await?;
        Ok(Some(Registered {
            id,
            version,
            existed: false,
            created,
        }))
    }

    pub(super) async fn delete_in(
        conn: &mut D::Connection,
        subject: &str,
        target: DeleteTarget,
        permanent: bool,
        by: &str,
    ) -> Result<Vec<i32>, StorageError> {
        let rows = Self::versions_in(conn, subject).await?;
        let versions = plan_delete(&rows, target, permanent)?;
        let action = match target {
            DeleteTarget::Subject => AuditAction::DeleteSubject,
            DeleteTarget::Version(_) => AuditAction::DeleteVersion,
        };
        let detail = if permanent { "permanent" } else { "soft" };
        for &version in &versions {
            let referencing: Option<i64> = query_scalar(
                "SELECT r.schema_id FROM schema_references r \
                 JOIN subject_versions sv ON sv.schema_id = r.schema_id \
                 WHERE r.subject = $1 AND r.version = $2 AND (sv.deleted = FALSE OR $3) LIMIT 1",
            )
            .bind(subject)
            .bind(version)
            .bind(permanent)
            .fetch_optional(&mut *conn)
            .await?;
            if let Some(referencing) = referencing {
                return Err(StorageError::ReferenceExists {
                    version,
                    by: referencing,
                });
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
            let id = rows
                .iter()
                .find(|r| r.version == version)
                .map(|r| r.schema_id);
            Self::audit_in(
                conn,
                by,
                action,
                Some(subject),
                id.map(|id| (version, id)),
                Some(detail),
            )
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
}

fn id_mismatch(given: i64, id: i64) -> StorageError {
    StorageError::IdMismatch {
        given,
        reason: format!("the schema is registered with id {id}"),
    }
}
