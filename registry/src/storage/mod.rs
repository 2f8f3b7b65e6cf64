//! Durable storage for the registry: one narrow [`SchemaStore`] trait, implemented once over
//! SQL ([`SqlStorage`]) with a SQLite and a PostgreSQL [`Dialect`].
//!
//! The store knows rows, not schema semantics. The one rule that must run inside a write
//! transaction, the compatibility check, is passed in as a callback ([`CompatCheck`]) that
//! runs while the subject's lock is held, so no lost update can let an incompatible schema
//! in. The deletion rules are one pure function ([`plan_delete`]) run inside the transaction.
//! On PostgreSQL, [`notifications`] tells each process what others deleted. Every write
//! takes the principal making it and appends an [`AuditEntry`] in its own transaction.

mod audit;
mod keys;
mod natural;
pub mod notifications;
mod postgres;
mod sql;
mod sqlite;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::schema::SchemaType;

pub use audit::{AuditAction, AuditEntry, Registration};
pub use keys::{
    DekAlgorithm, DekFilter, DekRow, DekTarget, KekRow, KekSpec, KekUpdate, KeyStoreError,
    UnknownAlgorithm,
};
pub use postgres::PostgresStorage;
pub use sql::{Dialect, SqlStorage};
pub use sqlite::SqliteStorage;

/// A boxed, sendable future, the return type of every [`SchemaStore`] method.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The database failed or could not be reached.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A migration could not be applied.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The database URL names no supported backend.
    #[error("unsupported database URL `{0}` (expected sqlite://... or postgres://...)")]
    UnsupportedUrl(String),
    /// The PostgreSQL search_path names no existing schema to keep the registry in.
    #[error("the database URL's search_path names no existing schema")]
    NoSchemaSelected,
    /// A row could not be decoded into the registry's types.
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// The subject has no versions at all.
    #[error("subject not found")]
    SubjectNotFound,
    /// The version does not exist under the subject.
    #[error("version not found")]
    VersionNotFound,
    /// Every version of the subject is soft-deleted already.
    #[error("subject was soft deleted")]
    SubjectSoftDeleted,
    /// A permanent delete of a subject that still has live versions.
    #[error("subject was not soft deleted first")]
    SubjectNotSoftDeleted,
    /// The version is soft-deleted already.
    #[error("version was soft deleted")]
    VersionSoftDeleted,
    /// A permanent delete of a version that is still live.
    #[error("version was not soft deleted first")]
    VersionNotSoftDeleted,
    /// Another schema references a version that was to be deleted.
    #[error("version {version} is referenced by schema {by}")]
    ReferenceExists {
        /// The referenced version.
        version: i32,
        /// An id of a schema that references it.
        by: i64,
    },
    /// An import gave an id that holds a different schema, or a schema that has another id.
    #[error("schema id {given} does not match: {reason}")]
    IdMismatch {
        /// The id given in the request.
        given: i64,
        /// What it conflicts with.
        reason: String,
    },
    /// An import gave a version that already holds a different schema.
    #[error("version {0} already exists with a different schema")]
    VersionTaken(i32),
    /// The subject has used every version number up to 2^31-1.
    #[error("no version number is left after {0}")]
    NoVersionLeft(i32),
}

/// A reference from one schema to a version of another subject.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Reference {
    /// The name the referencing schema uses: an Avro full name or a JSON `$ref` URI.
    pub name: String,
    /// The subject holding the referenced schema.
    pub subject: String,
    /// The referenced version.
    pub version: i32,
}

/// A schema as stored, by global id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaRow {
    /// Global id.
    pub id: i64,
    /// AVRO, JSON or PROTOBUF.
    pub schema_type: SchemaType,
    /// The text as it was registered.
    pub text: String,
    /// Its references, in the order given.
    pub references: Vec<Reference>,
    /// Its metadata, as JSON.
    pub metadata: Option<String>,
    /// Its rule set, as JSON.
    pub rule_set: Option<String>,
}

/// One version of a subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionRow {
    /// Version number, 1-based.
    pub version: i32,
    /// The schema it holds.
    pub schema_id: i64,
    /// Whether it is soft-deleted.
    pub deleted: bool,
    /// When and by whom it was registered; `None` for versions registered before the
    /// registry recorded it.
    pub registered: Option<Registration>,
}

/// One place a schema id is registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Usage {
    /// The subject.
    pub subject: String,
    /// The version under that subject.
    pub version: i32,
    /// Whether that version is soft-deleted.
    pub deleted: bool,
}

