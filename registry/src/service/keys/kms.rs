//! The KMS the registry can use itself for a shared KEK: the local KMS (`kmsType`
//! `local-kms`), whose one key is derived from a secret the server is given in
//! `HERALD_LOCAL_KMS_SECRET`. The key is HKDF-SHA256 of the secret (no salt, no info, 16
//! bytes), as Confluent's clients derive it, and wraps DEKs with AES-128-GCM in Tink's raw
//! form: a random 12-byte nonce, then the ciphertext and its 16-byte tag, with no associated
//! data. So a DEK the registry generates is one a client's local KMS with the same secret
//! unwraps, and the other way round.
//!
//! Cloud KMSs (AWS, Azure, GCP, HashiCorp Vault) need credentials and network access the
//! registry does not have: a shared KEK of theirs cannot be used by the registry.

use std::fmt;
use std::sync::OnceLock;

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes128Gcm, Nonce};
use hkdf::Hkdf;
use sha2_11::Sha256;

use super::KeyError;
use super::material::{KeyMaterial, random, wipe};

/// The `kmsType` of the local KMS.
pub const LOCAL_KMS: &str = "local-kms";

/// The environment variable that holds the local KMS's secret.
pub const SECRET_VARIABLE: &str = "HERALD_LOCAL_KMS_SECRET";

const NONCE_BYTES: usize = 12;

/// The local KMS: one AES-128-GCM key derived from a secret. Its `Debug` shows nothing of
/// the key.
pub struct LocalKms {
    cipher: Aes128Gcm,
}

impl fmt::Debug for LocalKms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LocalKms { .. }")
    }
}

impl LocalKms {
    /// The local KMS of `secret`.
    pub fn from_secret(secret: &str) -> Self {
        let mut key = [0u8; 16];
        // 16 bytes is far below HKDF-SHA256's limit of 255 * 32: expanding cannot fail.
        let _ = Hkdf::<Sha256>::new(None, secret.as_bytes()).expand(&[], &mut key);
        let cipher = Aes128Gcm::new(&key.into());
        wipe(&mut key);
        LocalKms { cipher }
    }

    /// The local KMS of the server, when `HERALD_LOCAL_KMS_SECRET` is set (read once).
    pub fn configured() -> Option<&'static LocalKms> {
        static KMS: OnceLock<Option<LocalKms>> = OnceLock::new();
        KMS.get_or_init(|| {
            std::env::var(SECRET_VARIABLE)
                .ok()
                .filter(|secret| !secret.is_empty())
                .map(|secret| LocalKms::from_secret(&secret))
        })
        .as_ref()
    }

    /// Encrypts key material: nonce, ciphertext and tag.
    pub fn wrap(&self, material: &KeyMaterial) -> Result<Vec<u8>, KeyError> {
        let mut nonce = [0u8; NONCE_BYTES];
        random(&mut nonce)?;
        let sealed = self
            .cipher
            .encrypt(&Nonce::from(nonce), material.bytes())
            .map_err(|_| KeyError::Generation("the local KMS could not encrypt".to_owned()))?;
        let mut wrapped = Vec::with_capacity(NONCE_BYTES + sealed.len());
        wrapped.extend_from_slice(&nonce);
        wrapped.extend_from_slice(&sealed);
        Ok(wrapped)
    }

    /// Decrypts what [`LocalKms::wrap`] (or a client's local KMS) encrypted.
    pub fn unwrap(&self, wrapped: &[u8]) -> Result<KeyMaterial, KeyError> {
        let failed = || {
            KeyError::Generation(
                "the local KMS could not decrypt the key material (another secret?)".to_owned(),
            )
        };
        let (nonce, sealed) = wrapped.split_at_checked(NONCE_BYTES).ok_or_else(failed)?;
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().map_err(|_| failed())?;
        self.cipher
            .decrypt(&Nonce::from(nonce), sealed)
            .map(KeyMaterial::new)
            .map_err(|_| failed())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::storage::DekAlgorithm;

    #[test]
    fn wraps_and_unwraps_with_the_same_secret_only() {
        let kms = LocalKms::from_secret("mysecret");
        let key = KeyMaterial::generate(DekAlgorithm::Aes256Gcm).unwrap();
        let wrapped = kms.wrap(&key).unwrap();
        assert_eq!(wrapped.len(), 12 + key.bytes().len() + 16);
        assert_eq!(kms.unwrap(&wrapped).unwrap().bytes(), key.bytes());
        let other = LocalKms::from_secret("another");
        assert!(other.unwrap(&wrapped).is_err());
        assert!(kms.unwrap(&wrapped[..5]).is_err());
    }

    #[test]
    fn the_key_is_hkdf_sha256_of_the_secret() {
        // No salt means a string of hash-length zeros (RFC 5869), which is what Confluent's
        // clients give: a key derived with that explicit salt and empty info must be ours.
        let mut key = [0u8; 16];
        Hkdf::<Sha256>::new(Some(&[0u8; 32]), b"mysecret")
            .expand(&[], &mut key)
            .unwrap();
        let explicit = Aes128Gcm::new(&key.into());
        let sealed = explicit
            .encrypt(&Nonce::from([7u8; 12]), b"dek".as_slice())
            .unwrap();
        let mut wrapped = vec![7u8; 12];
        wrapped.extend_from_slice(&sealed);
        let kms = LocalKms::from_secret("mysecret");
        assert_eq!(kms.unwrap(&wrapped).unwrap().bytes(), b"dek");
    }

    #[test]
    fn debug_shows_no_key() {
        assert_eq!(
            format!("{:?}", LocalKms::from_secret("s")),
            "LocalKms { .. }"
        );
    }
}
