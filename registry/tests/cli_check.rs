//! `herald check` on copies of this repository's `schemas/` in temporary git repositories,
//! broken on purpose in each of the ways it must catch.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const SCHEMAS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../schemas");

/// A temporary git repository holding a committed copy of `schemas/`.
struct Repo {
    dir: tempfile::TempDir,
}

impl Repo {
    fn new() -> Repo {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repo { dir };
        repo.git(&["init", "-q", "-b", "main"]);
        copy_dir(Path::new(SCHEMAS), &repo.path().join("schemas"));
        repo.commit("published");
        repo
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn git(&self, args: &[&str]) {
        let status = Command::new("git")
            .current_dir(self.path())
            .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
            .args(args)
            .status()
            .unwrap();
        assert!(status.success(), "git {args:?}");
    }

    fn commit(&self, message: &str) {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", message]);
    }

    fn file(&self, relative: &str) -> PathBuf {
        self.path().join("schemas").join(relative)
    }

    fn read(&self, relative: &str) -> Value {
        serde_json::from_str(&std::fs::read_to_string(self.file(relative)).unwrap()).unwrap()
    }

    fn write(&self, relative: &str, value: &Value) {
        let path = self.file(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, serde_json::to_string_pretty(value).unwrap()).unwrap();
    }

    fn check(&self, extra: &[&str]) -> (i32, String, String) {
        let output: Output = Command::new(env!("CARGO_BIN_EXE_herald"))
            .current_dir(self.path())
            .args(["check", "--schemas", "schemas"])
            .args(extra)
            .output()
            .unwrap();
        (
            output.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }
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

fn kinds(json_stdout: &str) -> Vec<(String, String, u64)> {
    let report: Value = serde_json::from_str(json_stdout.trim()).unwrap();
    report["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["kind"].as_str().unwrap().to_owned(),
                v["file"].as_str().unwrap().to_owned(),
                v["version"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn this_repositorys_snapshots_pass_against_their_own_commit() {
    let repo = Repo::new();
    let (code, stdout, stderr) = repo.check(&["--against", "HEAD"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let last = stdout.lines().last().unwrap();
    assert!(
        last.starts_with("herald check: ok, 2 event(s), 8 snapshot(s)"),
        "{stdout}"
    );
}

#[test]
fn a_property_removed_from_a_closed_backward_event_fails() {
    let repo = Repo::new();
    let mut v1 = repo.read("customer/v2.json");
    v1["additionalProperties"] = Value::Bool(false);
    repo.write("invoice/v1.json", &v1);
    repo.commit("invoice v1");
    let mut v2 = v1.clone();
    v2["properties"]
        .as_object_mut()
        .unwrap()
        .remove("family_name");
    v2["required"]
        .as_array_mut()
        .unwrap()
        .retain(|r| r != "family_name");
    repo.write("invoice/v2.json", &v2);

    let (code, stdout, _) = repo.check(&["--against", "HEAD"]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("event `invoice`"), "{stdout}");
    assert!(
        stdout.contains("version 2 (schemas/invoice/v2.json)"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "error[PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL] at #/properties/family_name"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("under BACKWARD (against version 1"),
        "{stdout}"
    );
    assert!(stdout.contains("hint: "), "{stdout}");
    assert!(
        stdout
            .lines()
            .last()
            .unwrap()
            .starts_with("herald check: 1 violation(s) in 1 of 3 event(s)"),
        "{stdout}"
    );
}

#[test]
fn an_avro_field_added_without_default_fails_but_passes_under_forward() {
    let repo = Repo::new();
    let mut v3 = repo.read("customer/v2.avsc");
    v3["fields"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"name": "email", "type": "string"}));
    repo.write("customer/v3.avsc", &v3);
    let (code, stdout, _) = repo.check(&["--output", "json"]);
    assert_eq!(code, 1, "{stdout}");
    assert_eq!(
        kinds(&stdout),
        vec![(
            "READER_FIELD_MISSING_DEFAULT_VALUE".to_owned(),
            "schemas/customer/v3.avsc".to_owned(),
            3
        )]
    );

    // The same change is fine for a FORWARD event: old readers ignore the new field.
    let config = std::fs::read_to_string(repo.file("herald.toml")).unwrap();
    std::fs::write(
        repo.file("herald.toml"),
        config.replace(
            "[events.customer]\nlevel = \"BACKWARD\"",
            "[events.customer]\nlevel = \"FORWARD\"",
        ),
    )
    .unwrap();
    let (code, stdout, _) = repo.check(&[]);
    assert_eq!(code, 0, "{stdout}");
}

#[test]
fn a_published_snapshot_edited_in_place_fails_and_reformatting_does_not() {
    let repo = Repo::new();
    // Reformatting keeps the same JSON value: not a change.
    let v1 = repo.read("order/v1.json");
    std::fs::write(repo.file("order/v1.json"), v1.to_string()).unwrap();
    let (code, stdout, _) = repo.check(&["--against", "HEAD"]);
    assert_eq!(code, 0, "{stdout}");

    let mut edited = v1.clone();
    edited["description"] = Value::String("edited".to_owned());
    repo.write("order/v1.json", &edited);
    let (code, stdout, _) = repo.check(&["--against", "HEAD"]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("error[PUBLISHED_VERSION_CHANGED] at /description: version 1 of `order` was published at HEAD and has been edited in place"),
        "{stdout}"
    );
    // Without --against nothing says the file was published.
    let (code, _, _) = repo.check(&[]);
    assert_eq!(code, 0);
}

#[test]
fn herald_annotations_are_not_part_of_a_published_snapshot() {
    let repo = Repo::new();
    let mut v1 = repo.read("order/v1.avsc");
    let records = v1.as_array_mut().unwrap();
    assert!(
        records
            .iter()
            .any(|record| record.get("herald.event_type").is_some())
    );
    for record in records.iter_mut() {
        record.as_object_mut().unwrap().remove("herald.event_type");
    }
    repo.write("order/v1.avsc", &v1);
    let (code, stdout, _) = repo.check(&["--against", "HEAD"]);
    assert_eq!(code, 0, "{stdout}");
    // Any other attribute still counts.
    v1[0]["doc"] = Value::String("edited".to_owned());
    repo.write("order/v1.avsc", &v1);
    let (code, stdout, _) = repo.check(&["--against", "HEAD"]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("PUBLISHED_VERSION_CHANGED] at /0/doc"),
        "{stdout}"
    );
}

#[test]
fn a_deleted_published_snapshot_fails() {
    let repo = Repo::new();
    std::fs::remove_file(repo.file("order/v3.avsc")).unwrap();
    let (code, stdout, _) = repo.check(&["--against", "HEAD", "--output", "json"]);
    assert_eq!(code, 1, "{stdout}");
    assert_eq!(
        kinds(&stdout),
        vec![(
            "PUBLISHED_VERSION_DELETED".to_owned(),
            "schemas/order/v3.avsc".to_owned(),
            3
        )]
    );
}

#[test]
fn a_skipped_version_fails() {
    let repo = Repo::new();
    for ext in ["avsc", "json"] {
        std::fs::rename(
            repo.file(&format!("order/v3.{ext}")),
            repo.file(&format!("order/v4.{ext}")),
        )
        .unwrap();
    }
    let (code, stdout, _) = repo.check(&[]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains(
            "error[VERSION_SKIPPED]: version 3 of `order` has no snapshot (order/v3.avsc is missing)"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("version 4 (schemas/order/v4.json)"),
        "{stdout}"
    );
    assert!(
        stdout
            .lines()
            .last()
            .unwrap()
            .starts_with("herald check: 2 violation(s) in 1 of 2 event(s)"),
        "{stdout}"
    );
}

#[test]
fn a_missing_first_version_fails_unless_configured() {
    let repo = Repo::new();
    let config = std::fs::read_to_string(repo.file("herald.toml")).unwrap();
    std::fs::write(
        repo.file("herald.toml"),
        config.replace("first_version = 2", ""),
    )
    .unwrap();
    let (code, stdout, _) = repo.check(&["--output", "json"]);
    assert_eq!(code, 1, "{stdout}");
    let found = kinds(&stdout);
    assert_eq!(found.len(), 2, "{stdout}");
    assert!(
        found
            .iter()
            .all(|(kind, file, version)| kind == "VERSION_SKIPPED"
                && file.starts_with("schemas/customer/v2.")
                && *version == 2)
    );
}

#[test]
fn github_output_prints_workflow_annotations() {
    let repo = Repo::new();
    let mut edited = repo.read("order/v3.json");
    edited["title"] = Value::String("Changed, really: yes".to_owned());
    repo.write("order/v3.json", &edited);
    let (code, stdout, _) = repo.check(&["--against", "HEAD", "--output", "github"]);
    assert_eq!(code, 1, "{stdout}");
    // The annotation carries the line of the offending key in the pretty-printed file.
    let text = std::fs::read_to_string(repo.file("order/v3.json")).unwrap();
    let line = 1 + text
        .lines()
        .position(|l| l.starts_with("  \"title\":"))
        .unwrap();
    let first = stdout.lines().next().unwrap();
    assert!(
        first.starts_with(&format!(
            "::error file=schemas/order/v3.json,line={line},title=herald check%3A PUBLISHED_VERSION_CHANGED::order v3 (PUBLISHED_VERSION_CHANGED): at /title: "
        )),
        "{stdout}"
    );
    assert!(first.contains("%0Ahint: "), "{first}");
    assert_eq!(stdout.lines().count(), 2, "{stdout}");
}

#[test]
fn an_unknown_ref_is_a_usage_error() {
    let repo = Repo::new();
    let (code, _, stderr) = repo.check(&["--against", "no-such-ref"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("`no-such-ref` is not a git commit"),
        "{stderr}"
    );
}

#[test]
fn an_invalid_level_in_the_config_is_a_usage_error() {
    let repo = Repo::new();
    std::fs::write(
        repo.file("herald.toml"),
        "[events.order]\nlevel = \"SIDEWAYS\"\n",
    )
    .unwrap();
    let (code, _, stderr) = repo.check(&[]);
    assert_eq!(code, 2);
    assert!(stderr.contains("herald.toml"), "{stderr}");
    assert!(
        stderr.contains("`events.order.level` is `SIDEWAYS`"),
        "{stderr}"
    );
}

#[test]
fn an_unreachable_registry_is_a_usage_error_naming_the_url() {
    let repo = Repo::new();
    let (code, _, stderr) = repo.check(&["--registry", "http://127.0.0.1:9"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("http://127.0.0.1:9"), "{stderr}");
    assert!(stderr.contains("unreachable"), "{stderr}");
}

#[test]
fn a_missing_directory_is_a_usage_error() {
    let output = Command::new(env!("CARGO_BIN_EXE_herald"))
        .args(["check", "--schemas", "/nonexistent/herald-schemas"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("/nonexistent/herald-schemas"), "{stderr}");
}

#[test]
fn codegen_from_a_snapshot_file_and_its_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("customer.rs");
    let output = Command::new(env!("CARGO_BIN_EXE_herald"))
        .args(["codegen", "--schema"])
        .arg(format!("{SCHEMAS}/customer/v2.json"))
        .args(["--type", "JSON", "-o"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let code = std::fs::read_to_string(&out).unwrap();
    // The event name and version come from the snapshot's path.
    assert!(
        code.contains(
            "#[event(name = \"customer\", version = 2, upcast_json = refuse_older_versions)]\npub struct CustomerRegistered {"
        ),
        "{code}"
    );

    let bad = dir.path().join("v1.avsc");
    std::fs::write(
        &bad,
        r#"{"type":"record","name":"R","fields":[{"name":"v","type":["int","long"]}]}"#,
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_herald"))
        .args(["codegen", "--type", "AVRO", "--schema"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("/fields/0/type/1: branch 1 (long) cannot be told apart"),
        "{stderr}"
    );

    let output = Command::new(env!("CARGO_BIN_EXE_herald"))
        .args(["codegen", "--schema", "x.avsc"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "--schema without --type");
}

#[test]
fn github_annotations_point_at_the_line_of_a_compatibility_violation() {
    let repo = Repo::new();
    let mut v3 = repo.read("customer/v2.avsc");
    v3["fields"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"name": "email", "type": "string"}));
    repo.write("customer/v3.avsc", &v3);
    let (code, stdout, _) = repo.check(&["--output", "json"]);
    assert_eq!(code, 1, "{stdout}");
    let report: Value = serde_json::from_str(stdout.trim()).unwrap();
    let violation = &report["violations"][0];
    let location = violation["location"].as_str().unwrap();
    assert!(location.starts_with("/fields/3"), "{stdout}");
    // The fourth field's opening brace in the pretty-printed file.
    let text = std::fs::read_to_string(repo.file("customer/v3.avsc")).unwrap();
    let email = text.lines().position(|l| l.contains("\"email\"")).unwrap();
    let opening = 1 + text
        .lines()
        .take(email)
        .collect::<Vec<_>>()
        .iter()
        .rposition(|l| l.trim() == "{")
        .unwrap();
    assert_eq!(violation["line"], opening as u64, "{stdout}\n{text}");
    let (_, stdout, _) = repo.check(&["--output", "github"]);
    assert!(
        stdout.starts_with(&format!(
            "::error file=schemas/customer/v3.avsc,line={opening},title="
        )),
        "{stdout}"
    );
}

#[test]
fn a_missing_golden_event_across_a_major_boundary_fails_naming_the_file() {
    let repo = Repo::new();
    let mut v1 = repo.read("order/v1.examples.json");
    v1.as_array_mut()
        .unwrap()
        .retain(|sample| sample["event_type"] != "order.shipped");
    repo.write("order/v1.examples.json", &v1);
    let (code, stdout, _) = repo.check(&[]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("version 1 (schemas/order/v1.examples.json)"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "error[GOLDEN_EVENT_MISSING]: `order.shipped` of version 1 has no golden event, and version 2 is breaking (major 2)"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "hint: add a sample `{\"event_type\": \"order.shipped\", \"payload\": ...}` as version 1 wrote it to schemas/order/v1.examples.json"
        ),
        "{stdout}"
    );
    assert!(
        stdout
            .lines()
            .last()
            .unwrap()
            .starts_with("herald check: 1 violation(s) in 1 of 2 event(s)"),
        "{stdout}"
    );
}

#[test]
fn a_breaking_version_not_declared_breaking_fails_with_both_fixes() {
    let repo = Repo::new();
    // Version 3 as if `breaking` had not been declared: it stays in version 2's major.
    let mut versions = repo.read("order/versions.json");
    versions["3"]["major"] = versions["2"]["major"].clone();
    versions["3"].as_object_mut().unwrap().remove("breaking");
    repo.write("order/versions.json", &versions);
    let (code, stdout, _) = repo.check(&[]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("version 3 (schemas/order/v3.avsc)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("under BACKWARD (against version 2"),
        "{stdout}"
    );
    assert!(
        stdout.contains("hint: make the change compatible under BACKWARD ("),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "or declare version 3 breaking (`#[event(..., breaking = \"why\")]`, recorded as a new major in order/versions.json) and keep an upcaster from the version before it"
        ),
        "{stdout}"
    );
    // Version 2 still is breaking: nothing is reported against version 1.
    assert!(!stdout.contains("against version 1"), "{stdout}");

    // Against the published history, changing a published major is an edit in place.
    let (code, stdout, _) = repo.check(&["--against", "HEAD"]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains(
            "error[PUBLISHED_VERSION_CHANGED] at /3: version 3 of `order` was published at HEAD and its entry in versions.json has been edited in place: its major changed from 3 to 2"
        ),
        "{stdout}"
    );
}

#[test]
fn an_unfetched_base_in_a_shallow_clone_says_how_to_fetch_it() {
    let repo = Repo::new();
    repo.commit("second");
    let clone = tempfile::tempdir().unwrap();
    let status = Command::new("git")
        .args(["clone", "-q", "--depth", "1"])
        .arg(format!("file://{}", repo.path().display()))
        .arg(clone.path().join("work"))
        .status()
        .unwrap();
    assert!(status.success());
    let output = Command::new(env!("CARGO_BIN_EXE_herald"))
        .current_dir(clone.path().join("work"))
        .args(["check", "--schemas", "schemas", "--against", "HEAD~1"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(
            "`HEAD~1` is not in this clone of the repository holding schemas: the clone is shallow"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("git fetch --deepen="), "{stderr}");
    assert!(stderr.contains("fetch-depth: 0"), "{stderr}");
}

const SHIPPED_V1: &str =
    "syntax = \"proto3\";\npackage acme;\n\nmessage Shipped {\n  string id = 1;\n}\n";
const SHIPPED_V2: &str = "syntax = \"proto3\";\npackage acme;\n\nmessage Shipped {\n  string id = 1;\n  int64 weight = 2;\n}\n";

#[test]
fn protobuf_snapshots_are_checked_beside_avro_and_json() {
    let repo = Repo::new();
    let write = |relative: &str, text: &str| {
        let path = repo.file(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write("shipment/v1.proto", SHIPPED_V1);
    write("shipment/v2.proto", SHIPPED_V2);
    let (code, stdout, stderr) = repo.check(&[]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout
            .lines()
            .last()
            .unwrap()
            .starts_with("herald check: ok, 3 event(s), 10 snapshot(s)"),
        "{stdout}"
    );
    repo.commit("shipment published");

    // Comments and layout are not a change to a published .proto; a renamed field is.
    write(
        "shipment/v1.proto",
        "// Shipped.\nsyntax = \"proto3\"; package acme;\nmessage Shipped { string id = 1; }",
    );
    let (code, stdout, _) = repo.check(&["--against", "HEAD"]);
    assert_eq!(code, 0, "{stdout}");
    write(
        "shipment/v1.proto",
        &SHIPPED_V1.replace(" id = 1", " ident = 1"),
    );
    let (code, stdout, _) = repo.check(&["--against", "HEAD", "--output", "json"]);
    assert_eq!(code, 1, "{stdout}");
    assert_eq!(
        kinds(&stdout),
        vec![(
            "PUBLISHED_VERSION_CHANGED".to_owned(),
            "schemas/shipment/v1.proto".to_owned(),
            1
        )]
    );
    write("shipment/v1.proto", SHIPPED_V1);

    // A snapshot that does not compile is reported where it is.
    write(
        "shipment/v3.proto",
        &SHIPPED_V2.replace("int64 weight", "Weight weight"),
    );
    let (code, stdout, _) = repo.check(&["--output", "json"]);
    assert_eq!(code, 1, "{stdout}");
    assert_eq!(
        kinds(&stdout),
        vec![(
            "INVALID_SCHEMA".to_owned(),
            "schemas/shipment/v3.proto".to_owned(),
            3
        )]
    );
    std::fs::remove_file(repo.file("shipment/v3.proto")).unwrap();

    // A field whose type changes wire format breaks BACKWARD.
    write(
        "shipment/v3.proto",
        &SHIPPED_V2.replace("string id = 1", "int64 id = 1"),
    );
    let (code, stdout, _) = repo.check(&["--output", "json"]);
    assert_eq!(code, 1, "{stdout}");
    assert_eq!(
        kinds(&stdout),
        vec![(
            "FIELD_SCALAR_KIND_CHANGED".to_owned(),
            "schemas/shipment/v3.proto".to_owned(),
            3
        )]
    );
    std::fs::remove_file(repo.file("shipment/v3.proto")).unwrap();

    // A gap names the missing .proto file.
    write("shipment/v4.proto", SHIPPED_V2);
    let (code, stdout, _) = repo.check(&[]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("(shipment/v3.proto is missing)"),
        "{stdout}"
    );
}

#[test]
fn codegen_from_a_proto_file_reads_its_imports() {
    let interop = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop/proto");
    let order = format!("{interop}/acme/orders/order.proto");
    let output = Command::new(env!("CARGO_BIN_EXE_herald"))
        .args(["codegen", "--type", "PROTOBUF", "--schema", &order])
        .args(["--proto-path", interop])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for item in [
        "pub mod common",
        "pub struct Money",
        "pub struct Order",
        "::prost_types::Timestamp",
        "(&[1, 0, 2], \"acme.orders.Shipment.Route.Depot\")",
    ] {
        assert!(stdout.contains(item), "no `{item}` in:\n{stdout}");
    }

    // By default imports are read beside the file, where this one's is not.
    let output = Command::new(env!("CARGO_BIN_EXE_herald"))
        .args(["codegen", "--type", "PROTOBUF", "--schema", &order])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("acme/common/money.proto"), "{stderr}");
}