/// A schema to register.
#[derive(Debug, Clone)]
pub struct NewSchema {
    /// AVRO, JSON or PROTOBUF.
    pub schema_type: SchemaType,
    /// The text to store and return.
    pub text: String,
    /// Identity across subjects: the schema's documented form combined with its references,
    /// metadata and rule set.
    pub key: String,
    /// Its references.
    pub references: Vec<Reference>,
    /// Its metadata, as JSON.
    pub metadata: Option<String>,
    /// Its rule set, as JSON.
    pub rule_set: Option<String>,
    /// IMPORT mode: the id to use.
    pub id: Option<i64>,
    /// IMPORT mode: the version to use.
    pub version: Option<i32>,
}

/// The outcome of a registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Registered {
    /// The global id.
    pub id: i64,
    /// The version under the subject.
    pub version: i32,
    /// Whether the schema was already registered under the subject (nothing was written).
    pub existed: bool,
    /// Whether this registration stored the schema text under a new id.
    pub created: bool,
}

/// What a delete removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteTarget {
    /// Every version of the subject.
    Subject,
    /// One version; `None` means the latest live one.
    Version(Option<i32>),
}

/// The kinds of per-subject and global settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingKind {
    /// The compatibility level.
    Compatibility,
    /// The mode (READWRITE, READONLY, IMPORT).
    Mode,
    /// The metadata property whose value splits versions into compatibility groups.
    CompatibilityGroup,
    /// Metadata merged under a registration's own (JSON).
    DefaultMetadata,
    /// Metadata merged over a registration's own (JSON).
    OverrideMetadata,
    /// A rule set merged under a registration's own (JSON).
    DefaultRuleSet,
    /// A rule set merged over a registration's own (JSON).
    OverrideRuleSet,
    /// Whether schemas are normalized on register and lookup (`true`/`false`).
    Normalize,
    /// Whether field names are validated (`true`/`false`).
    ValidateFields,
}

impl SettingKind {
    /// The kinds `/config` holds, the compatibility level first.
    pub const CONFIG: [SettingKind; 8] = [
        SettingKind::Compatibility,
        SettingKind::CompatibilityGroup,
        SettingKind::DefaultMetadata,
        SettingKind::OverrideMetadata,
        SettingKind::DefaultRuleSet,
        SettingKind::OverrideRuleSet,
        SettingKind::Normalize,
        SettingKind::ValidateFields,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            SettingKind::Compatibility => "compatibility",
            SettingKind::Mode => "mode",
            SettingKind::CompatibilityGroup => "compatibilityGroup",
            SettingKind::DefaultMetadata => "defaultMetadata",
            SettingKind::OverrideMetadata => "overrideMetadata",
            SettingKind::DefaultRuleSet => "defaultRuleSet",
            SettingKind::OverrideRuleSet => "overrideRuleSet",
            SettingKind::Normalize => "normalize",
            SettingKind::ValidateFields => "validateFields",
        }
    }
}

/// One subject as a list of subjects shows it, read in one query with its versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectSummary {
    /// The subject.
    pub subject: String,
    /// The type of its latest version (the latest live one, else the latest).
    pub schema_type: SchemaType,
    /// The latest live version, else the latest soft-deleted one.
    pub latest: i32,
    /// How many versions it keeps, soft-deleted ones included.
    pub versions: i64,
    /// Whether some version is live (otherwise the subject is soft-deleted).
    pub live: bool,
    /// Its own compatibility level, when it has one.
    pub compatibility: Option<String>,
    /// Its own mode, when it has one.
    pub mode: Option<String>,
}

/// A page of [`SubjectSummary`]s and how many subjects matched in all.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SubjectPage {
    /// Subjects whose name contains the search text (ignoring ASCII case).
    pub total: i64,
    /// The page asked for, by name.
    pub subjects: Vec<SubjectSummary>,
}

/// Counts for the metrics endpoint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Distinct schemas registered under at least one subject version.
    pub schemas: i64,
    /// Subjects with at least one live version.
    pub subjects: i64,
}

/// The compatibility check a registration runs inside its transaction, given the subject's
/// live versions (oldest first): `true` lets the registration write, `false` rolls it back.
/// Why it declined is the caller's business; the callback records it.
pub type CompatCheck<'a> = &'a (dyn Fn(&[VersionRow]) -> bool + Send + Sync);

