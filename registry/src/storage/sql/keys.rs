//! The DEK registry's statements and write transactions on [`SqlStorage`]. Every write holds
//! its KEK's lock (the name, prefixed so that it never meets a subject's) and appends an
//! audit entry that names the keys, never their material.

use sqlx::{
    ColumnIndex, Decode, Encode, Executor, IntoArguments, Type, query, query_as, query_scalar,
};

use super::{Dialect, SqlStorage};
use crate::storage::StorageError;
use crate::storage::audit::{AuditAction, now_millis};
use crate::storage::keys::{
    DekFilter, DekRow, DekTarget, KekRow, KekSpec, KekUpdate, KeyStoreError, check_dek_delete,
    parse_algorithm, parse_props, props_json, revives, updated,
};

/// A `keks` row: name, KMS type, KMS key id, properties, doc, shared, time, deleted.
type KekColumns = (
    String,
    String,
    String,
    String,
    Option<String>,
    bool,
    i64,
    bool,
);

/// A `deks` row: KEK name, subject, algorithm, version, encrypted material, time, deleted.
type DekColumns = (String, String, String, i32, String, i64, bool);

const KEK_COLUMNS: &str = "name, kms_type, kms_key_id, kms_props, doc, shared, ts, deleted";
const DEK_COLUMNS: &str =
    "kek_name, subject, algorithm, version, encrypted_key_material, ts, deleted";

fn kek_row(
    (name, kms_type, kms_key_id, props, doc, shared, ts, deleted): KekColumns,
) -> Result<KekRow, StorageError> {
    Ok(KekRow {
        spec: KekSpec {
            name,
            kms_type,
            kms_key_id,
            kms_props: parse_props(&props)?,
            doc,
            shared,
        },
        ts,
        deleted,
    })
}

fn dek_row(
    (kek_name, subject, algorithm, version, encrypted_key_material, ts, deleted): DekColumns,
) -> Result<DekRow, StorageError> {
    Ok(DekRow {
        kek_name,
        subject,
        algorithm: parse_algorithm(&algorithm)?,
        version,
        encrypted_key_material,
        ts,
        deleted,
    })
}

/// The lock a write under the KEK `name` holds.
fn lock_name(name: &str) -> String {
    format!("herald-kek:{name}")
}

