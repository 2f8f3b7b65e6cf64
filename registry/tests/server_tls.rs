//! `herald serve --tls-cert --tls-key`: HTTPS with certificates made by `openssl` for the
//! test (a CA and a server certificate for 127.0.0.1), checked with a rustls client that
//! trusts that CA only. A client that does not trust it, and a plain-HTTP request on the
//! HTTPS port, fail their handshake and do not disturb the server.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use herald_test_support::{Backend, CertifiedKey, ServeSettings, TestCa};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::crypto::ring;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

/// A CA (`name-ca.pem`) and a server certificate for 127.0.0.1 signed by it.
fn certificates(dir: &Path, name: &str) -> (PathBuf, PathBuf, PathBuf) {
    let ca = TestCa::new(dir, name);
    let server = ca.server();
    (ca.cert, server.cert, server.key)
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

/// A reqwest client trusting `ca` only, presenting `identity` when given.
fn https_client(ca: &Path, identity: Option<&CertifiedKey>) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(&std::fs::read(ca).unwrap()).unwrap());
    if let Some(identity) = identity {
        let pem = [
            std::fs::read(&identity.cert).unwrap(),
            std::fs::read(&identity.key).unwrap(),
        ]
        .concat();
        builder = builder.identity(reqwest::Identity::from_pem(&pem).unwrap());
    }
    builder.build().unwrap()
}

