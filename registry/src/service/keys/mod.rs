//! The DEK registry's decisions, between `http/dek` and the store: Confluent's rules for key
//! encryption keys (KEKs) and the data encryption keys (DEKs) they wrap.
//!
//! A DEK of a KEK that is not shared arrives wrapped by the client (`encryptedKeyMaterial`)
//! and is stored as given. For a shared KEK the registry may generate the DEK itself and
//! answers its raw material (`keyMaterial`) along with the wrapped one, on creation and on
//! every read; it can do so only for a KEK of the local KMS ([`kms`]). For a shared KEK of
//! another KMS, creating a DEK without `encryptedKeyMaterial` is refused (42271: the registry
//! cannot reach that KMS, which no retry changes) and reads answer the wrapped material
//! alone, which the client unwraps with its own KMS. A local KMS without a configured secret
//! is the server's fault (50070).
//!
//! Raw key material lives only in [`KeyMaterial`], whose `Debug` is redacted, and is never
//! stored, logged or put in an error message.

mod kms;
mod material;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::storage::{
    DekAlgorithm, DekFilter, DekRow, DekTarget, KekRow, KekSpec, KekUpdate, KeyStoreError,
    SchemaStore, StorageError,
};

pub use kms::{LOCAL_KMS, LocalKms, SECRET_VARIABLE};
pub use material::KeyMaterial;

/// The longest KEK name.
pub const NAME_MAX_LENGTH: usize = 256;

/// Why a DEK registry operation failed; each is one of Confluent's error answers.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The database failed (50001).
    #[error("Error in the backend data store: {0}")]
    Store(#[from] StorageError),
    /// No such KEK or DEK (40470).
    #[error("Key '{0}' not found")]
    NotFound(String),
    /// A permanent delete of a live key (40471).
    #[error("Key '{0}' was not soft-deleted before being permanently deleted")]
    NotSoftDeleted(String),
    /// An undelete under a soft-deleted KEK (40472).
    #[error("Key '{0}' must be undeleted first")]
    SoftDeleted(String),
    /// The key exists already (40971).
    #[error("Key '{0}' already exists")]
    Exists(String),
    /// A field of the request is missing or invalid (42271).
    #[error("Invalid or missing value for the key's field '{0}'")]
    Invalid(&'static str),
    /// A shared KEK of a KMS the registry cannot use (42271).
    #[error(
        "Invalid value for the key's field 'kmsType': the registry cannot reach KMS type '{0}'; only '{LOCAL_KMS}' KEKs can be used by the registry"
    )]
    KmsUnsupported(String),
    /// A KEK delete while DEKs use it (42272).
    #[error("Key '{0}' is still used by data encryption keys; delete them first")]
    Referenced(String),
    /// A version that is neither a positive 32-bit integer nor `latest` (42202).
    #[error(
        "The specified version '{0}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string \"latest\""
    )]
    InvalidVersion(String),
    /// The registry could not generate or unwrap a DEK with the KEK (50070).
    #[error("Could not generate the data encryption key: {0}")]
    Generation(String),
}

impl From<KeyStoreError> for KeyError {
    fn from(err: KeyStoreError) -> Self {
        match err {
            KeyStoreError::Store(err) => KeyError::Store(err),
            KeyStoreError::NotFound(name) => KeyError::NotFound(name),
            KeyStoreError::NotSoftDeleted(name) => KeyError::NotSoftDeleted(name),
            KeyStoreError::SoftDeleted(name) => KeyError::SoftDeleted(name),
            KeyStoreError::Exists(name) => KeyError::Exists(name),
            KeyStoreError::Referenced(name) => KeyError::Referenced(name),
        }
    }
}

/// A DEK version in a path: a number, or `latest` (also `-1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DekVersion {
    /// The latest version.
    Latest,
    /// This version.
    Number(i32),
}

impl DekVersion {
    /// Reads a path's version.
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        match text.trim() {
            "latest" | "-1" => Ok(DekVersion::Latest),
            number => match number.parse::<i32>() {
                Ok(version) if version >= 1 => Ok(DekVersion::Number(version)),
                _ => Err(KeyError::InvalidVersion(text.to_owned())),
            },
        }
    }
}