/// The storage operations the registry needs. Every write runs in one transaction that
/// serializes writers per subject.
pub trait SchemaStore: Send + Sync + 'static {
    /// `"sqlite"` or `"postgres"`.
    fn backend(&self) -> &'static str;

    /// Checks that the database answers.
    fn ping(&self) -> BoxFuture<'_, Result<(), StorageError>>;

    /// Registers `new` under `subject` for the principal `by`: returns the existing version
    /// when the same schema is live under the subject, otherwise runs `check` on the live
    /// versions and appends a version (stamped with the time and `by`, and audited),
    /// reusing the schema's global id when another subject has it already.
    /// `None` when `check` declined and nothing was written.
    fn register<'a>(
        &'a self,
        subject: &'a str,
        new: &'a NewSchema,
        check: CompatCheck<'a>,
        by: &'a str,
    ) -> BoxFuture<'a, Result<Option<Registered>, StorageError>>;

    /// The schema with this id, if some subject version (live or soft-deleted) holds it.
    fn schema(&self, id: i64) -> BoxFuture<'_, Result<Option<SchemaRow>, StorageError>>;

    /// Every subject version that holds the schema with this id.
    fn usages(&self, id: i64) -> BoxFuture<'_, Result<Vec<Usage>, StorageError>>;

    /// Every subject name, with whether it has a live version.
    fn subjects(&self) -> BoxFuture<'_, Result<Vec<(String, bool)>, StorageError>>;

    /// A page of subjects, soft-deleted ones included, whose name contains `search` (ASCII
    /// case ignored), in natural order (`conc-2` before `conc-10`): the matching names, then
    /// the page's summaries, two queries however many subjects there are.
    fn subject_page<'a>(
        &'a self,
        search: &'a str,
        offset: i64,
        limit: i64,
    ) -> BoxFuture<'a, Result<SubjectPage, StorageError>>;

    /// Every version of the subject, soft-deleted ones included, oldest first.
    fn versions<'a>(
        &'a self,
        subject: &'a str,
    ) -> BoxFuture<'a, Result<Vec<VersionRow>, StorageError>>;

    /// Deletes by Confluent's rules (see [`plan_delete`]) for the principal `by`, auditing
    /// each version deleted; returns the versions deleted.
    fn delete<'a>(
        &'a self,
        subject: &'a str,
        target: DeleteTarget,
        permanent: bool,
        by: &'a str,
    ) -> BoxFuture<'a, Result<Vec<i32>, StorageError>>;

    /// Ids of the schemas whose live versions reference `subject` at `version`.
    fn referenced_by<'a>(
        &'a self,
        subject: &'a str,
        version: i32,
    ) -> BoxFuture<'a, Result<Vec<i64>, StorageError>>;

    /// A setting for a subject, or the global one when `subject` is `None`.
    fn setting<'a>(
        &'a self,
        kind: SettingKind,
        subject: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Option<String>, StorageError>>;

    /// Sets settings of a subject (the global ones for `None`) in one transaction, for the
    /// principal `by`, with one audit entry.
    fn put_settings<'a>(
        &'a self,
        subject: Option<&'a str>,
        values: &'a [(SettingKind, String)],
        by: &'a str,
    ) -> BoxFuture<'a, Result<(), StorageError>>;

    /// Removes settings of a subject (the global ones for `None`) in one transaction, for the
    /// principal `by`; returns those that were set, with their values, and audits their
    /// removal when there were any.
    fn delete_settings<'a>(
        &'a self,
        subject: Option<&'a str>,
        kinds: &'a [SettingKind],
        by: &'a str,
    ) -> BoxFuture<'a, Result<Vec<(SettingKind, String)>, StorageError>>;

    /// Up to `limit` entries of the audit log with ids above `after`, oldest first.
    fn audit_log(
        &self,
        after: i64,
        limit: i64,
    ) -> BoxFuture<'_, Result<Vec<AuditEntry>, StorageError>>;

    /// Ids of schemas whose key was computed by an older identity (before a migration
    /// changed it) and must be recomputed.
    fn stale_keys(&self) -> BoxFuture<'_, Result<Vec<i64>, StorageError>>;

    /// Replaces a schema's key with one computed by the current identity.
    fn set_key<'a>(&'a self, id: i64, key: &'a str) -> BoxFuture<'a, Result<(), StorageError>>;

    /// Counts for metrics.
    fn counts(&self) -> BoxFuture<'_, Result<Counts, StorageError>>;

    /// Every KEK, by name; soft-deleted ones too when `deleted`.
    fn keks(&self, deleted: bool) -> BoxFuture<'_, Result<Vec<KekRow>, StorageError>>;

    /// The KEK named `name`, soft-deleted or not.
    fn kek<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Option<KekRow>, StorageError>>;

    /// Creates a KEK for the principal `by`, audited; a soft-deleted KEK equal to `spec` is
    /// revived, any other KEK of that name is [`KeyStoreError::Exists`].
    fn create_kek<'a>(
        &'a self,
        spec: &'a KekSpec,
        by: &'a str,
    ) -> BoxFuture<'a, Result<KekRow, KeyStoreError>>;

    /// Applies `update` to the live KEK `name` for the principal `by` (audited when it
    /// changes something); returns the KEK as it is now.
    fn update_kek<'a>(
        &'a self,
        name: &'a str,
        update: &'a KekUpdate,
        by: &'a str,
    ) -> BoxFuture<'a, Result<KekRow, KeyStoreError>>;

    /// Soft-deletes the KEK `name`, or removes a soft-deleted one (`permanent`), for the
    /// principal `by`; refused while DEKs use it (live ones for a soft delete, any for a
    /// permanent one).
    fn delete_kek<'a>(
        &'a self,
        name: &'a str,
        permanent: bool,
        by: &'a str,
    ) -> BoxFuture<'a, Result<(), KeyStoreError>>;

    /// Restores the soft-deleted KEK `name` for the principal `by`.
    fn undelete_kek<'a>(
        &'a self,
        name: &'a str,
        by: &'a str,
    ) -> BoxFuture<'a, Result<(), KeyStoreError>>;

    /// The DEKs under the KEK `kek_name` that `filter` keeps, by subject, algorithm and
    /// version.
    fn deks<'a>(
        &'a self,
        kek_name: &'a str,
        filter: DekFilter<'a>,
    ) -> BoxFuture<'a, Result<Vec<DekRow>, StorageError>>;

    /// Stores a new DEK under its live KEK for the principal `by`, audited; one with the same
    /// KEK, subject, algorithm and version is [`KeyStoreError::Exists`].
    fn create_dek<'a>(
        &'a self,
        dek: &'a DekRow,
        by: &'a str,
    ) -> BoxFuture<'a, Result<DekRow, KeyStoreError>>;

    /// Soft-deletes the target's DEKs, or removes soft-deleted ones (`permanent`), for the
    /// principal `by`.
    fn delete_deks<'a>(
        &'a self,
        target: DekTarget<'a>,
        permanent: bool,
        by: &'a str,
    ) -> BoxFuture<'a, Result<(), KeyStoreError>>;

    /// Restores the target's soft-deleted DEKs for the principal `by`; refused under a
    /// soft-deleted KEK.
    fn undelete_deks<'a>(
        &'a self,
        target: DekTarget<'a>,
        by: &'a str,
    ) -> BoxFuture<'a, Result<(), KeyStoreError>>;
}

