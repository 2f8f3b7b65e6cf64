//! Agreement with Confluent Schema Registry's own Protobuf diff test cases.
//!
//! For every case in `tests/conformance/confluent-protobuf/diff-schema-examples.json` (at the
//! top of the repository), the BACKWARD verdict (no incompatible difference from the
//! original to the update) is compared with Confluent's `compatible`, and the set of
//! [`protobuf_differences`] (rendered `KIND #/path`) with Confluent's `changes`. Remaining
//! disagreements must be listed, with their reason, in `conformance-exceptions-protobuf.md`;
//! the test fails on an unlisted disagreement and on a listed one that now agrees.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod protobuf_compile;

use std::collections::{BTreeSet, HashMap};

use herald_registry::schema::protobuf_differences;
use prost_reflect::FileDescriptor;
use serde_json::Value;

const DATA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/conformance/confluent-protobuf/diff-schema-examples.json"
);
const FILE: &str = "diff-schema-examples.json";
const EXCEPTIONS: &str = include_str!("conformance-exceptions-protobuf.md");
/// Minimum agreement, in cases out of 54.
const VERDICT_TARGET: usize = 53;
const CHANGES_TARGET: usize = 50;

/// `(case index, aspect)` → reason, from the exceptions table.
fn listed_exceptions() -> HashMap<(usize, String), String> {
    let mut listed = HashMap::new();
    for line in EXCEPTIONS.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // | file | case | aspect | description | what differs | reason |
        if cells.len() < 8 || cells[1] != FILE {
            continue;
        }
        let index: usize = cells[2].parse().expect("case index in exceptions table");
        listed.insert((index, cells[3].to_owned()), cells[6].to_owned());
    }
    listed
}

/// The `original` or `update` side of a case, compiled with its dependencies.
fn compile(case: &Value, side: &str) -> Result<FileDescriptor, protox::Error> {
    let dependencies: Vec<(&str, &str)> = case[format!("{side}_dependencies")]
        .as_array()
        .map(|deps| {
            deps.iter()
                .map(|dep| {
                    let name = dep["name"].as_str().expect("dependency name");
                    let text = dep["dependency"].as_str().expect("dependency text");
                    (name, text)
                })
                .collect()
        })
        .unwrap_or_default();
    let text = case[format!("{side}_schema")]
        .as_str()
        .expect("schema text");
    protobuf_compile::compile(text, &dependencies)
}

#[test]
fn agrees_with_confluent_protobuf_cases() {
    let listed = listed_exceptions();
    let text = std::fs::read_to_string(DATA).unwrap_or_else(|err| panic!("{DATA}: {err}"));
    let cases: Vec<Value> =
        serde_json::from_str(&text).unwrap_or_else(|err| panic!("{DATA}: {err}"));
    assert_eq!(cases.len(), 54, "{DATA} should hold Confluent's 54 cases");
    let mut unexplained = Vec::new();
    let mut visited = BTreeSet::new();
    let (mut verdicts, mut changes) = (0, 0);
    for (index, case) in cases.iter().enumerate() {
        let description = case["description"].as_str().unwrap_or_default();
        let expected_compatible = case["compatible"].as_bool().expect("compatible");
        let expected: BTreeSet<String> = case["changes"]
            .as_array()
            .expect("changes")
            .iter()
            .map(|change| change.as_str().expect("change").to_owned())
            .collect();
        let mut record = |aspect: &str, agrees: bool, detail: String| {
            let key = (index, aspect.to_owned());
            let listed_here = listed.contains_key(&key);
            visited.insert(key);
            match (agrees, listed_here) {
                (true, true) => unexplained.push(format!(
                    "#{index} ({description}): listed as a {aspect} exception but now agrees"
                )),
                (false, false) => unexplained.push(format!(
                    "#{index} ({description}): {aspect} disagrees: {detail}"
                )),
                (false, true) | (true, false) => {}
            }
        };
        let (original, update) = match (compile(case, "original"), compile(case, "update")) {
            (Ok(original), Ok(update)) => (original, update),
            (original, update) => {
                let detail = format!(
                    "does not compile: original {:?}, update {:?}",
                    original.err(),
                    update.err()
                );
                record("verdict", false, detail.clone());
                record("changes", false, detail);
                continue;
            }
        };
        let found = protobuf_differences(&original, &update);
        let compatible = found.iter().all(|difference| difference.compatible);
        let verdict_agrees = compatible == expected_compatible;
        verdicts += usize::from(verdict_agrees);
        record(
            "verdict",
            verdict_agrees,
            format!("expected compatible={expected_compatible}, got {compatible}"),
        );
        let actual: BTreeSet<String> = found.iter().map(ToString::to_string).collect();
        let changes_agree = actual == expected;
        changes += usize::from(changes_agree);
        record(
            "changes",
            changes_agree,
            format!("expected {expected:?}, got {actual:?}"),
        );
    }
    println!(
        "{FILE}: verdict {verdicts}/{}, changes {changes}/{}",
        cases.len(),
        cases.len()
    );
    for (key, reason) in &listed {
        if !visited.contains(key) {
            unexplained.push(format!(
                "listed exception {key:?} matches no case ({reason})"
            ));
        }
    }
    assert!(
        unexplained.is_empty(),
        "conformance drift:\n{}",
        unexplained.join("\n")
    );
    assert!(
        verdicts >= VERDICT_TARGET,
        "verdict agreement {verdicts}/54"
    );
    assert!(changes >= CHANGES_TARGET, "changes agreement {changes}/54");
}
