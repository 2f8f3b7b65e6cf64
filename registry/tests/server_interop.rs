//! Interoperability: Confluent's own Python client (`confluent-kafka`) drives `herald serve`
//! unchanged, with Avro, JSON Schema and Protobuf, from the virtualenv of
//! [`herald_test_support::interop_python`] (created and filled with pinned packages when they
//! are missing; if it cannot be, the test fails and says why). Over HTTPS and mutual TLS,
//! Confluent's Python client and kafkajs's registry client
//! ([`herald_test_support::interop_node_modules`]) connect with their usual TLS settings.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use herald_test_support::{
    Backend, CertifiedKey, HeraldServe, ServeSettings, TestCa, TestDatabase, backend_tests,
    interop_node_modules, interop_python,
};
use serde_json::Value;

const INTEROP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop");

async fn confluent_python_client(backend: Backend) {
    let python = interop_python();
    let db = TestDatabase::new(backend).await;
    let server = HeraldServe::spawn(&db.url);
    let script = format!("{INTEROP}/confluent_client.py");
    let output = tokio::task::spawn_blocking({
        let base = server.base.clone();
        move || Command::new(python).arg(script).arg(base).output()
    })
    .await
    .unwrap()
    .expect("run the interop script");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "interop script failed ({}):\n{stdout}\n{stderr}\nserver log:\n{}",
        output.status,
        server.logs().join("\n")
    );
    for step in [
        "ok: register",
        "ok: get by id",
        "ok: latest version",
        "ok: lookup",
        "ok: test compatibility",
        "ok: set config",
        "ok: delete",
        "ok: avro serializer round trip",
        "ok: json serializer round trip",
        "ok: register with metadata and rule set",
        "ok: set config compatibility group",
        "ok: get latest with metadata",
        "ok: avro serializer use.latest.with.metadata",
        "INTEROP OK",
    ] {
        assert!(stdout.contains(step), "missing `{step}` in:\n{stdout}");
    }
}

backend_tests!(confluent_python_client, confluent_clients_over_tls);

