//! Interoperability: Confluent's own Python client (`confluent-kafka`) drives `herald serve`
//! unchanged, with Avro, JSON Schema and Protobuf, from the virtualenv of
//! [`herald_test_support::interop_python`] (created and filled with pinned packages when they
//! are missing; if it cannot be, the test fails and says why).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::Command;

use herald_test_support::interop_python;
use herald_test_support::{Backend, HeraldServe, TestDatabase, backend_tests};
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

backend_tests!(confluent_python_client);

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
