//! HTTPS for `herald serve` (`--tls-cert`, `--tls-key`): the certificate chain and private key
//! from PEM files, TLS 1.2 and 1.3 by rustls, the API and the UI served over it unchanged.
//!
//! With `--tls-client-ca` the server asks every client for a certificate and verifies it
//! against that CA bundle (mutual TLS): a client without one, or with one another CA signed,
//! fails the handshake. The verified certificate's names ([`Peer`]) reach the
//! authentication middleware, which maps them to a role (see the credentials file format in
//! `auth`).
//!
//! The files are read again on SIGHUP and when they change ([`listener`]): new connections
//! get the new certificate, open ones keep theirs; a new file that does not load keeps the
//! old configuration and logs an error.

mod listener;
mod peer;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio_rustls::rustls::crypto::ring;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::server::WebPkiClientVerifier;
use tokio_rustls::rustls::server::danger::ClientCertVerifier;
use tokio_rustls::rustls::{self, RootCertStore, ServerConfig};

pub use listener::{HANDSHAKE_TIMEOUT, RELOAD_POLL, TlsListener};
pub use peer::Peer;

/// Why HTTPS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The certificate file is missing, unreadable or holds no certificate.
    #[error("TLS certificate chain `{path}`: {message}")]
    Certificates {
        /// The file.
        path: String,
        /// What is wrong with it.
        message: String,
    },
    /// The key file is missing, unreadable or holds no private key.
    #[error("TLS private key `{path}`: {message}")]
    Key {
        /// The file.
        path: String,
        /// What is wrong with it.
        message: String,
    },
    /// The client CA file is missing, unreadable or holds no usable CA certificate.
    #[error("TLS client CA bundle `{path}`: {message}")]
    ClientCa {
        /// The file.
        path: String,
        /// What is wrong with it.
        message: String,
    },
    /// The certificate and key do not go together, or rustls refused them.
    #[error("TLS certificate and key: {0}")]
    Config(#[from] rustls::Error),
    /// The listening socket has no address.
    #[error("cannot listen: {0}")]
    Listen(#[source] std::io::Error),
    /// Only one of `--tls-cert` and `--tls-key` was given, or `--tls-client-ca` without them.
    #[error("--tls-cert and --tls-key go together, and --tls-client-ca needs both")]
    Incomplete,
}

/// The PEM files HTTPS is served with; read again on every reload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The certificate chain, leaf first.
    pub cert: PathBuf,
    /// The private key of the leaf (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
    /// CA certificates that sign the certificates clients must present (mutual TLS); none
    /// means clients are not asked for one.
    pub client_ca: Option<PathBuf>,
}

impl TlsFiles {
    /// The files named by `herald serve`'s flags: `None` without `--tls-cert`, an error
    /// when only one of the certificate and key is given.
    pub fn from_options(
        cert: Option<&Path>,
        key: Option<&Path>,
        client_ca: Option<&Path>,
    ) -> Result<Option<Self>, TlsError> {
        match (cert, key) {
            (Some(cert), Some(key)) => Ok(Some(TlsFiles {
                cert: cert.to_owned(),
                key: key.to_owned(),
                client_ca: client_ca.map(Path::to_owned),
            })),
            (None, None) if client_ca.is_none() => Ok(None),
            _ => Err(TlsError::Incomplete),
        }
    }

    /// The server configuration the files describe, read now.
    pub fn server_config(&self) -> Result<Arc<ServerConfig>, TlsError> {
        let certificates = |message: String| TlsError::Certificates {
            path: self.cert.display().to_string(),
            message,
        };
        let chain = CertificateDer::pem_file_iter(&self.cert)
            .map_err(|error| certificates(error.to_string()))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| certificates(error.to_string()))?;
        if chain.is_empty() {
            return Err(certificates("no PEM certificate in the file".to_owned()));
        }
        let key = PrivateKeyDer::from_pem_file(&self.key).map_err(|error| TlsError::Key {
            path: self.key.display().to_string(),
            message: error.to_string(),
        })?;
        let provider = Arc::new(ring::default_provider());
        let builder = ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()?;
        let mut config = match &self.client_ca {
            Some(path) => builder
                .with_client_cert_verifier(client_verifier(path, provider)?)
                .with_single_cert(chain, key)?,
            None => builder.with_no_client_auth().with_single_cert(chain, key)?,
        };
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }

    /// The files a reload watches.
    fn paths(&self) -> impl Iterator<Item = &Path> {
        [Some(&self.cert), Some(&self.key), self.client_ca.as_ref()]
            .into_iter()
            .flatten()
            .map(PathBuf::as_path)
    }
}

/// A verifier that requires a client certificate signed by a CA of the bundle at `path`.
fn client_verifier(
    path: &Path,
    provider: Arc<rustls::crypto::CryptoProvider>,
) -> Result<Arc<dyn ClientCertVerifier>, TlsError> {
    let error = |message: String| TlsError::ClientCa {
        path: path.display().to_string(),
        message,
    };
    let mut roots = RootCertStore::empty();
    for certificate in CertificateDer::pem_file_iter(path).map_err(|e| error(e.to_string()))? {
        roots
            .add(certificate.map_err(|e| error(e.to_string()))?)
            .map_err(|e| error(e.to_string()))?;
    }
    if roots.is_empty() {
        return Err(error("no PEM certificate in the file".to_owned()));
    }
    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
        .build()
        .map_err(|e| error(e.to_string()))
}
