//! Raw DEK key material: generated here for a shared KEK, in the form Confluent's clients
//! read it (a serialized Tink key proto), and kept out of every `Debug` and `Display`.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::storage::DekAlgorithm;

use super::KeyError;

/// Raw key material. Its `Debug` shows only the length; its bytes are overwritten on drop.
pub struct KeyMaterial(Vec<u8>);

impl KeyMaterial {
    /// Wraps bytes that are key material.
    pub fn new(bytes: Vec<u8>) -> Self {
        KeyMaterial(bytes)
    }

    /// The bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// The bytes in standard base64, as the `keyMaterial` of an answer.
    pub fn base64(&self) -> String {
        STANDARD.encode(&self.0)
    }

    /// A fresh random key for `algorithm`, serialized as Tink's key proto for it: an
    /// `AesGcmKey` (`key_value` is field 3) with a 16- or 32-byte key, or an `AesSivKey`
    /// (`key_value` is field 2) with a 64-byte key. `version` is 0, which proto3 leaves out.
    pub fn generate(algorithm: DekAlgorithm) -> Result<Self, KeyError> {
        let (field, size) = match algorithm {
            DekAlgorithm::Aes128Gcm => (3u8, 16u8),
            DekAlgorithm::Aes256Gcm => (3, 32),
            DekAlgorithm::Aes256Siv => (2, 64),
        };
        let mut key = vec![0u8; usize::from(size)];
        random(&mut key)?;
        // A length-delimited field: tag (field number << 3 | wire type 2), a one-byte length
        // (every size is under 128), the bytes.
        let mut proto = Vec::with_capacity(key.len() + 2);
        proto.push((field << 3) | 2);
        proto.push(size);
        proto.extend_from_slice(&key);
        wipe(&mut key);
        Ok(KeyMaterial(proto))
    }
}

impl fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyMaterial({} bytes, redacted)", self.0.len())
    }
}

impl Drop for KeyMaterial {
    fn drop(&mut self) {
        wipe(&mut self.0);
    }
}

/// Overwrites `bytes` with zeros in a way the optimizer keeps.
pub(crate) fn wipe(bytes: &mut [u8]) {
    zeroize::Zeroize::zeroize(bytes);
}

/// Fills `bytes` from the operating system's random source.
pub(crate) fn random(bytes: &mut [u8]) -> Result<(), KeyError> {
    getrandom::fill(bytes)
        .map_err(|_| KeyError::Generation("the operating system gave no random bytes".to_owned()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_are_tink_protos_of_the_right_size() {
        for (algorithm, tag, size) in [
            (DekAlgorithm::Aes128Gcm, 0x1a, 16),
            (DekAlgorithm::Aes256Gcm, 0x1a, 32),
            (DekAlgorithm::Aes256Siv, 0x12, 64),
        ] {
            let key = KeyMaterial::generate(algorithm).unwrap();
            assert_eq!(key.bytes()[0], tag, "{algorithm}");
            assert_eq!(usize::from(key.bytes()[1]), size, "{algorithm}");
            assert_eq!(key.bytes().len(), size + 2, "{algorithm}");
        }
        let a = KeyMaterial::generate(DekAlgorithm::Aes256Gcm).unwrap();
        let b = KeyMaterial::generate(DekAlgorithm::Aes256Gcm).unwrap();
        assert_ne!(a.bytes(), b.bytes());
    }

    #[test]
    fn debug_shows_no_bytes() {
        let key = KeyMaterial::new(vec![0xAB; 4]);
        let text = format!("{key:?}");
        assert_eq!(text, "KeyMaterial(4 bytes, redacted)");
        assert!(!text.contains(&key.base64()));
    }
}
