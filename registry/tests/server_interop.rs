//! Interoperability: Confluent's own Python client (`confluent-kafka`) drives `herald serve`
//! unchanged. The virtualenv is created under `$HOME/.cache/herald-venv` when missing; if it
//! cannot be created the test fails and says why.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::{Backend, ServerProcess, TestDatabase};

const PACKAGE: &str = "confluent-kafka[avro,json,schemaregistry]";

/// The virtualenv's python, created once per test process (both backends' tests ask for it
/// at the same moment, and two `python3 -m venv` runs on one folder fail).
fn venv_python() -> PathBuf {
    static PYTHON: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    PYTHON.get_or_init(create_venv).clone()
}

fn create_venv() -> PathBuf {
    let home = std::env::var_os("HOME").expect("HOME is set");
    let venv = PathBuf::from(home).join(".cache/herald-venv");
    let python = venv.join("bin/python");
    let ready = |python: &PathBuf| {
        Command::new(python)
            .args(["-c", "import confluent_kafka.schema_registry.avro, confluent_kafka.schema_registry.json_schema"])
            .status()
            .is_ok_and(|s| s.success())
    };
    if ready(&python) {
        return python;
    }
    if !python.exists() {
        let status = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .expect("python3 must be installed to create the interop virtualenv");
        assert!(
            status.success(),
            "python3 -m venv {} failed",
            venv.display()
        );
    }
    let output = Command::new(venv.join("bin/pip"))
        .args(["install", "--quiet", PACKAGE])
        .output()
        .expect("run pip");
    assert!(
        output.status.success(),
        "pip install \"{PACKAGE}\" failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        ready(&python),
        "confluent-kafka was installed but cannot be imported"
    );
    python
}

async fn confluent_python_client(backend: Backend) {
    let python = venv_python();
    let db = TestDatabase::new(backend).await;
    let server = ServerProcess::spawn(&db.url, &[]);
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/interop/confluent_client.py"
    );
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
