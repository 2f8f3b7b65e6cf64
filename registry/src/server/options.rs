//! The options of `herald serve`, from its flags and environment variables.

use std::net::SocketAddr;
use std::path::PathBuf;

/// The flags of `herald serve`. Every flag can also come from the environment
/// variable named beside it.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeOptions {
    /// Address to listen on.
    #[arg(long, env = "HERALD_LISTEN", default_value = "127.0.0.1:8081")]
    pub listen: SocketAddr,
    /// Database: `sqlite://herald.db` (one file), `sqlite::memory:` (throwaway) or
    /// `postgres://user@host:5432/db`.
    #[arg(
        long,
        env = "HERALD_DATABASE_URL",
        default_value = "sqlite://herald.db"
    )]
    pub database_url: String,
    /// Largest accepted request body, in bytes (larger ones get 413).
    #[arg(long, env = "HERALD_MAX_BODY_BYTES", default_value_t = 1 << 20)]
    pub max_body_bytes: usize,
    /// Largest accepted schema text, in bytes (larger ones get error 42209).
    #[arg(long, env = "HERALD_MAX_SCHEMA_BYTES", default_value_t = 1 << 20)]
    pub max_schema_bytes: usize,
    /// Database connections per process.
    #[arg(long, env = "HERALD_MAX_CONNECTIONS", default_value_t = 10)]
    pub max_connections: u32,
    /// Turns on authentication with the users in this file: `name:password:role` lines for
    /// HTTP basic auth and `certificate NAME:role` lines for client certificates
    /// (`--tls-client-ca`); role `read`, `write` or `admin`.
    #[arg(long, env = "HERALD_CREDENTIALS_FILE")]
    pub credentials_file: Option<PathBuf>,
    /// Serves HTTPS with the certificate chain in this PEM file (leaf first); needs
    /// `--tls-key`. The certificate, key and client CA files are read again on SIGHUP and
    /// when they change, without dropping open connections.
    #[arg(long, env = "HERALD_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key (PEM) of `--tls-cert`.
    #[arg(long, env = "HERALD_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Mutual TLS: asks every client for a certificate signed by a CA in this PEM bundle and
    /// refuses the handshake without one. The certificate's subject CN (or a DNS or email
    /// SAN) names the caller, whose role the `certificate NAME:role` lines of
    /// `--credentials-file` give (without that file every verified client may do
    /// everything). Needs `--tls-cert`.
    #[arg(long, env = "HERALD_TLS_CLIENT_CA", requires = "tls_cert")]
    pub tls_client_ca: Option<PathBuf>,
}

impl ServeOptions {
    /// The defaults, on the given database.
    pub fn new(database_url: impl Into<String>) -> Self {
        ServeOptions {
            listen: SocketAddr::from(([127, 0, 0, 1], 8081)),
            database_url: database_url.into(),
            max_body_bytes: 1 << 20,
            max_schema_bytes: 1 << 20,
            max_connections: 10,
            credentials_file: None,
            tls_cert: None,
            tls_key: None,
            tls_client_ca: None,
        }
    }
}