/// Confluent's Python `ProtobufSerializer` registers a schema with a reference and a
/// well-known import, its `ProtobufDeserializer` reads it back from Herald, and the framed
/// bytes are the committed `protobuf_messages.json` that `codegen_roundtrip` decodes with
/// `herald codegen`'s types. The registered schema's Rust, served by Herald, holds them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confluent_python_protobuf() {
    let python = interop_python();
    let db = TestDatabase::new(Backend::Sqlite).await;
    let server = HeraldServe::spawn(&db.url);
    let out = tempfile::tempdir().unwrap();
    let written = out.path().join("messages.json");
    let output = tokio::task::spawn_blocking({
        let base = server.base.clone();
        let written = written.clone();
        move || {
            Command::new(python)
                .arg(format!("{INTEROP}/protobuf_client.py"))
                .arg(base)
                .arg(written)
                .output()
        }
    })
    .await
    .unwrap()
    .expect("run the Protobuf interop script");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "Protobuf interop script failed ({}):\n{stdout}\n{stderr}\nserver log:\n{}",
        output.status,
        server.logs().join("\n")
    );
    for step in [
        "ok: protoc",
        "ok: order: serializer auto-registered the schema and its reference",
        "ok: order: deserializer read it back",
        "ok: depot: serializer auto-registered the schema and its reference",
        "ok: depot: deserializer read it back",
        "ok: message indexes",
        "PROTOBUF INTEROP OK",
    ] {
        assert!(stdout.contains(step), "missing `{step}` in:\n{stdout}");
    }

    let read = |path: PathBuf| -> Value {
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    };
    let written = read(written);
    let committed = read(PathBuf::from(format!("{INTEROP}/protobuf_messages.json")));
    let http = reqwest::Client::new();
    for (name, subject) in [("order", "orders-value"), ("depot", "depots-value")] {
        let hex = |messages: &Value| messages[name]["hex"].as_str().unwrap().to_owned();
        // The same message indexes and payload as the committed copy (the schema id is the
        // one this registry gave).
        assert_eq!(hex(&written)[10..], hex(&committed)[10..], "{name}");
        let latest: Value = http
            .get(format!(
                "{}/subjects/{subject}/versions/latest",
                server.base
            ))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(latest["id"], written[name]["schema_id"], "{latest}");
        assert_eq!(latest["schemaType"], "PROTOBUF", "{latest}");
        assert_eq!(
            latest["references"][0]["name"], "acme/common/money.proto",
            "{latest}"
        );
    }
    // Confluent's registry gives one id to one schema, whatever the subject.
    assert_eq!(written["order"]["schema_id"], written["depot"]["schema_id"]);

    // The Rust of the registered schemas: the reference alone, served, and the schema with
    // its reference, from `herald codegen`, which fetches references.
    let rust = http
        .get(format!(
            "{}/subjects/acme%2Fcommon%2Fmoney.proto/versions/1/rust",
            server.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(rust.status(), 200);
    let code = rust.text().await.unwrap();
    assert!(code.contains("pub struct Money"), "{code}");
    // A version with a reference: the served Rust holds the imported types too.
    let rust = http
        .get(format!(
            "{}/subjects/orders-value/versions/latest/rust",
            server.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(rust.status(), 200);
    let code = rust.text().await.unwrap();
    for item in [
        "pub struct Order",
        "pub struct Money",
        "::prost_types::Timestamp",
    ] {
        assert!(code.contains(item), "missing `{item}` in:\n{code}");
    }
    let output = Command::new(env!("CARGO_BIN_EXE_herald"))
        .args([
            "codegen",
            "--registry",
            &server.base,
            "--subject",
            "orders-value",
        ])
        .output()
        .unwrap();
    let code = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{code}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for item in [
        "pub struct Order",
        "pub struct Depot",
        "pub mod common",
        "pub struct Money",
        "::prost_types::Timestamp",
        "(&[1, 0, 2], \"acme.orders.Shipment.Route.Depot\")",
    ] {
        assert!(code.contains(item), "no `{item}` in:\n{code}");
    }
}

/// A registry client of another project driven over TLS by a script of `tests/interop/`.
#[derive(Debug, Clone, Copy)]
enum TlsClient {
    /// confluent-kafka's `SchemaRegistryClient` (`tls_client.py`).
    Python,
    /// `@kafkajs/confluent-schema-registry` (`tls_client.js`).
    Kafkajs,
}

impl TlsClient {
    /// Runs `case` (`write`, `read-only`, `refused`) against `base`, trusting `ca` and
    /// presenting `identity`; fails the test unless the script passed every step.
    async fn run(self, base: &str, ca: &Path, case: &str, identity: Option<&CertifiedKey>) {
        let mut command = match self {
            TlsClient::Python => {
                let mut command = Command::new(interop_python());
                command.arg(format!("{INTEROP}/tls_client.py"));
                command
            }
            TlsClient::Kafkajs => {
                let mut command = Command::new("node");
                command
                    .arg(format!("{INTEROP}/tls_client.js"))
                    .env("NODE_PATH", interop_node_modules());
                command
            }
        };
        let request = serde_json::json!({
            "url": base,
            "ca": ca,
            "cert": identity.map(|identity| &identity.cert),
            "key": identity.map(|identity| &identity.key),
            "case": case,
        });
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let output = tokio::task::spawn_blocking(move || {
            let mut child = command
                .spawn()
                .expect("run the TLS interop script (python3 and node are required)");
            child
                .stdin
                .take()
                .unwrap()
                .write_all(request.to_string().as_bytes())
                .unwrap();
            child.wait_with_output().unwrap()
        })
        .await
        .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success() && stdout.contains("TLS INTEROP OK"),
            "{self:?} {case} failed ({}):\n{stdout}\n{stderr}",
            output.status
        );
    }
}

/// Both clients register and read back a schema over HTTPS, and over mutual TLS with a
/// `write` certificate; over mutual TLS they are refused at the handshake without a
/// certificate and with one of another CA, and a `read` certificate cannot register.
async fn confluent_clients_over_tls(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new(dir.path(), "interop");
    let server_key = ca.server();
    let writer = ca.client("writer", "producer-svc", "");
    let reader = ca.client("reader", "dashboard", "DNS:dashboard.acme.example");
    let intruder = TestCa::new(dir.path(), "other").client("intruder", "producer-svc", "");

    let https = ServeSettings::new()
        .env("HERALD_TLS_CERT", server_key.cert.display())
        .env("HERALD_TLS_KEY", server_key.key.display())
        .start(backend)
        .await;
    let mutual = ServeSettings::new()
        .env("HERALD_TLS_CERT", server_key.cert.display())
        .env("HERALD_TLS_KEY", server_key.key.display())
        .env("HERALD_TLS_CLIENT_CA", ca.cert.display())
        .users("certificate producer-svc:write\ncertificate dashboard.acme.example:read\n")
        .start(backend)
        .await;
    for client in [TlsClient::Python, TlsClient::Kafkajs] {
        client.run(&https.base, &ca.cert, "write", None).await;
        client.run(&mutual.base, &ca.cert, "refused", None).await;
        client
            .run(&mutual.base, &ca.cert, "refused", Some(&intruder))
            .await;
        client
            .run(&mutual.base, &ca.cert, "write", Some(&writer))
            .await;
        client
            .run(&mutual.base, &ca.cert, "read-only", Some(&reader))
            .await;
    }
    mutual
        .wait_for_logs(&[
            "TLS handshake failed peer=127.0.0.1",
            "peer sent no certificates",
            "invalid peer certificate: UnknownIssuer",
            "principal=\"dashboard.acme.example\" method=POST \
             path=\"/subjects/tls-python-denied-value/versions\" status=403",
            "principal=\"dashboard.acme.example\" method=POST \
             path=\"/subjects/tls-js-denied-value/versions\" status=403",
        ])
        .await;
}