/// A DEK as answered: the row, and its raw material when the registry may give it.
#[derive(Debug)]
pub struct DekAnswer {
    /// The DEK.
    pub row: DekRow,
    /// Its raw material (shared KEKs the registry can use only).
    pub key_material: Option<KeyMaterial>,
}

/// What a DEK creation asks for.
#[derive(Debug, Clone)]
pub struct NewDek {
    /// The KEK.
    pub kek_name: String,
    /// The subject.
    pub subject: String,
    /// The version; 1 when not given.
    pub version: Option<i32>,
    /// The algorithm; AES256_GCM when not given.
    pub algorithm: DekAlgorithm,
    /// The material as the client's KEK wrapped it (base64); `None` asks the registry to
    /// generate it (shared KEKs only).
    pub encrypted_key_material: Option<String>,
}

/// Checks a KEK name: 1 to 256 characters, none of them a control character.
pub fn check_name(name: &str) -> Result<(), KeyError> {
    let length = name.chars().count();
    if length == 0 || length > NAME_MAX_LENGTH || name.chars().any(char::is_control) {
        return Err(KeyError::Invalid("name"));
    }
    Ok(())
}

/// Refuses text no database can keep (a NUL character).
fn check_text(field: &'static str, text: &str) -> Result<(), KeyError> {
    if text.contains('\0') {
        return Err(KeyError::Invalid(field));
    }
    Ok(())
}

/// Refuses KMS properties no database can keep.
fn check_props(props: &std::collections::BTreeMap<String, String>) -> Result<(), KeyError> {
    for (name, value) in props {
        check_text("kmsProps", name)?;
        check_text("kmsProps", value)?;
    }
    Ok(())
}

/// The KMS type as stored: Confluent's names for the cloud KMSs (`aws…` is `aws-kms`, …),
/// any other as given.
pub fn normalize_kms_type(kms_type: &str) -> String {
    let lower = kms_type.to_ascii_lowercase();
    for cloud in ["aws", "azure", "gcp"] {
        if lower.starts_with(cloud) {
            return format!("{cloud}-kms");
        }
    }
    kms_type.to_owned()
}

/// The KMS the registry can use for `kek`, or why it cannot.
fn kms_for(kek: &KekSpec) -> Result<&'static LocalKms, KeyError> {
    if kek.kms_type != LOCAL_KMS {
        return Err(KeyError::KmsUnsupported(kek.kms_type.clone()));
    }
    LocalKms::configured().ok_or_else(|| {
        KeyError::Generation(format!(
            "the registry has no local KMS secret ({SECRET_VARIABLE} is not set)"
        ))
    })
}

/// The KMS the registry unwraps `kek`'s DEKs with, when it is shared and the registry can.
fn usable_kms(kek: &KekSpec) -> Option<&'static LocalKms> {
    if kek.shared && kek.kms_type == LOCAL_KMS {
        LocalKms::configured()
    } else {
        None
    }
}

/// Generates a DEK for `algorithm` and wraps it with `kek`: the raw and the wrapped material
/// (base64).
fn generate(kek: &KekSpec, algorithm: DekAlgorithm) -> Result<(KeyMaterial, String), KeyError> {
    let kms = kms_for(kek)?;
    let material = KeyMaterial::generate(algorithm)?;
    let wrapped = kms.wrap(&material)?;
    Ok((material, STANDARD.encode(wrapped)))
}

/// The raw material of `dek` when its KEK is shared and the registry can unwrap it. A KMS the
/// registry cannot reach answers none (the client unwraps itself); a wrapped material the
/// local KMS cannot decrypt is an error.
fn raw_material(kek: &KekSpec, dek: &DekRow) -> Result<Option<KeyMaterial>, KeyError> {
    let Some(kms) = usable_kms(kek) else {
        return Ok(None);
    };
    let wrapped = STANDARD
        .decode(&dek.encrypted_key_material)
        .map_err(|_| KeyError::Generation("the stored key material is not base64".to_owned()))?;
    kms.unwrap(&wrapped).map(Some)
}

