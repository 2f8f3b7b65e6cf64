//! `herald compat`: the command-line contract (exit codes, output formats) and its behaviour on
//! hostile input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const HERALD: &str = env!("CARGO_BIN_EXE_herald");

struct Files {
    dir: tempfile::TempDir,
}

impl Files {
    fn new() -> Self {
        Files {
            dir: tempfile::tempdir().expect("temporary directory"),
        }
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).expect("write schema file");
        path
    }
}

/// Runs `herald` with `args`, killing it if it runs for more than ten seconds (a hang is a
/// failure, not a wait). Returns the output and how long it ran.
fn herald(args: &[&str]) -> (Output, Duration) {
    let started = Instant::now();
    let mut child = Command::new(HERALD)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn herald");
    loop {
        if child.try_wait().expect("poll herald").is_some() {
            break;
        }
        if started.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            panic!("herald {args:?} still running after 10 s");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let output = child.wait_with_output().expect("collect herald output");
    (output, started.elapsed())
}

fn compat(kind: &str, level: &str, previous: &[&Path], new: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["compat", "--type", kind, "--level", level];
    for p in previous {
        args.push("--previous");
        args.push(p.to_str().expect("utf-8 path"));
    }
    args.push(new.to_str().expect("utf-8 path"));
    args.extend_from_slice(extra);
    herald(&args).0
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

const V1: &str = r#"{"type":"record","name":"Order","fields":[{"name":"id","type":"string"}]}"#;
const V2_DEFAULT: &str = r#"{"type":"record","name":"Order","fields":[
    {"name":"id","type":"string"},{"name":"currency","type":"string","default":"EUR"}]}"#;
const V3_NO_DEFAULT: &str = r#"{"type":"record","name":"Order","fields":[
    {"name":"id","type":"string"},{"name":"currency","type":"string","default":"EUR"},
    {"name":"channel","type":"string"}]}"#;

#[test]
fn compatible_change_exits_zero_with_a_summary() {
    let files = Files::new();
    let v1 = files.write("v1.avsc", V1);
    let v2 = files.write("v2.avsc", V2_DEFAULT);
    let out = compat("AVRO", "BACKWARD", &[&v1], &v2, &[]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.lines()
            .last()
            .unwrap_or("")
            .starts_with("compatible: BACKWARD"),
        "{text}"
    );
}

#[test]
fn incompatible_change_exits_one_and_reports_every_violation_as_json() {
    let files = Files::new();
    let v1 = files.write("v1.avsc", V1);
    let v2 = files.write("v2.avsc", V2_DEFAULT);
    let v3 = files.write("v3.avsc", V3_NO_DEFAULT);
    let out = compat(
        "avro",
        "BACKWARD_TRANSITIVE",
        &[&v1, &v2],
        &v3,
        &["--output", "json"],
    );
    assert_eq!(out.status.code(), Some(1), "stderr: {}", stderr(&out));
    let report: Value = serde_json::from_str(&stdout(&out)).expect("one JSON object");
    assert_eq!(report["is_compatible"], json!(false));
    let violations = report["violations"].as_array().expect("violations array");
    let versions: Vec<_> = violations.iter().map(|v| v["version"].clone()).collect();
    assert_eq!(versions, vec![json!(1), json!(2)], "{report:#}");
    for v in violations {
        assert_eq!(v["kind"], json!("READER_FIELD_MISSING_DEFAULT_VALUE"));
        assert!(
            v["location"].as_str().unwrap_or("").contains("/fields/2"),
            "{v}"
        );
        assert!(v["hint"].as_str().unwrap_or("").contains("channel"), "{v}");
    }
    assert_eq!(report["messages"].as_array().map(Vec::len), Some(2));
}

#[test]
fn non_transitive_level_checks_only_the_latest_version() {
    let files = Files::new();
    let v1 = files.write("v1.avsc", V3_NO_DEFAULT);
    let v2 = files.write("v2.avsc", V1);
    let v3 = files.write("v3.avsc", V2_DEFAULT);
    // Read by v2 (`id` only), v3's data is fine; read by v1, it lacks `channel`, which v1 has
    // no default for. Only the transitive level looks at v1.
    let single = compat("AVRO", "FORWARD", &[&v1, &v2], &v3, &[]);
    assert_eq!(single.status.code(), Some(0), "{}", stdout(&single));
    let transitive = compat("AVRO", "FORWARD_TRANSITIVE", &[&v1, &v2], &v3, &[]);
    assert_eq!(transitive.status.code(), Some(1), "{}", stdout(&transitive));
    assert!(
        stdout(&transitive).contains("version 1"),
        "{}",
        stdout(&transitive)
    );
}

