//! Agreement with Confluent Schema Registry's own JSON Schema diff test cases.
//!
//! For every case in `tests/conformance/confluent-json-schema/` (at the top of the repository), the BACKWARD verdict of
//! [`check`] is compared with Confluent's `compatible`, and the set of
//! [`json_differences`] (rendered `KIND #/pointer`) with Confluent's `changes`. Remaining
//! disagreements must be listed, with their reason, in `conformance-exceptions-json.md`;
//! the test fails on an unlisted disagreement and on a listed one that now agrees.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeSet, HashMap};

use herald_registry::schema::{CompatibilityLevel, Schema, SchemaType, check, json_differences};
use serde_json::Value;

const DATA_DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/conformance/confluent-json-schema"
);
const EXCEPTIONS: &str = include_str!("conformance-exceptions-json.md");
const FILES: [&str; 4] = [
    "diff-schema-examples.json",
    "diff-combined-schema-examples.json",
    "diff-schema-examples-2020-12.json",
    "diff-combined-schema-examples-2020-12.json",
];
/// Minimum agreement per file, in percent.
const VERDICT_TARGET: f64 = 98.0;
const CHANGES_TARGET: f64 = 90.0;

/// Removes a comma that stands (after optional whitespace) before `}` or `]`, outside
/// strings: Confluent reads the 2020-12 files with a lenient parser.
fn strip_trailing_commas(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let (mut in_string, mut escaped) = (false, false);
    for (index, &c) in chars.iter().enumerate() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
        } else if c == '"' {
            in_string = true;
        } else if c == ',' {
            let next = chars[index + 1..].iter().find(|c| !c.is_whitespace());
            if matches!(next, Some('}') | Some(']')) {
                continue;
            }
        }
        out.push(c);
    }
    out
}

/// `(file, case index, aspect)` → reason, from the exceptions table.
fn listed_exceptions() -> HashMap<(String, usize, String), String> {
    let mut listed = HashMap::new();
    for line in EXCEPTIONS.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // | file | case | aspect | description | what differs | reason |
        if cells.len() < 8 || !cells[1].ends_with(".json") {
            continue;
        }
        let index: usize = cells[2].parse().expect("case index in exceptions table");
        listed.insert(
            (cells[1].to_owned(), index, cells[3].to_owned()),
            cells[6].to_owned(),
        );
    }
    listed
}

#[derive(Default)]
struct Tally {
    cases: usize,
    verdicts: usize,
    changes: usize,
    rejected: usize,
}

fn percent(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        100.0
    } else {
        100.0 * part as f64 / whole as f64
    }
}

#[test]
fn agrees_with_confluent_json_schema_cases() {
    let listed = listed_exceptions();
    let mut unexplained = Vec::new();
    let mut visited = BTreeSet::new();
    let mut summary = Vec::new();
    for file in FILES {
        let path = format!("{DATA_DIR}/{file}");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{path}: {err}"));
        let cases: Vec<Value> = serde_json::from_str(&strip_trailing_commas(&text))
            .unwrap_or_else(|err| panic!("{path}: {err}"));
        let mut tally = Tally::default();
        for (index, case) in cases.iter().enumerate() {
            tally.cases += 1;
            let description = case["description"].as_str().unwrap_or_default();
            let expected_compatible = case["compatible"].as_bool().expect("compatible");
            let expected: BTreeSet<String> = case["changes"]
                .as_array()
                .expect("changes")
                .iter()
                .map(|change| change.as_str().expect("change").to_owned())
                .collect();
            let mut record = |aspect: &str, agrees: bool, detail: String| {
                let key = (file.to_owned(), index, aspect.to_owned());
                let listed_here = listed.contains_key(&key);
                visited.insert(key);
                match (agrees, listed_here) {
                    (true, true) => unexplained.push(format!(
                        "{file} #{index} ({description}): listed as a {aspect} exception but now agrees"
                    )),
                    (false, false) => unexplained.push(format!(
                        "{file} #{index} ({description}): {aspect} disagrees: {detail}"
                    )),
                    (false, true) | (true, false) => {}
                }
            };
            let parse = |key: &str| Schema::parse(SchemaType::Json, &case[key].to_string());
            let (original, update) = match (parse("original_schema"), parse("update_schema")) {
                (Ok(original), Ok(update)) => (original, update),
                (original, update) => {
                    tally.rejected += 1;
                    let detail = format!(
                        "rejected by meta-validation: original {:?}, update {:?}",
                        original.err(),
                        update.err()
                    );
                    record("verdict", false, detail.clone());
                    record("changes", false, detail);
                    continue;
                }
            };
            let report = check(CompatibilityLevel::Backward, &update, &[(1, &original)]);
            let verdict_agrees = report.is_compatible == expected_compatible;
            tally.verdicts += usize::from(verdict_agrees);
            record(
                "verdict",
                verdict_agrees,
                format!(
                    "expected compatible={expected_compatible}, got {} ({:?})",
                    report.is_compatible, report.messages
                ),
            );
            let actual: BTreeSet<String> = json_differences(&original, &update)
                .iter()
                .map(ToString::to_string)
                .collect();
            let changes_agree = actual == expected;
            tally.changes += usize::from(changes_agree);
            record(
                "changes",
                changes_agree,
                format!("expected {expected:?}, got {actual:?}"),
            );
        }
        let (verdict, changes) = (
            percent(tally.verdicts, tally.cases),
            percent(tally.changes, tally.cases),
        );
        println!(
            "{file}: verdict {}/{} ({verdict:.1}%), changes {}/{} ({changes:.1}%), rejected by meta-validation {}",
            tally.verdicts, tally.cases, tally.changes, tally.cases, tally.rejected
        );
        summary.push((file, verdict, changes));
    }
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
    for (file, verdict, changes) in summary {
        assert!(
            verdict >= VERDICT_TARGET,
            "{file}: verdict agreement {verdict:.1}%"
        );
        assert!(
            changes >= CHANGES_TARGET,
            "{file}: changes agreement {changes:.1}%"
        );
    }
}

#[test]
fn trailing_commas_are_stripped_outside_strings_only() {
    let text = r#"{"a": [1, 2, ], "b": ",}", }"#;
    let value: Value = serde_json::from_str(&strip_trailing_commas(text)).unwrap();
    assert_eq!(value["a"], serde_json::json!([1, 2]));
    assert_eq!(value["b"], ",}");
}