/// Creates a KEK; with `test_sharing`, a shared one must be usable by the registry.
pub async fn create_kek(
    store: &dyn SchemaStore,
    mut spec: KekSpec,
    test_sharing: bool,
    by: &str,
) -> Result<KekRow, KeyError> {
    check_name(&spec.name)?;
    if spec.kms_key_id.is_empty() {
        return Err(KeyError::Invalid("kmsKeyId"));
    }
    if spec.kms_type.is_empty() {
        return Err(KeyError::Invalid("kmsType"));
    }
    check_text("kmsType", &spec.kms_type)?;
    check_text("kmsKeyId", &spec.kms_key_id)?;
    check_text("doc", spec.doc.as_deref().unwrap_or(""))?;
    check_props(&spec.kms_props)?;
    spec.kms_type = normalize_kms_type(&spec.kms_type);
    if spec.shared && test_sharing {
        generate(&spec, DekAlgorithm::Aes256Gcm)?;
    }
    Ok(store.create_kek(&spec, by).await?)
}

/// The KEK `name`, a soft-deleted one only when `deleted`.
pub async fn kek(store: &dyn SchemaStore, name: &str, deleted: bool) -> Result<KekRow, KeyError> {
    check_name(name)?;
    match store.kek(name).await? {
        Some(kek) if deleted || !kek.deleted => Ok(kek),
        _ => Err(KeyError::NotFound(name.to_owned())),
    }
}

/// Names of the KEKs, or with `subject_prefix`, of those with a DEK of a subject that starts
/// with it; soft-deleted ones too when `deleted`.
pub async fn kek_names(
    store: &dyn SchemaStore,
    subject_prefix: Option<&str>,
    deleted: bool,
) -> Result<Vec<String>, KeyError> {
    let keks = store.keks(deleted).await?;
    let Some(prefix) = subject_prefix.filter(|p| !p.is_empty()) else {
        return Ok(keks.into_iter().map(|kek| kek.spec.name).collect());
    };
    let mut names = Vec::new();
    for kek in keks {
        let filter = DekFilter {
            deleted,
            ..DekFilter::default()
        };
        let deks = store.deks(&kek.spec.name, filter).await?;
        if deks.iter().any(|dek| dek.subject.starts_with(prefix)) {
            names.push(kek.spec.name);
        }
    }
    Ok(names)
}

/// Changes the live KEK `name`; with `test_sharing`, a KEK shared afterwards must be usable
/// by the registry.
pub async fn update_kek(
    store: &dyn SchemaStore,
    name: &str,
    update: &KekUpdate,
    test_sharing: bool,
    by: &str,
) -> Result<KekRow, KeyError> {
    let old = kek(store, name, false).await?;
    check_text("doc", update.doc.as_deref().unwrap_or(""))?;
    if let Some(props) = &update.kms_props {
        check_props(props)?;
    }
    if test_sharing && update.shared.unwrap_or(old.spec.shared) {
        generate(&old.spec, DekAlgorithm::Aes256Gcm)?;
    }
    Ok(store.update_kek(name, update, by).await?)
}

/// Deletes the KEK `name` (soft, or `permanent` after a soft delete).
pub async fn delete_kek(
    store: &dyn SchemaStore,
    name: &str,
    permanent: bool,
    by: &str,
) -> Result<(), KeyError> {
    check_name(name)?;
    Ok(store.delete_kek(name, permanent, by).await?)
}

/// Restores the soft-deleted KEK `name`.
pub async fn undelete_kek(store: &dyn SchemaStore, name: &str, by: &str) -> Result<(), KeyError> {
    check_name(name)?;
    Ok(store.undelete_kek(name, by).await?)
}