/// Opens the store named by `url` (`sqlite://file.db`, `sqlite::memory:`, `postgres://...`)
/// and applies its migrations.
pub async fn connect(
    url: &str,
    max_connections: u32,
) -> Result<Arc<dyn SchemaStore>, StorageError> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(
            SqliteStorage::connect(url, max_connections).await?,
        ))
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Ok(Arc::new(
            PostgresStorage::connect(url, max_connections).await?,
        ))
    } else {
        Err(StorageError::UnsupportedUrl(url.to_owned()))
    }
}

/// Decides which versions a delete removes, with Confluent's rules: a soft delete needs live
/// versions, a permanent delete needs the versions soft-deleted first.
pub fn plan_delete(
    rows: &[VersionRow],
    target: DeleteTarget,
    permanent: bool,
) -> Result<Vec<i32>, StorageError> {
    if rows.is_empty() {
        return Err(StorageError::SubjectNotFound);
    }
    match target {
        DeleteTarget::Subject => {
            let live: Vec<i32> = rows
                .iter()
                .filter(|r| !r.deleted)
                .map(|r| r.version)
                .collect();
            if permanent {
                if !live.is_empty() {
                    return Err(StorageError::SubjectNotSoftDeleted);
                }
                Ok(rows.iter().map(|r| r.version).collect())
            } else if live.is_empty() {
                Err(StorageError::SubjectSoftDeleted)
            } else {
                Ok(live)
            }
        }
        DeleteTarget::Version(version) => {
            let row = match version {
                Some(v) => rows.iter().find(|r| r.version == v),
                None => rows.iter().rev().find(|r| !r.deleted),
            };
            let Some(row) = row else {
                return Err(StorageError::VersionNotFound);
            };
            match (permanent, row.deleted) {
                (false, true) => Err(StorageError::VersionSoftDeleted),
                (true, false) => Err(StorageError::VersionNotSoftDeleted),
                _ => Ok(vec![row.version]),
            }
        }
    }
}

