//! The DEK registry's rows: key encryption keys ([`KekRow`]), which live in a KMS and of
//! which the registry keeps only the name, the KMS and its properties, and the data
//! encryption keys each one wraps ([`DekRow`]), of which the registry keeps only the material
//! as the KEK encrypted it. The rules a write must check inside its transaction (existence,
//! soft delete before permanent delete, no KEK delete while DEKs use it) answer a
//! [`KeyStoreError`].

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use super::StorageError;

/// What a KEK is: everything a client gives when creating it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KekSpec {
    /// Its unique name.
    pub name: String,
    /// The KMS that holds it: `aws-kms`, `azure-kms`, `gcp-kms`, `hcvault`, `local-kms`, ….
    pub kms_type: String,
    /// Its id in that KMS.
    pub kms_key_id: String,
    /// Properties for the KMS client.
    pub kms_props: BTreeMap<String, String>,
    /// A description.
    pub doc: Option<String>,
    /// Whether the registry may use the KEK itself (to generate and unwrap DEKs).
    pub shared: bool,
}

/// A KEK as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KekRow {
    /// What it is.
    pub spec: KekSpec,
    /// When it was last written, in milliseconds since the Unix epoch.
    pub ts: i64,
    /// Whether it is soft-deleted.
    pub deleted: bool,
}

/// A change to a live KEK: each field given replaces the stored one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KekUpdate {
    /// New KMS properties.
    pub kms_props: Option<BTreeMap<String, String>>,
    /// A new description.
    pub doc: Option<String>,
    /// Whether the KEK is now shared.
    pub shared: Option<bool>,
}

/// The algorithm a DEK is for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DekAlgorithm {
    /// AES-GCM with a 128-bit key.
    Aes128Gcm,
    /// AES-GCM with a 256-bit key, the default.
    #[default]
    Aes256Gcm,
    /// AES-SIV (deterministic) with a 512-bit key.
    Aes256Siv,
}

impl DekAlgorithm {
    /// Every algorithm.
    pub const ALL: [DekAlgorithm; 3] = [
        DekAlgorithm::Aes128Gcm,
        DekAlgorithm::Aes256Gcm,
        DekAlgorithm::Aes256Siv,
    ];

    /// Its name on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            DekAlgorithm::Aes128Gcm => "AES128_GCM",
            DekAlgorithm::Aes256Gcm => "AES256_GCM",
            DekAlgorithm::Aes256Siv => "AES256_SIV",
        }
    }
}

