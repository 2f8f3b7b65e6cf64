//! `herald serve --tls-cert --tls-key`: HTTPS with certificates made by `openssl` for the
//! test (a CA and a server certificate for 127.0.0.1), checked with a rustls client that
//! trusts that CA only. A client that does not trust it, and a plain-HTTP request on the
//! HTTPS port, fail their handshake and do not disturb the server.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use herald_test_support::{Backend, ServeSettings};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::crypto::ring;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

/// Runs `openssl` with `args` in `dir`; panics with its output when it fails.
fn openssl(dir: &Path, args: &[&str]) {
    let output = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl is required for the TLS tests (Debian package openssl)");
    assert!(
        output.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A CA (`name-ca.pem`) and a server certificate for 127.0.0.1 signed by it
/// (`name-cert.pem`, `name-key.pem`).
fn certificates(dir: &Path, name: &str) -> (PathBuf, PathBuf, PathBuf) {
    let ca_key = format!("{name}-ca-key.pem");
    let ca = format!("{name}-ca.pem");
    let key = format!("{name}-key.pem");
    let csr = format!("{name}.csr");
    let cert = format!("{name}-cert.pem");
    let ext = format!("{name}.ext");
    let subject = format!("/CN={name} test CA");
    openssl(
        dir,
        &[
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
            &ca_key,
        ],
    );
    openssl(
        dir,
        &[
            "req", "-x509", "-new", "-key", &ca_key, "-subj", &subject, "-days", "2", "-out", &ca,
        ],
    );
    openssl(
        dir,
        &[
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
            &key,
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-key",
            &key,
            "-subj",
            "/CN=127.0.0.1",
            "-out",
            &csr,
        ],
    );
    std::fs::write(
        dir.join(&ext),
        "subjectAltName = IP:127.0.0.1\nextendedKeyUsage = serverAuth\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &ca,
            "-CAkey",
            &ca_key,
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            &ext,
            "-out",
            &cert,
        ],
    );
    (dir.join(ca), dir.join(cert), dir.join(key))
}

fn client(ca: &Path) -> TlsConnector {
    let mut roots = RootCertStore::empty();
    for certificate in CertificateDer::pem_file_iter(ca).unwrap() {
        roots.add(certificate.unwrap()).unwrap();
    }
    let config = ClientConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

/// `GET path` over TLS: the raw answer, or the handshake's error.
async fn get(base: &str, ca: &Path, path: &str) -> Result<String, std::io::Error> {
    let address = base.trim_start_matches("https://");
    let tcp = TcpStream::connect(address).await?;
    let server = ServerName::try_from("127.0.0.1").unwrap();
    let mut tls = client(ca).connect(server, tcp).await?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    tls.write_all(request.as_bytes()).await?;
    let mut answer = String::new();
    tls.read_to_string(&mut answer).await?;
    Ok(answer)
}

async fn https(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = certificates(dir.path(), "herald");
    let (other_ca, _, _) = certificates(dir.path(), "other");
    let server = ServeSettings::new()
        .env("HERALD_TLS_CERT", cert.display())
        .env("HERALD_TLS_KEY", key.display())
        .start(backend)
        .await;
    assert!(server.base.starts_with("https://"), "{}", server.base);

    let answer = get(&server.base, &ca, "/subjects").await.expect("HTTPS");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("[]"), "{answer}");

    // A client that trusts another CA refuses the server's certificate.
    let refused = get(&server.base, &other_ca, "/subjects").await;
    assert!(refused.is_err(), "{refused:?}");
    // Plain HTTP on the HTTPS port gets no HTTP answer.
    let address = server.base.trim_start_matches("https://");
    let mut plain = TcpStream::connect(address).await.unwrap();
    plain
        .write_all(b"GET /subjects HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut bytes = Vec::new();
    let _ = plain.read_to_end(&mut bytes).await;
    assert!(!String::from_utf8_lossy(&bytes).contains("200 OK"));

    // The server is unharmed by both.
    let again = get(&server.base, &ca, "/config").await.expect("HTTPS");
    assert!(again.starts_with("HTTP/1.1 200"), "{again}");
    assert!(again.contains("compatibilityLevel"), "{again}");
}

/// `herald push` and `herald check --registry` to an HTTPS registry: trusted through
/// `--registry-ca`, refused without it (the test CA is not the system's).
async fn the_tool_trusts_a_private_ca_when_told() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = certificates(dir.path(), "tool");
    let server = ServeSettings::new()
        .env("HERALD_TLS_CERT", cert.display())
        .env("HERALD_TLS_KEY", key.display())
        .start(Backend::Sqlite)
        .await;
    let schemas = concat!(env!("CARGO_MANIFEST_DIR"), "/../schemas");
    let herald = |args: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_herald"))
            .args(args)
            .args(["--schemas", schemas, "--registry", &server.base])
            .output()
            .expect("run herald");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        (output.status.success(), text)
    };
    let ca = ca.display().to_string();

    let (ok, text) = herald(&["push"]);
    assert!(!ok, "{text}");
    assert!(text.contains("unreachable"), "{text}");
    let (ok, text) = herald(&["push", "--registry-ca", &ca]);
    assert!(ok, "{text}");
    assert!(text.contains("registered"), "{text}");
    let (ok, text) = herald(&["check", "--registry-ca", &ca]);
    assert!(ok, "{text}");
    let (_, subjects) = get(&server.base, Path::new(&ca), "/subjects")
        .await
        .map(|answer| (true, answer))
        .expect("HTTPS");
    assert!(subjects.contains("order-value"), "{subjects}");
}

async fn half_configured_tls_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let (_, cert, _) = certificates(dir.path(), "half");
    let status = Command::new(env!("CARGO_BIN_EXE_herald"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database-url",
            "sqlite::memory:",
        ])
        .arg("--tls-cert")
        .arg(&cert)
        .output()
        .expect("run herald serve");
    assert!(!status.status.success());
    let stderr = String::from_utf8_lossy(&status.stderr);
    assert!(stderr.contains("--tls-key"), "{stderr}");

    let missing = Command::new(env!("CARGO_BIN_EXE_herald"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database-url",
            "sqlite::memory:",
        ])
        .arg("--tls-cert")
        .arg(&cert)
        .arg("--tls-key")
        .arg(dir.path().join("nowhere.pem"))
        .output()
        .expect("run herald serve");
    assert!(!missing.status.success());
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(stderr.contains("TLS private key"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_on_sqlite() {
    https(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_on_postgres() {
    https(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn herald_push_and_check_over_https() {
    the_tool_trusts_a_private_ca_when_told().await;
}

#[tokio::test]
async fn a_half_configured_tls_refuses_to_start() {
    half_configured_tls_refuses_to_start().await;
}
