//! Key-management services: what wraps and unwraps data-encryption keys with a KEK's key.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use aes_gcm::aead::{Aead, AeadInPlace, KeyInit, Payload};
use aes_gcm::{Aes128Gcm, Nonce};
use zeroize::Zeroizing;

/// A boxed future, for the object-safe async traits of this module.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Raw key material. Its `Debug` shows only the length; its bytes are overwritten on drop.
#[derive(Clone)]
pub struct KeyBytes(Zeroizing<Vec<u8>>);

impl KeyBytes {
    /// Wraps bytes that are key material.
    pub fn new(bytes: Vec<u8>) -> Self {
        KeyBytes(Zeroizing::new(bytes))
    }

    /// The bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for KeyBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyBytes({} bytes, redacted)", self.0.len())
    }
}

/// Why a KMS could not wrap or unwrap a key. It never holds key material.
#[derive(Debug, thiserror::Error)]
#[error("KMS `{kms_type}`, key `{key_id}`: {message}")]
pub struct KmsError {
    /// The KMS.
    pub kms_type: String,
    /// The KEK's key id in it.
    pub key_id: String,
    /// What went wrong.
    pub message: String,
}

/// A key-management service of one type (`local-kms`, `aws-kms`, ...): wraps a DEK with a
/// key it holds (a KEK's `kmsKeyId`) and unwraps it, with Tink's AEAD semantics (no
/// associated data) so that other clients of the same KMS read the wrapped keys.
pub trait Kms: Send + Sync + fmt::Debug {
    /// The KMS type, as KEKs name it (`local-kms`).
    fn kms_type(&self) -> &str;

    /// Encrypts `key` with the KMS key `key_id`.
    fn wrap<'a>(
        &'a self,
        key_id: &'a str,
        key: &'a KeyBytes,
    ) -> BoxFuture<'a, Result<Vec<u8>, KmsError>>;

    /// Decrypts `wrapped` with the KMS key `key_id`.
    fn unwrap<'a>(
        &'a self,
        key_id: &'a str,
        wrapped: &'a [u8],
    ) -> BoxFuture<'a, Result<KeyBytes, KmsError>>;
}

/// The local KMS of Confluent's clients (`local-kms`), for tests and development: one
/// AES-128-GCM key, HKDF-SHA256 (no salt, no info) of a secret, whatever the key id; a
/// wrapped key is Tink's raw AES-GCM ciphertext (12-byte nonce, ciphertext, 16-byte tag).
/// Confluent's clients take the secret from the rule config `secret` or `LOCAL_SECRET`;
/// `herald serve` from `HERALD_LOCAL_KMS_SECRET`.
pub struct LocalKms {
    cipher: Aes128Gcm,
}

/// The KMS type of [`LocalKms`].
pub const LOCAL_KMS: &str = "local-kms";

impl LocalKms {
    /// The local KMS of `secret`.
    pub fn new(secret: &str) -> Self {
        let mut key = Zeroizing::new([0u8; 16]);
        let hkdf = hkdf::Hkdf::<sha2_11::Sha256>::new(None, secret.as_bytes());
        // 16 bytes are well under HKDF-SHA256's limit of 255 blocks.
        let _ = hkdf.expand(&[], key.as_mut());
        let cipher = Aes128Gcm::new(key.as_ref().into());
        LocalKms { cipher }
    }

    fn error(key_id: &str, message: &str) -> KmsError {
        KmsError {
            kms_type: LOCAL_KMS.to_owned(),
            key_id: key_id.to_owned(),
            message: message.to_owned(),
        }
    }
}

impl fmt::Debug for LocalKms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LocalKms(redacted)")
    }
}

impl Kms for LocalKms {
    fn kms_type(&self) -> &str {
        LOCAL_KMS
    }

    fn wrap<'a>(
        &'a self,
        key_id: &'a str,
        key: &'a KeyBytes,
    ) -> BoxFuture<'a, Result<Vec<u8>, KmsError>> {
        Box::pin(async move {
            gcm_encrypt(&self.cipher, key.bytes()).map_err(|message| Self::error(key_id, message))
        })
    }

    fn unwrap<'a>(
        &'a self,
        key_id: &'a str,
        wrapped: &'a [u8],
    ) -> BoxFuture<'a, Result<KeyBytes, KmsError>> {
        Box::pin(async move {
            gcm_decrypt(&self.cipher, wrapped)
                .map(KeyBytes::new)
                .map_err(|message| Self::error(key_id, message))
        })
    }
}

