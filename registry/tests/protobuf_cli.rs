//! `herald compat --type PROTOBUF`: hostile `.proto` files exit with status 2 and a message
//! that says what is wrong (with its line and column where it has one), quickly; a valid pair
//! is checked.

use std::process::Command;
use std::time::{Duration, Instant};

const HERALD: &str = env!("CARGO_BIN_EXE_herald");

fn compat(
    dir: &std::path::Path,
    previous: Option<&str>,
    new: &str,
) -> (Option<i32>, String, Duration) {
    let new_path = dir.join("new.proto");
    std::fs::write(&new_path, new).expect("write schema file");
    let mut command = Command::new(HERALD);
    command.args(["compat", "--type", "PROTOBUF", "--level", "BACKWARD"]);
    if let Some(previous) = previous {
        let path = dir.join("previous.proto");
        std::fs::write(&path, previous).expect("write schema file");
        command.arg("--previous").arg(path);
    }
    let started = Instant::now();
    let output = command.arg(&new_path).output().expect("run herald");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.code(), stderr, started.elapsed())
}

#[test]
fn hostile_proto_files_exit_with_status_two() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let deep =
        "syntax = \"proto3\";\n".to_owned() + &"message A {".repeat(10_000) + &"}".repeat(10_000);
    let mut big = String::from("syntax = \"proto3\";\nmessage Big {\n");
    let mut number = 1;
    while big.len() < 5 << 20 {
        big.push_str(&format!(
            "  string field_with_a_long_name_{number} = {number};\n"
        ));
        number += 1;
    }
    big.push_str("}\n");
    let cases = [
        (
            "unterminated block",
            "syntax = \"proto3\";\nmessage A {\n  int32 a = 1;\n".to_owned(),
            "line 4",
        ),
        ("10,000-deep nesting", deep, "nested more than 100 levels"),
        (
            "import cycle",
            "syntax = \"proto3\";\nimport \"default\";\n".to_owned(),
            "cycle",
        ),
        (
            "unknown import",
            "syntax = \"proto3\";\nimport \"nowhere.proto\";\n".to_owned(),
            "nowhere.proto",
        ),
        ("5 MB file", big, "over the limit"),
    ];
    for (label, text, expected) in cases {
        let (code, stderr, took) = compat(dir.path(), None, &text);
        println!("{label}: exit {code:?} in {took:?}");
        assert_eq!(code, Some(2), "{label}: {stderr}");
        assert!(
            stderr.contains(expected),
            "{label}: expected `{expected}` in {stderr}"
        );
        assert!(took < Duration::from_secs(5), "{label} took {took:?}");
        let (code, _, _) = compat(
            dir.path(),
            Some(&text),
            "syntax = \"proto3\";\nmessage A {}\n",
        );
        assert_eq!(code, Some(2), "{label} as --previous");
    }
}

#[test]
fn a_valid_pair_is_checked() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let v1 = "syntax = \"proto3\";\nimport \"google/type/date.proto\";\nmessage A { int32 a = 1; google.type.Date d = 2; }\n";
    let v2 = "syntax = \"proto3\";\nimport \"google/type/date.proto\";\nmessage A { int32 a = 1; google.type.Date d = 2; string b = 3; }\n";
    let (code, stderr, _) = compat(dir.path(), Some(v1), v2);
    assert_eq!(code, Some(0), "{stderr}");
}
