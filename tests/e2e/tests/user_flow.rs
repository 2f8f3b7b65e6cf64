//! What a user does, with real processes and nothing mocked: a derived event with two
//! versions → `assert_history` writes its snapshots → `herald serve` (SQLite, random port)
//! → `herald push` → `herald check --registry` passes → a breaking edit to a copy of the
//! snapshots makes `herald check` exit 1 → the registry serves the derive for the event.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Command;

use herald_e2e::ParcelEvent;
use herald_test_support::{HeraldServe, TestDatabase, herald_binary};
use serde_json::json;

/// Runs `herald` in `dir`: (exit code, stdout + stderr).
fn herald(binary: &Path, dir: &Path, args: &[&str]) -> (i32, String) {
    let output = Command::new(binary)
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code().unwrap_or(-1), text)
}

fn get(url: &str) -> (u16, String) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let response = reqwest::get(url).await.unwrap();
        let status = response.status().as_u16();
        (status, response.text().await.unwrap())
    })
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn derive_snapshot_serve_push_check_codegen() {
    let work = tempfile::tempdir().unwrap();
    let project = work.path().join("project");
    let schemas = project.join("schemas");

    // 1. The user's snapshot test writes every version's schemas.
    herald::history::assert_history::<ParcelEvent>(&schemas);
    for file in ["v1.json", "v1.avsc", "v2.json", "v2.avsc"] {
        assert!(
            schemas.join("parcel").join(file).is_file(),
            "assert_history did not write parcel/{file}"
        );
    }
    // A golden v1 event, decoded through the upcaster by the next snapshot check.
    let golden = json!([{
        "event_type": "parcel.dispatched",
        "payload": { "parcel_id": "p-1" },
        "expect": { "event_type": "parcel.dispatched", "payload": { "parcel_id": "p-1" } }
    }]);
    std::fs::write(
        schemas.join("parcel/v1.examples.json"),
        serde_json::to_string_pretty(&golden).unwrap(),
    )
    .unwrap();
    herald::history::assert_history::<ParcelEvent>(&schemas);

    // 2. A real registry on SQLite.
    let herald_bin = herald_binary();
    let server = HeraldServe::start_on(TestDatabase::sqlite());
    let registry = server.base.as_str();

    // 3. Push registers both versions; check --registry agrees there is nothing left to do.
    let (code, output) = herald(herald_bin, &project, &["push", "--registry", registry]);
    assert_eq!(code, 0, "herald push failed:\n{output}");
    let (status, body) = get(&format!("{registry}/subjects/parcel-value/versions"));
    assert_eq!((status, body.as_str()), (200, "[1,2]"));
    let (code, output) = herald(herald_bin, &project, &["check", "--registry", registry]);
    assert_eq!(code, 0, "herald check --registry failed:\n{output}");

    // 4. A breaking edit in a copy: v2's `grams` becomes a string in both formats, which v2
    //    cannot read from v1's number. The files alone fail, and so does the registry.
    let broken = work.path().join("broken");
    copy_dir(&project, &broken);
    for (file, number) in [
        ("v2.avsc", r#""type": "long""#),
        ("v2.json", r#""type": "integer""#),
    ] {
        let path = broken.join("schemas/parcel").join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        let edited = text.replacen(number, r#""type": "string""#, 1);
        assert_ne!(text, edited, "{file} has no {number} to break");
        std::fs::write(&path, edited).unwrap();
    }
    let (code, output) = herald(herald_bin, &broken, &["check"]);
    assert_eq!(code, 1, "herald check passed a breaking edit:\n{output}");
    assert!(
        output.contains("grams") && output.contains("parcel.received"),
        "the violation names neither the field nor the event type:\n{output}"
    );
    let (code, output) = herald(herald_bin, &broken, &["check", "--registry", registry]);
    assert_eq!(
        code, 1,
        "herald check --registry passed a breaking edit:\n{output}"
    );

    // 5. The registry serves the Rust type for the latest version: the derive of this event.
    let (status, code) = get(&format!(
        "{registry}/subjects/parcel-value/versions/latest/rust"
    ));
    assert_eq!(status, 200, "{code}");
    assert!(code.contains("derive("), "{code}");
    assert!(code.contains("Event"), "{code}");
    assert!(
        code.contains(r#"name = "parcel""#) && code.contains("version = 2"),
        "the generated type is not parcel v2:\n{code}"
    );
    assert!(
        code.contains("Returned") && code.contains("grams"),
        "{code}"
    );
}
