//! The DEK registry's request and answer bodies, in Confluent's field names.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::service::keys::DekAnswer;
use crate::storage::{KekRow, KekUpdate};

/// A key encryption key: a key in a KMS, which the registry knows by name.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Kek {
    /// Its unique name.
    pub name: String,
    /// The KMS holding it: `aws-kms`, `azure-kms`, `gcp-kms`, `hcvault`, `local-kms`, ….
    pub kms_type: String,
    /// Its id in the KMS.
    pub kms_key_id: String,
    /// Properties for the KMS client.
    pub kms_props: BTreeMap<String, String>,
    /// A description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub doc: Option<String>,
    /// Whether the registry may use it to generate and unwrap DEKs.
    pub shared: bool,
    /// When it was last written, in milliseconds since the Unix epoch.
    pub ts: i64,
    /// Whether it is soft-deleted.
    pub deleted: bool,
}

impl From<KekRow> for Kek {
    fn from(row: KekRow) -> Self {
        Kek {
            name: row.spec.name,
            kms_type: row.spec.kms_type,
            kms_key_id: row.spec.kms_key_id,
            kms_props: row.spec.kms_props,
            doc: row.spec.doc,
            shared: row.spec.shared,
            ts: row.ts,
            deleted: row.deleted,
        }
    }
}

/// A KEK to create.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct CreateKekRequest {
    /// Its unique name (1 to 256 characters).
    pub name: Option<String>,
    /// The KMS holding it.
    pub kms_type: Option<String>,
    /// Its id in the KMS.
    pub kms_key_id: Option<String>,
    /// Properties for the KMS client.
    pub kms_props: Option<BTreeMap<String, String>>,
    /// A description.
    pub doc: Option<String>,
    /// Whether the registry may use it.
    pub shared: Option<bool>,
    /// Accepted for Confluent's clients; a KEK is created live.
    pub deleted: Option<bool>,
}

/// A change to a KEK: each field given replaces the stored one.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct UpdateKekRequest {
    /// New properties for the KMS client.
    pub kms_props: Option<BTreeMap<String, String>>,
    /// A new description.
    pub doc: Option<String>,
    /// Whether the registry may use it.
    pub shared: Option<bool>,
}

impl From<UpdateKekRequest> for KekUpdate {
    fn from(request: UpdateKekRequest) -> Self {
        KekUpdate {
            kms_props: request.kms_props,
            doc: request.doc,
            shared: request.shared,
        }
    }
}

/// A data encryption key, wrapped by its KEK.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Dek {
    /// The KEK that wraps it.
    pub kek_name: String,
    /// The subject whose fields it encrypts.
    pub subject: String,
    /// Its version, from 1.
    pub version: i32,
    /// Its algorithm.
    #[schema(value_type = String, example = "AES256_GCM")]
    pub algorithm: String,
    /// The key material as the KEK encrypted it, base64.
    pub encrypted_key_material: String,
    /// The raw key material, base64: only for a shared KEK the registry can use.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_material: Option<String>,
    /// When it was last written, in milliseconds since the Unix epoch.
    pub ts: i64,
    /// Whether it is soft-deleted.
    pub deleted: bool,
}

impl From<DekAnswer> for Dek {
    fn from(answer: DekAnswer) -> Self {
        let key_material = answer.key_material.as_ref().map(|m| m.base64());
        let row = answer.row;
        Dek {
            kek_name: row.kek_name,
            subject: row.subject,
            version: row.version,
            algorithm: row.algorithm.as_str().to_owned(),
            encrypted_key_material: row.encrypted_key_material,
            key_material,
            ts: row.ts,
            deleted: row.deleted,
        }
    }
}

/// A DEK to create.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct CreateDekRequest {
    /// The subject (taken from the path when the path has one).
    pub subject: Option<String>,
    /// Its version; 1 when not given.
    pub version: Option<i32>,
    /// AES128_GCM, AES256_GCM (the default) or AES256_SIV.
    #[schema(example = "AES256_GCM")]
    pub algorithm: Option<String>,
    /// The key material as the client's KEK encrypted it, base64; leave it out to have the
    /// registry generate the key (shared KEKs of the local KMS only).
    pub encrypted_key_material: Option<String>,
    /// Accepted for Confluent's clients; a DEK is created live.
    pub deleted: Option<bool>,
}