/// The audit detail naming a target's DEKs.
fn dek_detail(target: &DekTarget<'_>, how: Option<&str>) -> String {
    let version = target
        .version
        .map_or_else(|| "all".to_owned(), |v| v.to_string());
    let mut detail = format!(
        "kek={}, algorithm={}, version={version}",
        target.kek_name, target.algorithm
    );
    if let Some(how) = how {
        detail.push_str(", ");
        detail.push_str(how);
    }
    detail
}

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
    pub(super) async fn keks_read(&self, deleted: bool) -> Result<Vec<KekRow>, StorageError> {
        let statement =
            format!("SELECT {KEK_COLUMNS} FROM keks WHERE deleted = FALSE OR $1 ORDER BY name");
        let rows: Vec<KekColumns> = query_as(sqlx::AssertSqlSafe(statement))
            .bind(deleted)
            .fetch_all(&self.reader)
            .await?;
        rows.into_iter().map(kek_row).collect()
    }

    async fn kek_in(conn: &mut D::Connection, name: &str) -> Result<Option<KekRow>, StorageError> {
        let statement = format!("SELECT {KEK_COLUMNS} FROM keks WHERE name = $1");
        let row: Option<KekColumns> = query_as(sqlx::AssertSqlSafe(statement))
            .bind(name)
            .fetch_optional(conn)
            .await?;
        row.map(kek_row).transpose()
    }

    pub(super) async fn kek_read(&self, name: &str) -> Result<Option<KekRow>, StorageError> {
        let mut conn = self.reader.acquire().await?;
        Self::kek_in(&mut conn, name).await
    }

    async fn deks_in(
        conn: &mut D::Connection,
        kek_name: &str,
        filter: DekFilter<'_>,
    ) -> Result<Vec<DekRow>, StorageError> {
        let statement = format!(
            "SELECT {DEK_COLUMNS} FROM deks WHERE kek_name = $1 \
             AND ($2 IS NULL OR subject = $2) AND ($3 IS NULL OR algorithm = $3) \
             AND (deleted = FALSE OR $4) ORDER BY subject, algorithm, version"
        );
        let rows: Vec<DekColumns> = query_as(sqlx::AssertSqlSafe(statement))
            .bind(kek_name)
            .bind(filter.subject)
            .bind(filter.algorithm.map(|a| a.as_str()))
            .bind(filter.deleted)
            .fetch_all(conn)
            .await?;
        rows.into_iter().map(dek_row).collect()
    }

    pub(super) async fn deks_read(
        &self,
        kek_name: &str,
        filter: DekFilter<'_>,
    ) -> Result<Vec<DekRow>, StorageError> {
        let mut conn = self.reader.acquire().await?;
        Self::deks_in(&mut conn, kek_name, filter).await
    }

    /// The target's DEKs, soft-deleted ones included.
    async fn target_in(
        conn: &mut D::Connection,
        target: &DekTarget<'_>,
    ) -> Result<Vec<DekRow>, StorageError> {
        let filter = DekFilter {
            subject: Some(target.subject),
            algorithm: Some(target.algorithm),
            deleted: true,
        };
        let mut deks = Self::deks_in(conn, target.kek_name, filter).await?;
        if let Some(version) = target.version {
            deks.retain(|dek| dek.version == version);
        }
        Ok(deks)
    }

    pub(super) async fn create_kek_tx(
        &self,
        spec: &KekSpec,
        by: &str,
    ) -> Result<KekRow, KeyStoreError> {
        let mut tx = self.begin_write(&lock_name(&spec.name)).await?;
        let ts = now_millis();
        match Self::kek_in(&mut tx, &spec.name).await? {
            Some(old) if revives(&old, spec) => {
                query("UPDATE keks SET deleted = FALSE, ts = $1 WHERE name = $2")
                    .bind(ts)
                    .bind(spec.name.as_str())
                    .execute(&mut *tx)
                    .await?;
            }
            Some(_) => return Err(KeyStoreError::Exists(spec.name.clone())),
            None => {
                query(
                    "INSERT INTO keks (name, kms_type, kms_key_id, kms_props, doc, shared, ts, deleted) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, FALSE)",
                )
                .bind(spec.name.as_str())
                .bind(spec.kms_type.as_str())
                .bind(spec.kms_key_id.as_str())
                .bind(props_json(&spec.kms_props).as_str())
                .bind(spec.doc.as_deref())
                .bind(spec.shared)
                .bind(ts)
                .execute(&mut *tx)
                .await?;
            }
        }
        let detail = format!(
            "kek={}, kmsType={}, shared={}",
            spec.name, spec.kms_type, spec.shared
        );
        Self::audit_in(
            &mut tx,
            by,
            AuditAction::CreateKek,
            None,
            None,
            Some(&detail),
        )
        .await?;
        tx.commit().await?;
        Ok(KekRow {
            spec: spec.clone(),
            ts,
            deleted: false,
        })
    }

    pub(super) async fn update_kek_tx(
        &self,
        name: &str,
        update: &KekUpdate,
        by: &str,
    ) -> Result<KekRow, KeyStoreError> {
        let mut tx = self.begin_write(&lock_name(name)).await?;
        let old = match Self::kek_in(&mut tx, name).await? {
            Some(old) if !old.deleted => old,
            _ => return Err(KeyStoreError::NotFound(name.to_owned())),
        };
        let spec = updated(&old.spec, update);
        if spec == old.spec {
            return Ok(old);
        }
        let ts = now_millis();
        query("UPDATE keks SET kms_props = $1, doc = $2, shared = $3, ts = $4 WHERE name = $5")
            .bind(props_json(&spec.kms_props).as_str())
            .bind(spec.doc.as_deref())
            .bind(spec.shared)
            .bind(ts)
            .bind(name)
            .execute(&mut *tx)
            .await?;
        let detail = format!("kek={name}, shared={}", spec.shared);
        Self::audit_in(
            &mut tx,
            by,
            AuditAction::UpdateKek,
            None,
            None,
            Some(&detail),
        )
        .await?;
        tx.commit().await?;
        Ok(KekRow {
            spec,
            ts,
            deleted: false,
        })
    }

    pub(super) async fn delete_kek_tx(
        &self,
        name: &str,
        permanent: bool,
        by: &str,
    ) -> Result<(), KeyStoreError> {
        let mut tx = self.begin_write(&lock_name(name)).await?;
        let Some(old) = Self::kek_in(&mut tx, name).await? else {
            return Err(KeyStoreError::NotFound(name.to_owned()));
        };
        // A soft delete needs every DEK soft-deleted; a permanent one, every DEK gone.
        let filter = DekFilter {
            deleted: permanent,
            ..DekFilter::default()
        };
        if !Self::deks_in(&mut tx, name, filter).await?.is_empty() {
            return Err(KeyStoreError::Referenced(name.to_owned()));
        }
        if permanent {
            if !old.deleted {
                return Err(KeyStoreError::NotSoftDeleted(name.to_owned()));
            }
            query("DELETE FROM keks WHERE name = $1")
                .bind(name)
                .execute(&mut *tx)
                .await?;
        } else if !old.deleted {
            query("UPDATE keks SET deleted = TRUE, ts = $1 WHERE name = $2")
                .bind(now_millis())
                .bind(name)
                .execute(&mut *tx)
                .await?;
        } else {
            return Ok(());
        }
        let how = if permanent { "permanent" } else { "soft" };
        let detail = format!("kek={name}, {how}");
        Self::audit_in(
            &mut tx,
            by,
            AuditAction::DeleteKek,
            None,
            None,
            Some(&detail),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub(super) async fn undelete_kek_tx(&self, name: &str, by: &str) -> Result<(), KeyStoreError> {
        let mut tx = self.begin_write(&lock_name(name)).await?;
        let Some(old) = Self::kek_in(&mut tx, name).await? else {
            return Err(KeyStoreError::NotFound(name.to_owned()));
        };
        if !old.deleted {
            return Ok(());
        }
        query("UPDATE keks SET deleted = FALSE, ts = $1 WHERE name = $2")
            .bind(now_millis())
            .bind(name)
            .execute(&mut *tx)
            .await?;
        let detail = format!("kek={name}");
        Self::audit_in(
            &mut tx,
            by,
            AuditAction::UndeleteKek,
            None,
            None,
            Some(&detail),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub(super) async fn create_dek_tx(
        &self,
        dek: &DekRow,
        by: &str,
    ) -> Result<DekRow, KeyStoreError> {
        let mut tx = self.begin_write(&lock_name(&dek.kek_name)).await?;
        match Self::kek_in(&mut tx, &dek.kek_name).await? {
            Some(kek) if !kek.deleted => {}
            _ => return Err(KeyStoreError::NotFound(dek.kek_name.clone())),
        }
        let exists: Option<i32> = query_scalar(
            "SELECT version FROM deks WHERE kek_name = $1 AND subject = $2 \
             AND algorithm = $3 AND version = $4",
        )
        .bind(dek.kek_name.as_str())
        .bind(dek.subject.as_str())
        .bind(dek.algorithm.as_str())
        .bind(dek.version)
        .fetch_optional(&mut *tx)
        .await?;
        if exists.is_some() {
            return Err(KeyStoreError::Exists(dek.subject.clone()));
        }
        let ts = now_millis();
        query(
            "INSERT INTO deks (kek_name, subject, algorithm, version, encrypted_key_material, ts, deleted) \
             VALUES ($1, $2, $3, $4, $5, $6, FALSE)",
        )
        .bind(dek.kek_name.as_str())
        .bind(dek.subject.as_str())
        .bind(dek.algorithm.as_str())
        .bind(dek.version)
        .bind(dek.encrypted_key_material.as_str())
        .bind(ts)
        .execute(&mut *tx)
        .await?;
        let target = DekTarget {
            kek_name: &dek.kek_name,
            subject: &dek.subject,
            algorithm: dek.algorithm,
            version: Some(dek.version),
        };
        let detail = dek_detail(&target, None);
        Self::audit_in(
            &mut tx,
            by,
            AuditAction::CreateDek,
            Some(&dek.subject),
            None,
            Some(&detail),
        )
        .await?;
        tx.commit().await?;
        Ok(DekRow {
            ts,
            deleted: false,
            ..dek.clone()
        })
    }

    pub(super) async fn delete_deks_tx(
        &self,
        target: &DekTarget<'_>,
        permanent: bool,
        by: &str,
    ) -> Result<(), KeyStoreError> {
        let mut tx = self.begin_write(&lock_name(target.kek_name)).await?;
        if Self::kek_in(&mut tx, target.kek_name).await?.is_none() {
            return Err(KeyStoreError::NotFound(target.kek_name.to_owned()));
        }
        let deks = Self::target_in(&mut tx, target).await?;
        check_dek_delete(&deks, target.subject, permanent)?;
        let statement = if permanent {
            "DELETE FROM deks WHERE kek_name = $1 AND subject = $2 AND algorithm = $3 \
             AND ($4 IS NULL OR version = $4) RETURNING version"
        } else {
            "UPDATE deks SET deleted = TRUE WHERE kek_name = $1 AND subject = $2 \
             AND algorithm = $3 AND ($4 IS NULL OR version = $4) AND deleted = FALSE \
             RETURNING version"
        };
        let changed: Vec<i32> = query_scalar(statement)
            .bind(target.kek_name)
            .bind(target.subject)
            .bind(target.algorithm.as_str())
            .bind(target.version)
            .fetch_all(&mut *tx)
            .await?;
        if changed.is_empty() {
            return Ok(());
        }
        let how = if permanent { "permanent" } else { "soft" };
        let detail = dek_detail(target, Some(how));
        Self::audit_in(
            &mut tx,
            by,
            AuditAction::DeleteDek,
            Some(target.subject),
            None,
            Some(&detail),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub(super) async fn undelete_deks_tx(
        &self,
        target: &DekTarget<'_>,
        by: &str,
    ) -> Result<(), KeyStoreError> {
        let mut tx = self.begin_write(&lock_name(target.kek_name)).await?;
        match Self::kek_in(&mut tx, target.kek_name).await? {
            None => return Err(KeyStoreError::NotFound(target.kek_name.to_owned())),
            Some(kek) if kek.deleted => {
                return Err(KeyStoreError::SoftDeleted(target.kek_name.to_owned()));
            }
            Some(_) => {}
        }
        if Self::target_in(&mut tx, target).await?.is_empty() {
            return Err(KeyStoreError::NotFound(target.subject.to_owned()));
        }
        let changed: Vec<i32> = query_scalar(
            "UPDATE deks SET deleted = FALSE WHERE kek_name = $1 AND subject = $2 \
             AND algorithm = $3 AND ($4 IS NULL OR version = $4) AND deleted = TRUE \
             RETURNING version",
        )
        .bind(target.kek_name)
        .bind(target.subject)
        .bind(target.algorithm.as_str())
        .bind(target.version)
        .fetch_all(&mut *tx)
        .await?;
        if changed.is_empty() {
            return Ok(());
        }
        let detail = dek_detail(target, None);
        Self::audit_in(
            &mut tx,
            by,
            AuditAction::UndeleteDek,
            Some(target.subject),
            None,
            Some(&detail),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