impl fmt::Display for DekAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is none of [`DekAlgorithm::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown DEK algorithm `{0}`")]
pub struct UnknownAlgorithm(pub String);

impl FromStr for DekAlgorithm {
    type Err = UnknownAlgorithm;

    fn from_str(s: &str) -> Result<Self, UnknownAlgorithm> {
        DekAlgorithm::ALL
            .into_iter()
            .find(|algorithm| algorithm.as_str() == s)
            .ok_or_else(|| UnknownAlgorithm(s.to_owned()))
    }
}

/// A DEK as stored: its key material only as the KEK encrypted it.
#[derive(Clone, PartialEq, Eq)]
pub struct DekRow {
    /// The KEK that wraps it.
    pub kek_name: String,
    /// The subject it encrypts fields of.
    pub subject: String,
    /// Its algorithm.
    pub algorithm: DekAlgorithm,
    /// Its version, from 1.
    pub version: i32,
    /// The key material encrypted by the KEK, base64.
    pub encrypted_key_material: String,
    /// When it was last written, in milliseconds since the Unix epoch.
    pub ts: i64,
    /// Whether it is soft-deleted.
    pub deleted: bool,
}

/// Leaves the wrapped key material out: it has no business in a log either.
impl fmt::Debug for DekRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DekRow")
            .field("kek_name", &self.kek_name)
            .field("subject", &self.subject)
            .field("algorithm", &self.algorithm)
            .field("version", &self.version)
            .field("ts", &self.ts)
            .field("deleted", &self.deleted)
            .finish_non_exhaustive()
    }
}

/// Which DEKs a listing wants.
#[derive(Debug, Clone, Copy, Default)]
pub struct DekFilter<'a> {
    /// Only this subject's.
    pub subject: Option<&'a str>,
    /// Only this algorithm's.
    pub algorithm: Option<DekAlgorithm>,
    /// Soft-deleted ones too.
    pub deleted: bool,
}

/// The DEKs a delete or undelete acts on: one version, or every version, of a subject's
/// DEKs for one algorithm under one KEK.
#[derive(Debug, Clone, Copy)]
pub struct DekTarget<'a> {
    /// The KEK.
    pub kek_name: &'a str,
    /// The subject.
    pub subject: &'a str,
    /// The algorithm.
    pub algorithm: DekAlgorithm,
    /// One version, or all of them.
    pub version: Option<i32>,
}

/// Why a write to the DEK registry was refused, or failed.
#[derive(Debug, thiserror::Error)]
pub enum KeyStoreError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StorageError),
    /// No such KEK or DEK (named by its KEK name or subject).
    #[error("Key '{0}' not found")]
    NotFound(String),
    /// A permanent delete of a key that is still live.
    #[error("Key '{0}' was not soft-deleted before being permanently deleted")]
    NotSoftDeleted(String),
    /// A write under a soft-deleted KEK.
    #[error("Key '{0}' must be undeleted first")]
    SoftDeleted(String),
    /// The key exists already.
    #[error("Key '{0}' already exists")]
    Exists(String),
    /// A delete of a KEK that DEKs still use.
    #[error("Key '{0}' is still used by data encryption keys; delete them first")]
    Referenced(String),
}

impl From<sqlx::Error> for KeyStoreError {
    fn from(err: sqlx::Error) -> Self {
        KeyStoreError::Store(StorageError::Database(err))
    }
}

/// Whether a create of `new` may revive the soft-deleted `old` (Confluent's rule: the same
/// KEK, created again after its soft delete).
pub(crate) fn revives(old: &KekRow, new: &KekSpec) -> bool {
    old.deleted && old.spec == *new
}

/// `old` with `update` applied.
pub(crate) fn updated(old: &KekSpec, update: &KekUpdate) -> KekSpec {
    KekSpec {
        kms_props: update
            .kms_props
            .clone()
            .unwrap_or_else(|| old.kms_props.clone()),
        doc: update.doc.clone().or_else(|| old.doc.clone()),
        shared: update.shared.unwrap_or(old.shared),
        ..old.clone()
    }
}

/// Checks a delete of `deks` (every DEK of the target, soft-deleted ones included) named
/// after `subject`: there must be one, and a permanent delete needs every one soft-deleted.
pub(crate) fn check_dek_delete(
    deks: &[DekRow],
    subject: &str,
    permanent: bool,
) -> Result<(), KeyStoreError> {
    if deks.is_empty() {
        return Err(KeyStoreError::NotFound(subject.to_owned()));
    }
    if permanent && deks.iter().any(|dek| !dek.deleted) {
        return Err(KeyStoreError::NotSoftDeleted(subject.to_owned()));
    }
    Ok(())
}

/// Parses stored KMS properties.
pub(crate) fn parse_props(text: &str) -> Result<BTreeMap<String, String>, StorageError> {
    serde_json::from_str(text).map_err(|err| StorageError::Corrupt(format!("kms_props: {err}")))
}

/// Serializes KMS properties for storage.
pub(crate) fn props_json(props: &BTreeMap<String, String>) -> String {
    serde_json::to_string(props).unwrap_or_else(|_| "{}".to_owned())
}

/// Parses a stored algorithm.
pub(crate) fn parse_algorithm(text: &str) -> Result<DekAlgorithm, StorageError> {
    text.parse()
        .map_err(|err: UnknownAlgorithm| StorageError::Corrupt(err.to_string()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn spec(doc: Option<&str>) -> KekSpec {
        KekSpec {
            name: "k".to_owned(),
            kms_type: "local-kms".to_owned(),
            kms_key_id: "local-kms://k".to_owned(),
            kms_props: BTreeMap::new(),
            doc: doc.map(str::to_owned),
            shared: false,
        }
    }

    fn dek(version: i32, deleted: bool) -> DekRow {
        DekRow {
            kek_name: "k".to_owned(),
            subject: "s".to_owned(),
            algorithm: DekAlgorithm::default(),
            version,
            encrypted_key_material: "c2VjcmV0".to_owned(),
            ts: 0,
            deleted,
        }
    }

    #[test]
    fn algorithms_read_back() {
        for algorithm in DekAlgorithm::ALL {
            assert_eq!(algorithm.as_str().parse::<DekAlgorithm>(), Ok(algorithm));
        }
        assert!("aes256_gcm".parse::<DekAlgorithm>().is_err());
        assert_eq!(DekAlgorithm::default(), DekAlgorithm::Aes256Gcm);
    }

    #[test]
    fn only_an_equal_soft_deleted_kek_is_revived() {
        let old = KekRow {
            spec: spec(None),
            ts: 1,
            deleted: true,
        };
        assert!(revives(&old, &spec(None)));
        assert!(!revives(&old, &spec(Some("other"))));
        let live = KekRow {
            deleted: false,
            ..old
        };
        assert!(!revives(&live, &spec(None)));
    }

    #[test]
    fn updates_replace_only_what_they_give() {
        let old = spec(Some("before"));
        let new = updated(
            &old,
            &KekUpdate {
                shared: Some(true),
                ..KekUpdate::default()
            },
        );
        assert!(new.shared);
        assert_eq!(new.doc.as_deref(), Some("before"));
        assert_eq!(new.kms_key_id, old.kms_key_id);
    }

    #[test]
    fn permanent_dek_deletes_need_soft_deletes_first() {
        assert!(matches!(
            check_dek_delete(&[], "s", false),
            Err(KeyStoreError::NotFound(_))
        ));
        assert!(matches!(
            check_dek_delete(&[dek(1, true), dek(2, false)], "s", true),
            Err(KeyStoreError::NotSoftDeleted(_))
        ));
        assert!(check_dek_delete(&[dek(1, true)], "s", true).is_ok());
        assert!(check_dek_delete(&[dek(1, false)], "s", false).is_ok());
    }

    #[test]
    fn debug_leaves_the_wrapped_material_out() {
        let text = format!("{:?}", dek(1, false));
        assert!(!text.contains("c2VjcmV0"), "{text}");
        assert!(text.contains("version: 1"), "{text}");
    }
}
