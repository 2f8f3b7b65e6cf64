//! The DEK registry (`/dek-registry/v1`): key-encryption keys (KEKs, which name a key in a
//! KMS) and the data-encryption keys (DEKs) wrapped with them, one per KEK, subject,
//! algorithm and version.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{RegistryClient, RegistryError, segment};

/// A DEK's algorithm, as the DEK registry names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum DekAlgorithm {
    /// AES-128 in GCM mode.
    #[serde(rename = "AES128_GCM")]
    Aes128Gcm,
    /// AES-256 in GCM mode (the default).
    #[default]
    #[serde(rename = "AES256_GCM")]
    Aes256Gcm,
    /// AES-SIV with two 256-bit keys (deterministic).
    #[serde(rename = "AES256_SIV")]
    Aes256Siv,
}

impl DekAlgorithm {
    /// The registry's name (`AES256_GCM`).
    pub fn as_str(self) -> &'static str {
        match self {
            DekAlgorithm::Aes128Gcm => "AES128_GCM",
            DekAlgorithm::Aes256Gcm => "AES256_GCM",
            DekAlgorithm::Aes256Siv => "AES256_SIV",
        }
    }
}

/// A key-encryption key: a key in a KMS that wraps DEKs.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Kek {
    /// Its name in the registry.
    pub name: String,
    /// The KMS (`local-kms`, `aws-kms`, ...).
    pub kms_type: String,
    /// The key's id in that KMS.
    pub kms_key_id: String,
    /// Whether the registry may use the KMS itself (and generate DEKs).
    #[serde(default)]
    pub shared: bool,
}

/// A data-encryption key. Its `Debug` leaves the key material out.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Dek {
    /// The KEK that wraps it.
    pub kek_name: String,
    /// The subject it encrypts for.
    pub subject: String,
    /// Its version (from 1).
    pub version: u32,
    /// Its algorithm.
    #[serde(default)]
    pub algorithm: DekAlgorithm,
    /// The key wrapped by the KEK, in base64.
    #[serde(default)]
    pub encrypted_key_material: Option<String>,
    /// The key itself, in base64, when the registry could unwrap it (a shared KEK).
    #[serde(default)]
    pub key_material: Option<String>,
    /// When it was created, in milliseconds since the epoch.
    #[serde(default)]
    pub ts: Option<i64>,
}

impl fmt::Debug for Dek {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dek")
            .field("kek_name", &self.kek_name)
            .field("subject", &self.subject)
            .field("version", &self.version)
            .field("algorithm", &self.algorithm)
            .field(
                "key_material",
                &self.key_material.as_ref().map(|_| "redacted"),
            )
            .field("ts", &self.ts)
            .finish_non_exhaustive()
    }
}

impl RegistryClient {
    /// The KEK `name` (`GET /dek-registry/v1/keks/{name}`); `None` when there is none.
    pub async fn kek(&self, name: &str) -> Result<Option<Kek>, RegistryError> {
        let path = format!("/dek-registry/v1/keks/{}", segment(name));
        let answer = self.send(reqwest::Method::GET, &path, None).await?;
        if answer.status == 404 {
            return Ok(None);
        }
        answer.parse().map(Some)
    }

    /// Creates a KEK that is not shared (`POST /dek-registry/v1/keks`); `None` when one of
    /// that name exists already (409).
    pub async fn create_kek(
        &self,
        name: &str,
        kms_type: &str,
        kms_key_id: &str,
    ) -> Result<Option<Kek>, RegistryError> {
        let body =
            json!({"name": name, "kmsType": kms_type, "kmsKeyId": kms_key_id, "shared": false});
        let answer = self
            .send(reqwest::Method::POST, "/dek-registry/v1/keks", Some(&body))
            .await?;
        if answer.status == 409 {
            return Ok(None);
        }
        answer.parse().map(Some)
    }

    /// Version `version` (the latest with `None`) of the DEK of `kek` and `subject` for
    /// `algorithm` (`GET /dek-registry/v1/keks/{kek}/deks/{subject}/versions/{version}`),
    /// soft-deleted ones too when `deleted`; `None` when there is none.
    pub async fn dek(
        &self,
        kek: &str,
        subject: &str,
        version: Option<u32>,
        algorithm: DekAlgorithm,
        deleted: bool,
    ) -> Result<Option<Dek>, RegistryError> {
        let version = version.map_or_else(|| "latest".to_owned(), |v| v.to_string());
        let path = format!(
            "/dek-registry/v1/keks/{}/deks/{}/versions/{version}?algorithm={}&deleted={deleted}",
            segment(kek),
            segment(subject),
            algorithm.as_str()
        );
        let answer = self.send(reqwest::Method::GET, &path, None).await?;
        if answer.status == 404 {
            return Ok(None);
        }
        answer.parse().map(Some)
    }

    /// Creates version `version` of the DEK of `kek` and `subject`
    /// (`POST /dek-registry/v1/keks/{kek}/deks/{subject}`) with the key wrapped by the KEK
    /// in base64, or, for a shared KEK, without it (the registry generates the key); `None`
    /// when that version exists already (409).
    pub async fn create_dek(
        &self,
        kek: &str,
        subject: &str,
        version: u32,
        algorithm: DekAlgorithm,
        encrypted_key_material: Option<&str>,
    ) -> Result<Option<Dek>, RegistryError> {
        let path = format!(
            "/dek-registry/v1/keks/{}/deks/{}",
            segment(kek),
            segment(subject)
        );
        let mut body =
            json!({"subject": subject, "version": version, "algorithm": algorithm.as_str()});
        if let Some(material) = encrypted_key_material {
            body["encryptedKeyMaterial"] = Value::String(material.to_owned());
        }
        let answer = self.send(reqwest::Method::POST, &path, Some(&body)).await?;
        if answer.status == 409 {
            return Ok(None);
        }
        answer.parse().map(Some)
    }
}