/// Tink's raw AES-GCM: a random 12-byte nonce, then the ciphertext and its 16-byte tag; no
/// associated data.
pub(crate) fn gcm_encrypt<C>(cipher: &C, plaintext: &[u8]) -> Result<Vec<u8>, &'static str>
where
    C: AeadInPlace + aes_gcm::aead::AeadCore<NonceSize = aes_gcm::aead::consts::U12>,
{
    let mut out = Vec::with_capacity(12 + plaintext.len() + 16);
    gcm_seal(cipher, plaintext, &mut out)?;
    Ok(out)
}

/// [`gcm_encrypt`] appending to `out`.
pub(crate) fn gcm_seal<C>(
    cipher: &C,
    plaintext: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), &'static str>
where
    C: AeadInPlace + aes_gcm::aead::AeadCore<NonceSize = aes_gcm::aead::consts::U12>,
{
    let nonce = random_nonce()?;
    out.extend_from_slice(&nonce);
    let start = out.len();
    out.extend_from_slice(plaintext);
    let tag = cipher
        .encrypt_in_place_detached(&Nonce::from(nonce), &[], &mut out[start..])
        .map_err(|_| "encryption failed")?;
    out.extend_from_slice(&tag);
    Ok(())
}

/// How many nonces one request to the operating system's random source fills.
const NONCES_PER_FILL: usize = 64;

thread_local! {
    /// Random bytes from the operating system not handed out yet, and where they start.
    static NONCES: std::cell::RefCell<([u8; 12 * NONCES_PER_FILL], usize)> =
        const { std::cell::RefCell::new(([0; 12 * NONCES_PER_FILL], 12 * NONCES_PER_FILL)) };
}

/// A random 96-bit nonce from the operating system's random source, fetched in batches so
/// that one encryption does not cost a system call; each batch's bytes are handed out once.
fn random_nonce() -> Result<[u8; 12], &'static str> {
    NONCES.with(|cell| {
        let mut state = cell.borrow_mut();
        let (bytes, next) = &mut *state;
        if *next + 12 > bytes.len() {
            getrandom::fill(bytes).map_err(|_| "the operating system gave no random bytes")?;
            *next = 0;
        }
        let mut nonce = [0u8; 12];
        nonce.copy_from_slice(&bytes[*next..*next + 12]);
        bytes[*next..*next + 12].fill(0);
        *next += 12;
        Ok(nonce)
    })
}

/// Opens [`gcm_encrypt`]'s output.
pub(crate) fn gcm_decrypt<C>(cipher: &C, sealed: &[u8]) -> Result<Vec<u8>, &'static str>
where
    C: Aead + aes_gcm::aead::AeadCore<NonceSize = aes_gcm::aead::consts::U12>,
{
    if sealed.len() < 12 + 16 {
        return Err("the ciphertext is too short");
    }
    let (nonce, body) = sealed.split_at(12);
    let nonce: [u8; 12] = nonce
        .try_into()
        .map_err(|_| "the ciphertext is too short")?;
    cipher
        .decrypt(
            &Nonce::from(nonce),
            Payload {
                msg: body,
                aad: &[],
            },
        )
        .map_err(|_| "the ciphertext does not decrypt with this key")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn local_kms_unwraps_what_it_wraps_and_only_with_its_secret() {
        let kms = LocalKms::new("s3cret");
        let key = KeyBytes::new(vec![1; 34]);
        let wrapped = kms.wrap("any", &key).await.unwrap();
        assert_eq!(wrapped.len(), 12 + 34 + 16);
        assert_eq!(
            kms.unwrap("any", &wrapped).await.unwrap().bytes(),
            key.bytes()
        );
        let other = LocalKms::new("other");
        let refused = other.unwrap("any", &wrapped).await.unwrap_err();
        assert!(!refused.to_string().contains("s3cret"));
        assert_eq!(format!("{key:?}"), "KeyBytes(34 bytes, redacted)");
    }

    #[test]
    fn nonces_do_not_repeat_across_refills() {
        let nonces: std::collections::HashSet<[u8; 12]> = (0..3 * NONCES_PER_FILL)
            .map(|_| random_nonce().unwrap())
            .collect();
        assert_eq!(nonces.len(), 3 * NONCES_PER_FILL);
    }
}
