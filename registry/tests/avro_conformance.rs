//! Agreement with the Apache Avro project's own reader/writer compatibility checker on 300
//! mutated record pairs (`tests/conformance/avro/reference-checker-cases.json` at the top of the repository).
//!
//! Every disagreement must be listed, with a reason, in `conformance-exceptions-avro.md`
//! beside this file; the test fails on an unlisted disagreement and on a listed case that now
//! agrees, so the list stays exact.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeSet;

use herald_registry::schema::{CompatibilityLevel, Schema, SchemaType, check};
use serde_json::Value;

const CASES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/conformance/avro/reference-checker-cases.json"
);
const EXCEPTIONS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/conformance-exceptions-avro.md"
);

/// `(case id, direction)` pairs listed in the exceptions file: table rows such as
/// `| 0123 | backward | reason |`.
fn listed_exceptions() -> BTreeSet<(String, String)> {
    let text = std::fs::read_to_string(EXCEPTIONS).unwrap();
    text.lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line
                .trim()
                .trim_matches('|')
                .split('|')
                .map(str::trim)
                .collect();
            match cells.as_slice() {
                [case, direction, ..]
                    if case.len() == 4
                        && case.chars().all(|c| c.is_ascii_digit())
                        && matches!(*direction, "backward" | "forward") =>
                {
                    Some((case.to_string(), direction.to_string()))
                }
                _ => None,
            }
        })
        .collect()
}

#[test]
fn agrees_with_the_reference_checker() {
    let cases: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(CASES).unwrap()).unwrap();
    assert_eq!(cases.len(), 300);
    let listed = listed_exceptions();
    let mut disagreements = BTreeSet::new();
    let mut agree = [0usize; 2];
    for case in &cases {
        let id = case["case"].as_str().unwrap().to_owned();
        let parsed = Schema::parse(SchemaType::Avro, &case["old"].to_string()).and_then(|old| {
            Schema::parse(SchemaType::Avro, &case["new"].to_string()).map(|new| (old, new))
        });
        // A schema Herald rejects gets no verdict: a disagreement in both directions.
        let (old, new) = match parsed {
            Ok(pair) => pair,
            Err(err) => {
                eprintln!("case {id} ({}): schema rejected: {err}", case["mutation"]);
                disagreements.insert((id.clone(), "backward".to_owned()));
                disagreements.insert((id, "forward".to_owned()));
                continue;
            }
        };
        let previous = [(1, &old)];
        for (slot, (direction, level)) in [
            ("backward", CompatibilityLevel::Backward),
            ("forward", CompatibilityLevel::Forward),
        ]
        .into_iter()
        .enumerate()
        {
            let expected = case[direction].as_bool().unwrap();
            let report = check(level, &new, &previous);
            if report.is_compatible == expected {
                agree[slot] += 1;
            } else {
                eprintln!(
                    "case {id} ({}) {direction}: reference says {expected}, Herald says {}: {:?}",
                    case["mutation"], report.is_compatible, report.messages
                );
                disagreements.insert((id.clone(), direction.to_owned()));
            }
        }
    }
    for (slot, direction) in ["backward", "forward"].into_iter().enumerate() {
        println!(
            "avro {direction}: {}/{} ({:.1}%)",
            agree[slot],
            cases.len(),
            100.0 * agree[slot] as f64 / cases.len() as f64
        );
    }
    let unlisted: Vec<_> = disagreements.difference(&listed).collect();
    let stale: Vec<_> = listed.difference(&disagreements).collect();
    assert!(
        unlisted.is_empty(),
        "disagreements not in the exceptions file: {unlisted:?}"
    );
    assert!(
        stale.is_empty(),
        "listed exceptions that now agree: {stale:?}"
    );
    for count in agree {
        assert!(count * 100 >= cases.len() * 99, "agreement below 99%");
    }
}