/// Checks that the live KEK `name` can be used by the registry (it must be shared).
pub async fn test_kek(store: &dyn SchemaStore, name: &str) -> Result<KekRow, KeyError> {
    let kek = kek(store, name, false).await?;
    if !kek.spec.shared {
        return Err(KeyError::Invalid("shared"));
    }
    generate(&kek.spec, DekAlgorithm::Aes256Gcm)?;
    Ok(kek)
}

/// Subjects with DEKs under the KEK `kek_name`, sorted.
pub async fn dek_subjects(
    store: &dyn SchemaStore,
    kek_name: &str,
    deleted: bool,
) -> Result<Vec<String>, KeyError> {
    kek(store, kek_name, deleted).await?;
    let filter = DekFilter {
        deleted,
        ..DekFilter::default()
    };
    let mut subjects: Vec<String> = store
        .deks(kek_name, filter)
        .await?
        .into_iter()
        .map(|dek| dek.subject)
        .collect();
    subjects.sort();
    subjects.dedup();
    Ok(subjects)
}

/// The DEKs of a subject and algorithm under a KEK, oldest version first.
async fn versions(
    store: &dyn SchemaStore,
    kek_name: &str,
    subject: &str,
    algorithm: DekAlgorithm,
    deleted: bool,
) -> Result<Vec<DekRow>, KeyError> {
    let filter = DekFilter {
        subject: Some(subject),
        algorithm: Some(algorithm),
        deleted,
    };
    Ok(store.deks(kek_name, filter).await?)
}

/// Version numbers of a subject's DEKs for `algorithm` under the KEK `kek_name`.
pub async fn dek_versions(
    store: &dyn SchemaStore,
    kek_name: &str,
    subject: &str,
    algorithm: DekAlgorithm,
    deleted: bool,
) -> Result<Vec<i32>, KeyError> {
    kek(store, kek_name, deleted).await?;
    Ok(versions(store, kek_name, subject, algorithm, deleted)
        .await?
        .into_iter()
        .map(|dek| dek.version)
        .collect())
}

/// One DEK, with its raw material when its KEK is shared and usable by the registry.
pub async fn dek(
    store: &dyn SchemaStore,
    kek_name: &str,
    subject: &str,
    version: DekVersion,
    algorithm: DekAlgorithm,
    deleted: bool,
) -> Result<DekAnswer, KeyError> {
    let kek = kek(store, kek_name, deleted).await?;
    let deks = versions(store, kek_name, subject, algorithm, deleted).await?;
    let found = match version {
        DekVersion::Latest => deks.into_iter().last(),
        DekVersion::Number(n) => deks.into_iter().find(|dek| dek.version == n),
    };
    let row = found.ok_or_else(|| KeyError::NotFound(subject.to_owned()))?;
    let key_material = raw_material(&kek.spec, &row)?;
    Ok(DekAnswer { row, key_material })
}

/// Creates a DEK: stores the client's wrapped material, or for a shared KEK without one,
/// generates the key and wraps it with the KEK. Answers the raw material for a shared KEK.
pub async fn create_dek(
    store: &dyn SchemaStore,
    new: NewDek,
    by: &str,
) -> Result<DekAnswer, KeyError> {
    check_name(&new.kek_name)?;
    let kek = kek(store, &new.kek_name, false).await?;
    let version = new.version.unwrap_or(1);
    if version < 1 {
        return Err(KeyError::Invalid("version"));
    }
    let (encrypted, generated) = match new.encrypted_key_material {
        Some(encrypted) => {
            let Ok(wrapped) = STANDARD.decode(&encrypted) else {
                return Err(KeyError::Invalid("encryptedKeyMaterial"));
            };
            // What the registry answers the raw material of must be what it can unwrap.
            let material = match usable_kms(&kek.spec) {
                Some(kms) => Some(
                    kms.unwrap(&wrapped)
                        .map_err(|_| KeyError::Invalid("encryptedKeyMaterial"))?,
                ),
                None => None,
            };
            (encrypted, material)
        }
        None if kek.spec.shared => {
            let (material, wrapped) = generate(&kek.spec, new.algorithm)?;
            (wrapped, Some(material))
        }
        None => return Err(KeyError::Invalid("encryptedKeyMaterial")),
    };
    let row = DekRow {
        kek_name: new.kek_name,
        subject: new.subject,
        algorithm: new.algorithm,
        version,
        encrypted_key_material: encrypted,
        ts: 0,
        deleted: false,
    };
    let row = store.create_dek(&row, by).await?;
    Ok(DekAnswer {
        row,
        key_material: generated,
    })
}