#[test]
fn text_output_names_location_and_hint() {
    let files = Files::new();
    let v1 = files.write(
        "v1.json",
        r#"{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":false}"#,
    );
    let v2 = files.write("v2.json", r#"{"type":"object","properties":{"a":{"type":"string"}},"required":["a","b"],"additionalProperties":false}"#);
    let out = compat("JSON", "BACKWARD", &[&v1], &v2, &[]);
    assert_eq!(out.status.code(), Some(1), "stderr: {}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("#/"), "no JSON pointer in:\n{text}");
    assert!(text.contains("hint:"), "no hint in:\n{text}");
    assert!(
        text.lines()
            .last()
            .unwrap_or("")
            .starts_with("incompatible:"),
        "{text}"
    );
}

/// The exported schemas of the `bank.account` event, versions 1 to 3 (Herald's export shape:
/// an Avro union of one record per variant, a JSON Schema `anyOf` of one titled object per
/// variant).
fn bank_account(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/bank-account")
        .join(file)
}

/// Version 2 renames `euros` to `cents` and adds a required `currency` to `Opened`: the
/// messages must name the field and the event type, for both formats.
#[test]
fn event_schema_violations_name_the_field_and_the_event_type() {
    for (kind, ext) in [("AVRO", "avsc"), ("JSON", "json")] {
        let v1 = bank_account(&format!("v1.{ext}"));
        let v2 = bank_account(&format!("v2.{ext}"));
        let out = compat(kind, "BACKWARD", &[&v1], &v2, &["--output", "json"]);
        assert_eq!(out.status.code(), Some(1), "{kind}: {}", stderr(&out));
        let report: Value = serde_json::from_str(&stdout(&out)).expect("one JSON object");
        let violations = report["violations"].as_array().expect("violations array");
        let naming_currency: Vec<&Value> = violations
            .iter()
            .filter(|v| v["message"].as_str().unwrap_or("").contains("`currency`"))
            .collect();
        assert!(!naming_currency.is_empty(), "{kind}: {report:#}");
        for v in &naming_currency {
            let message = v["message"].as_str().unwrap_or("");
            assert!(message.contains("bank.account.opened"), "{kind}: {v}");
            assert_ne!(v["location"], json!("#/"), "{kind}: {v}");
        }
        let text = stdout(&compat(kind, "BACKWARD", &[&v1], &v2, &[]));
        assert!(
            text.contains("`currency`") && text.contains("bank.account.opened"),
            "{kind}:\n{text}"
        );
    }
    // JSON: the location points into the member of the same title.
    let out = compat(
        "JSON",
        "BACKWARD",
        &[&bank_account("v1.json")],
        &bank_account("v2.json"),
        &["--output", "json"],
    );
    let report: Value = serde_json::from_str(&stdout(&out)).expect("one JSON object");
    let locations: Vec<&str> = report["violations"]
        .as_array()
        .expect("violations array")
        .iter()
        .filter_map(|v| v["location"].as_str())
        .collect();
    assert!(
        locations.contains(&"#/anyOf/0/properties/currency"),
        "{locations:?}"
    );
    // Avro: the union branch that cannot read `Opened` says why, at the reader's path.
    let out = compat(
        "AVRO",
        "BACKWARD",
        &[&bank_account("v1.avsc")],
        &bank_account("v2.avsc"),
        &["--output", "json"],
    );
    let report: Value = serde_json::from_str(&stdout(&out)).expect("one JSON object");
    let first = &report["violations"][0];
    assert_eq!(first["kind"], json!("MISSING_UNION_BRANCH"), "{report:#}");
    let message = first["message"].as_str().unwrap_or("");
    assert!(
        message.contains("field `currency` of record `bank.account.Opened`")
            && message.contains("has no default"),
        "{message}"
    );
}

/// Version 3 renames variant `Closed` to `Terminated`, keeping its event type: it reads
/// version 2 (Avro through no alias, so the record name differs; JSON through the title).
#[test]
fn event_schema_history_version_three() {
    let out = compat(
        "JSON",
        "BACKWARD",
        &[&bank_account("v2.json")],
        &bank_account("v3.json"),
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

#[test]
fn usage_errors_exit_two() {
    let files = Files::new();
    let v1 = files.write("v1.avsc", V1);
    let (out, _) = herald(&[
        "compat",
        "--type",
        "AVRO",
        "--level",
        "SIDEWAYS",
        v1.to_str().unwrap_or(""),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("SIDEWAYS"), "{}", stderr(&out));

    let missing = files.dir.path().join("missing.avsc");
    let out = compat("AVRO", "BACKWARD", &[], &missing, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("missing.avsc"), "{}", stderr(&out));
}

/// Hostile inputs: each must produce an error message and exit status 2, quickly.
#[test]
fn hostile_input_is_rejected_with_status_two() {
    let files = Files::new();
    let deep_array = "[".repeat(10_000) + &"]".repeat(10_000);
    let deep_avro = r#"{"type":"array","items":"#.repeat(10_000) + "\"int\"" + &"}".repeat(10_000);
    let deep_json = r#"{"properties":{"a":"#.repeat(10_000) + "{}" + &"}}".repeat(10_000);
    let big_doc = "x".repeat(5 * 1024 * 1024);
    let big_avro = format!(r#"{{"type":"record","name":"Big","doc":"{big_doc}","fields":[]}}"#);
    let big_json = format!(r#"{{"type":"object","description":"{big_doc}"}}"#);
    let cases: Vec<(&str, &str, String, &str)> = vec![
        ("malformed JSON", "AVRO", r#"{"type": "record", "name": "#.into(), "malformed JSON"),
        ("malformed JSON", "JSON", r#"{"type": "object",, }"#.into(), "malformed JSON"),
        ("union in union", "AVRO", r#"{"type":"record","name":"U","fields":[{"name":"x","type":["null",["int","string"]]}]}"#.into(), "union"),
        ("10,000-deep array", "AVRO", deep_array.clone(), "nested"),
        ("10,000-deep Avro", "AVRO", deep_avro, "nested"),
        ("10,000-deep JSON Schema", "JSON", deep_json, "nested"),
        ("10,000-deep array", "JSON", deep_array, "nested"),
        ("5 MB Avro", "AVRO", big_avro, "bytes"),
        ("5 MB JSON Schema", "JSON", big_json, "bytes"),
        ("$ref cycle", "JSON", r##"{"definitions":{"a":{"$ref":"#/definitions/b"},"b":{"$ref":"#/definitions/a"}},"$ref":"#/definitions/a"}"##.into(), "$ref"),
        ("unknown Avro type", "AVRO", r#"{"type":"record","name":"R","fields":[{"name":"x","type":"integer"}]}"#.into(), "integer"),
        ("invalid JSON Schema keyword value", "JSON", r#"{"type":"object","properties":{"a":{"type":"strin"}}}"#.into(), "#/properties/a"),
    ];
    for (what, kind, text, expected) in cases {
        let bad = files.write("bad.schema", &text);
        let started = Instant::now();
        let out = compat(kind, "BACKWARD", &[], &bad, &[]);
        let elapsed = started.elapsed();
        println!(
            "{what} ({kind}): exit {:?} in {elapsed:?}",
            out.status.code()
        );
        assert_eq!(
            out.status.code(),
            Some(2),
            "{what}: stdout {} stderr {}",
            stdout(&out),
            stderr(&out)
        );
        assert!(
            stderr(&out).contains(expected),
            "{what}: expected `{expected}` in the error, got: {}",
            stderr(&out)
        );
        // And as a previous version: the file is rejected the same way.
        let good = files.write("good.schema", if kind == "AVRO" { V1 } else { "{}" });
        let out = compat(kind, "BACKWARD", &[&bad], &good, &[]);
        assert_eq!(out.status.code(), Some(2), "{what} as --previous");
    }
}