/// The version a new registration gets: one past every version the subject has ever kept,
/// soft-deleted ones included.
pub(crate) fn next_version(rows: &[VersionRow]) -> Result<i32, StorageError> {
    let last = rows.iter().map(|r| r.version).max().unwrap_or(0);
    last.checked_add(1).ok_or(StorageError::NoVersionLeft(last))
}

/// The version number of a registration that passed its check: the one given (IMPORT),
/// unless taken, else the next one.
pub(crate) fn decide_version(rows: &[VersionRow], new: &NewSchema) -> Result<i32, StorageError> {
    match new.version {
        Some(version) if rows.iter().any(|r| r.version == version) => {
            Err(StorageError::VersionTaken(version))
        }
        Some(version) => Ok(version),
        None => next_version(rows),
    }
}

/// Parses a stored schema type.
pub(crate) fn parse_type(text: &str) -> Result<SchemaType, StorageError> {
    text.parse()
        .map_err(|_| StorageError::Corrupt(format!("unknown schema type `{text}`")))
}

/// A `LIKE` pattern matching names that contain `search`, escaped with a backslash.
pub(crate) fn contains_pattern(search: &str) -> String {
    let mut pattern = String::with_capacity(search.len() + 2);
    pattern.push('%');
    for c in search.to_ascii_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// Parses stored references.
pub(crate) fn parse_references(text: &str) -> Result<Vec<Reference>, StorageError> {
    serde_json::from_str(text).map_err(|err| StorageError::Corrupt(format!("references: {err}")))
}

/// Serializes references for storage.
pub(crate) fn references_json(references: &[Reference]) -> String {
    serde_json::to_string(references).unwrap_or_else(|_| "[]".to_owned())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn row(version: i32, deleted: bool) -> VersionRow {
        VersionRow {
            version,
            schema_id: i64::from(version) * 10,
            deleted,
            registered: None,
        }
    }

    #[test]
    fn soft_then_permanent_subject_delete() {
        let rows = [row(1, false), row(2, true)];
        assert!(matches!(
            plan_delete(&rows, DeleteTarget::Subject, true),
            Err(StorageError::SubjectNotSoftDeleted)
        ));
        assert_eq!(
            plan_delete(&rows, DeleteTarget::Subject, false).unwrap(),
            vec![1]
        );
        let rows = [row(1, true), row(2, true)];
        assert!(matches!(
            plan_delete(&rows, DeleteTarget::Subject, false),
            Err(StorageError::SubjectSoftDeleted)
        ));
        assert_eq!(
            plan_delete(&rows, DeleteTarget::Subject, true).unwrap(),
            vec![1, 2]
        );
    }

    #[test]
    fn version_delete_rules() {
        let rows = [row(1, false), row(2, true), row(3, false)];
        assert_eq!(
            plan_delete(&rows, DeleteTarget::Version(None), false).unwrap(),
            vec![3]
        );
        assert!(matches!(
            plan_delete(&rows, DeleteTarget::Version(Some(2)), false),
            Err(StorageError::VersionSoftDeleted)
        ));
        assert!(matches!(
            plan_delete(&rows, DeleteTarget::Version(Some(1)), true),
            Err(StorageError::VersionNotSoftDeleted)
        ));
        assert!(matches!(
            plan_delete(&rows, DeleteTarget::Version(Some(9)), false),
            Err(StorageError::VersionNotFound)
        ));
        assert!(matches!(
            plan_delete(&[], DeleteTarget::Version(Some(1)), false),
            Err(StorageError::SubjectNotFound)
        ));
    }

    #[test]
    fn search_patterns_escape_wildcards() {
        assert_eq!(contains_pattern("Orders"), "%orders%");
        assert_eq!(contains_pattern("a_b%c\\"), "%a\\_b\\%c\\\\%");
    }

    #[test]
    fn next_version_counts_soft_deleted_versions() {
        assert_eq!(next_version(&[]).unwrap(), 1);
        assert_eq!(next_version(&[row(1, false), row(2, true)]).unwrap(), 3);
        assert!(matches!(
            next_version(&[row(i32::MAX, false)]),
            Err(StorageError::NoVersionLeft(i32::MAX))
        ));
    }
}