/// The version a delete or undelete acts on: `latest` is the latest one, soft-deleted ones
/// included.
async fn target_version(
    store: &dyn SchemaStore,
    kek_name: &str,
    subject: &str,
    algorithm: DekAlgorithm,
    version: Option<DekVersion>,
) -> Result<Option<i32>, KeyError> {
    match version {
        None => Ok(None),
        Some(DekVersion::Number(n)) => Ok(Some(n)),
        Some(DekVersion::Latest) => versions(store, kek_name, subject, algorithm, true)
            .await?
            .last()
            .map(|dek| Some(dek.version))
            .ok_or_else(|| KeyError::NotFound(subject.to_owned())),
    }
}

/// Deletes one version (or all versions, `None`) of a subject's DEKs for `algorithm`.
pub async fn delete_deks(
    store: &dyn SchemaStore,
    kek_name: &str,
    subject: &str,
    algorithm: DekAlgorithm,
    version: Option<DekVersion>,
    permanent: bool,
    by: &str,
) -> Result<(), KeyError> {
    check_name(kek_name)?;
    kek(store, kek_name, true).await?;
    let version = target_version(store, kek_name, subject, algorithm, version).await?;
    let target = DekTarget {
        kek_name,
        subject,
        algorithm,
        version,
    };
    Ok(store.delete_deks(target, permanent, by).await?)
}

/// Restores one soft-deleted version (or all, `None`) of a subject's DEKs for `algorithm`.
pub async fn undelete_deks(
    store: &dyn SchemaStore,
    kek_name: &str,
    subject: &str,
    algorithm: DekAlgorithm,
    version: Option<DekVersion>,
    by: &str,
) -> Result<(), KeyError> {
    check_name(kek_name)?;
    kek(store, kek_name, true).await?;
    let version = target_version(store, kek_name, subject, algorithm, version).await?;
    let target = DekTarget {
        kek_name,
        subject,
        algorithm,
        version,
    };
    Ok(store.undelete_deks(target, by).await?)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_as_confluent_reads_them() {
        assert_eq!(DekVersion::parse("latest").unwrap(), DekVersion::Latest);
        assert_eq!(DekVersion::parse("-1").unwrap(), DekVersion::Latest);
        assert_eq!(DekVersion::parse("3").unwrap(), DekVersion::Number(3));
        for bad in ["0", "-2", "x", "99999999999"] {
            assert!(matches!(
                DekVersion::parse(bad),
                Err(KeyError::InvalidVersion(_))
            ));
        }
    }

    #[test]
    fn names_and_kms_types() {
        assert!(check_name("k").is_ok());
        assert!(check_name("").is_err());
        assert!(check_name(&"k".repeat(257)).is_err());
        assert!(check_name("a\nb").is_err());
        assert_eq!(normalize_kms_type("AWS"), "aws-kms");
        assert_eq!(normalize_kms_type("gcp-kms"), "gcp-kms");
        assert_eq!(normalize_kms_type("local-kms"), "local-kms");
    }

    #[test]
    fn only_local_kms_keks_are_usable_by_the_registry() {
        let spec = KekSpec {
            name: "k".to_owned(),
            kms_type: "aws-kms".to_owned(),
            kms_key_id: "arn:aws:kms:x".to_owned(),
            kms_props: Default::default(),
            doc: None,
            shared: true,
        };
        let err = generate(&spec, DekAlgorithm::Aes256Gcm).unwrap_err();
        assert!(matches!(err, KeyError::KmsUnsupported(_)), "{err}");
        assert!(err.to_string().contains("aws-kms"), "{err}");
    }
}