/// The status of registering a string schema under `subject`, or the transport's error.
async fn register(
    client: &reqwest::Client,
    base: &str,
    subject: &str,
    authorization: Option<&str>,
) -> Result<u16, reqwest::Error> {
    let mut request = client
        .post(format!("{base}/subjects/{subject}/versions"))
        .header("Content-Type", "application/vnd.schemaregistry.v1+json")
        .body(r#"{"schema": "\"string\""}"#);
    if let Some(value) = authorization {
        request = request.header("Authorization", value);
    }
    Ok(request.send().await?.status().as_u16())
}

/// `Authorization: Basic …` for `user` and `password`.
fn basic(user: &str, password: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

const PASSWORD: &str = "correct-horse-battery";

async fn mutual_tls(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new(dir.path(), "mtls");
    let server_key = ca.server();
    let writer = ca.client("writer", "writer-svc", "");
    let reader = ca.client("reader", "reader-svc", "");
    let by_san = ca.client(
        "san",
        "unlisted-cn",
        "DNS:svc.acme.example,email:ops@acme.example",
    );
    let stranger = ca.client("stranger", "stranger", "");
    let other = TestCa::new(dir.path(), "other").client("intruder", "writer-svc", "");
    let server = ServeSettings::new()
        .env("HERALD_TLS_CERT", server_key.cert.display())
        .env("HERALD_TLS_KEY", server_key.key.display())
        .env("HERALD_TLS_CLIENT_CA", ca.cert.display())
        .users(&format!(
            "admin:{PASSWORD}:admin\n\
             certificate writer-svc:write\n\
             certificate reader-svc:read\n\
             certificate svc.acme.example:write\n"
        ))
        .start(backend)
        .await;
    let base = &server.base;

    // Refused at the handshake: no certificate, and one from another CA.
    for (name, client) in [
        ("no certificate", https_client(&ca.cert, None)),
        ("another CA", https_client(&ca.cert, Some(&other))),
    ] {
        let answer = client.get(format!("{base}/subjects")).send().await;
        assert!(answer.is_err(), "{name}: {answer:?}");
    }

    // Listed certificates get their role.
    let writing = https_client(&ca.cert, Some(&writer));
    assert_eq!(
        register(&writing, base, "orders-value", None)
            .await
            .unwrap(),
        200
    );
    let reading = https_client(&ca.cert, Some(&reader));
    let listed = reading
        .get(format!("{base}/subjects"))
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 200);
    assert_eq!(listed.text().await.unwrap(), r#"["orders-value"]"#);
    assert_eq!(
        register(&reading, base, "reads-value", None).await.unwrap(),
        403
    );
    // A DNS name listed while the CN is not.
    let san = https_client(&ca.cert, Some(&by_san));
    assert_eq!(register(&san, base, "san-value", None).await.unwrap(), 200);
    // A verified certificate none of whose names is listed.
    let unlisted = https_client(&ca.cert, Some(&stranger));
    let refused = unlisted
        .get(format!("{base}/subjects"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);

    // An Authorization header names the caller, whatever the certificate.
    let admin = basic("admin", PASSWORD);
    assert_eq!(
        register(&reading, base, "admin-value", Some(&admin))
            .await
            .unwrap(),
        200
    );
    let wrong = basic("admin", "wrong-password");
    assert_eq!(
        register(&writing, base, "wrong-value", Some(&wrong))
            .await
            .unwrap(),
        401
    );

    // A handler's refusal: the UI's settings form posted from another site.
    let framed = writing
        .post(format!("{base}/ui/settings"))
        .header("Origin", "https://evil.example")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("compatibility=NONE&mode=")
        .send()
        .await
        .unwrap();
    assert_eq!(framed.status(), 403);

    // Refusals are logged with the caller and the route, never the password (the log
    // lines come through a pipe: wait for them).
    let expected = [
        "principal=\"writer-svc\" method=POST path=\"/ui/settings\" status=403",
        "principal=\"reader-svc\" method=POST path=\"/subjects/reads-value/versions\" status=403",
        "principal=\"stranger\" method=GET path=\"/subjects\" status=401",
        "principal=\"admin\" method=POST path=\"/subjects/wrong-value/versions\" status=401",
    ];
    let logs = server.wait_for_logs(&expected).await;
    assert!(
        !logs.contains("wrong-password") && !logs.contains(PASSWORD),
        "{logs}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_on_sqlite() {
    mutual_tls(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_on_postgres() {
    mutual_tls(Backend::Postgres).await;
}

/// Without a credentials file every verified client may write, named by its certificate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_without_credentials_lets_verified_clients_write() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new(dir.path(), "open");
    let server_key = ca.server();
    let client = ca.client("any", "any-svc", "");
    let server = ServeSettings::new()
        .env("HERALD_TLS_CERT", server_key.cert.display())
        .env("HERALD_TLS_KEY", server_key.key.display())
        .env("HERALD_TLS_CLIENT_CA", ca.cert.display())
        .start(Backend::Sqlite)
        .await;
    let verified = https_client(&ca.cert, Some(&client));
    assert_eq!(
        register(&verified, &server.base, "any-value", None)
            .await
            .unwrap(),
        200
    );
    let anonymous = https_client(&ca.cert, None);
    assert!(
        register(&anonymous, &server.base, "any-value", None)
            .await
            .is_err()
    );
}

/// One HTTP/1.1 keep-alive connection over TLS trusting `ca` only.
struct KeepAlive {
    tls: tokio_rustls::client::TlsStream<TcpStream>,
    address: String,
}

impl KeepAlive {
    async fn open(base: &str, ca: &Path) -> Result<KeepAlive, std::io::Error> {
        let address = base.trim_start_matches("https://").to_owned();
        let tcp = TcpStream::connect(&address).await?;
        let server = ServerName::try_from("127.0.0.1").unwrap();
        let tls = client(ca).connect(server, tcp).await?;
        // The handshake is done; a first request shows the server took the connection.
        let mut connection = KeepAlive { tls, address };
        connection.get_subjects().await?;
        Ok(connection)
    }

    /// `GET /subjects` on this connection: the answer's head and body.
    async fn get_subjects(&mut self) -> Result<String, std::io::Error> {
        let request = format!("GET /subjects HTTP/1.1\r\nHost: {}\r\n\r\n", self.address);
        self.tls.write_all(request.as_bytes()).await?;
        let mut answer = Vec::new();
        let mut buffer = [0u8; 4096];
        loop {
            let read = self.tls.read(&mut buffer).await?;
            if read == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            answer.extend_from_slice(&buffer[..read]);
            let text = String::from_utf8_lossy(&answer);
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let length = head
                    .lines()
                    .find_map(|line| {
                        line.to_ascii_lowercase()
                            .strip_prefix("content-length: ")
                            .map(str::to_owned)
                    })
                    .and_then(|value| value.trim().parse::<usize>().ok());
                if length.is_some_and(|length| body.len() >= length) {
                    return Ok(text.into_owned());
                }
            }
        }
    }
}

/// Replaces the certificate files: a new connection gets the new certificate (after a file
/// change, and after SIGHUP), an open keep-alive connection keeps working, a broken file
/// keeps the certificate in use.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificates_reload_without_dropping_connections() {
    let dir = tempfile::tempdir().unwrap();
    let first = TestCa::new(dir.path(), "first");
    let second = TestCa::new(dir.path(), "second");
    let third = TestCa::new(dir.path(), "third");
    let (cert, key) = (
        dir.path().join("live-cert.pem"),
        dir.path().join("live-key.pem"),
    );
    let install = |certified: &CertifiedKey| {
        // Written beside, then renamed: a reader never sees half a file.
        for (from, to) in [(&certified.key, &key), (&certified.cert, &cert)] {
            let staged = to.with_extension("staged");
            std::fs::copy(from, &staged).unwrap();
            std::fs::rename(&staged, to).unwrap();
        }
    };
    install(&first.server());
    let server = ServeSettings::new()
        .env("HERALD_TLS_CERT", cert.display())
        .env("HERALD_TLS_KEY", key.display())
        .start(Backend::Sqlite)
        .await;
    let mut open = KeepAlive::open(&server.base, &first.cert).await.unwrap();

    // Until the reload, new connections trusting the second CA are refused.
    assert!(KeepAlive::open(&server.base, &second.cert).await.is_err());
    install(&second.server());
    let reloaded = async {
        for _ in 0..100 {
            if KeepAlive::open(&server.base, &second.cert).await.is_ok() {
                return true;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        false
    };
    assert!(reloaded.await, "no reload: {:?}", server.logs());
    assert!(KeepAlive::open(&server.base, &first.cert).await.is_err());
    let answer = open
        .get_subjects()
        .await
        .expect("the open connection still works");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    // A broken certificate file: logged, and the second certificate stays.
    std::fs::write(&cert, "not a certificate").unwrap();
    server.signal("HUP");
    server
        .wait_for_logs(&["TLS configuration not reloaded"])
        .await;
    KeepAlive::open(&server.base, &second.cert)
        .await
        .expect("the previous certificate stays in use");

    // SIGHUP reloads too (the poll may see the change first; the signal reloads anyway).
    install(&third.server());
    server.signal("HUP");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while KeepAlive::open(&server.base, &third.cert).await.is_err()
        || !server.logs().iter().any(|line| {
            line.contains("TLS configuration reloaded") && line.contains("cause=\"SIGHUP\"")
        })
    {
        assert!(std::time::Instant::now() < deadline, "{:?}", server.logs());
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let answer = open
        .get_subjects()
        .await
        .expect("the first connection still works");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

/// `herald push` presents a client certificate to a registry that requires one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn herald_push_with_a_client_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new(dir.path(), "push");
    let server_key = ca.server();
    let writer = ca.client("ci", "ci-pipeline", "");
    let reader = ca.client("viewer", "viewer", "");
    let server = ServeSettings::new()
        .env("HERALD_TLS_CERT", server_key.cert.display())
        .env("HERALD_TLS_KEY", server_key.key.display())
        .env("HERALD_TLS_CLIENT_CA", ca.cert.display())
        .users("certificate ci-pipeline:write\ncertificate viewer:read\n")
        .start(Backend::Sqlite)
        .await;
    let schemas = concat!(env!("CARGO_MANIFEST_DIR"), "/../schemas");
    let herald = |identity: Option<&CertifiedKey>| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_herald"));
        command
            .args(["push", "--schemas", schemas, "--registry", &server.base])
            .env("HERALD_REGISTRY_CA", &ca.cert);
        if let Some(identity) = identity {
            command
                .arg("--registry-cert")
                .arg(&identity.cert)
                .env("HERALD_REGISTRY_KEY", &identity.key);
        }
        let output = command.output().expect("run herald");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        (output.status.success(), text)
    };
    let (ok, text) = herald(None);
    assert!(!ok, "{text}");
    assert!(text.contains("unreachable"), "{text}");
    let (ok, text) = herald(Some(&reader));
    assert!(!ok, "{text}");
    assert!(text.contains("refused the credentials (403)"), "{text}");
    let (ok, text) = herald(Some(&writer));
    assert!(ok, "{text}");
    assert!(text.contains("registered"), "{text}");
}
