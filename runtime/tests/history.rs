//! The schema history helper: writes missing schemas, rejects changed ones, rewrites on request,
//! and reports golden events that no longer decode.

#![allow(clippy::unwrap_used, clippy::panic)] // Tests and benches may unwrap and panic.

use std::path::PathBuf;

use herald::Event;
use herald::history::{HistoryError, OnMismatch, Problem, check_history_in};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Event, Serialize, Deserialize, JsonSchema, Debug, PartialEq)]
#[event(name = "parcel", version = 1)]
enum ParcelV1 {
    Sent { parcel_id: String },
}

#[derive(Event, Serialize, Deserialize, JsonSchema, Debug, PartialEq)]
#[event(name = "parcel", version = 2, upcast_from = ParcelV1)]
enum Parcel {
    Sent {
        parcel_id: String,
        weight_grams: u32,
    },
    Lost,
}

impl From<ParcelV1> for Parcel {
    fn from(old: ParcelV1) -> Self {
        match old {
            ParcelV1::Sent { parcel_id } => Parcel::Sent {
                parcel_id,
                weight_grams: 0,
            },
        }
    }
}

fn fresh_dir(test: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("snapshots")
        .join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn snapshots_without_herald_annotations_still_match() {
    let dir = fresh_dir("annotations");
    check_history_in::<Parcel>(&dir, OnMismatch::Check).unwrap();
    // As a snapshot written before Herald annotated variant records with their event type.
    let path = dir.join("parcel").join("v2.avsc");
    let mut schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let mut removed = 0;
    for record in schema.as_array_mut().unwrap() {
        removed += usize::from(
            record
                .as_object_mut()
                .unwrap()
                .remove("herald.event_type")
                .is_some(),
        );
    }
    assert_eq!(removed, 2, "both variant records carried their event type");
    std::fs::write(&path, serde_json::to_string_pretty(&schema).unwrap()).unwrap();
    let checked = check_history_in::<Parcel>(&dir, OnMismatch::Check).unwrap();
    assert!(checked.unchanged.contains(&path), "{checked:?}");
    // The file is left as it was published.
    assert!(
        !std::fs::read_to_string(&path)
            .unwrap()
            .contains("herald.event_type")
    );
}

#[test]
fn missing_snapshots_are_written_then_match() {
    let dir = fresh_dir("written");
    let first = check_history_in::<Parcel>(&dir, OnMismatch::Check).unwrap();
    assert_eq!(first.written.len(), 4);
    for file in ["v1.json", "v1.avsc", "v2.json", "v2.avsc"] {
        assert!(dir.join("parcel").join(file).exists(), "{file}");
    }
    let second = check_history_in::<Parcel>(&dir, OnMismatch::Check).unwrap();
    assert!(second.written.is_empty());
    assert_eq!(second.unchanged.len(), 4);
}

#[test]
fn a_changed_published_snapshot_fails_unless_overwritten() {
    let dir = fresh_dir("changed");
    check_history_in::<Parcel>(&dir, OnMismatch::Check).unwrap();
    // Pretend version 1 was published with an extra field.
    let path = dir.join("parcel/v1.json");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("parcel_id", "parcel_ref")).unwrap();

    let err = check_history_in::<Parcel>(&dir, OnMismatch::Check).unwrap_err();
    let HistoryError::Mismatch(problems) = &err else {
        panic!("expected a mismatch, got {err:?}");
    };
    assert_eq!(problems.len(), 1);
    match &problems[0] {
        Problem::Changed {
            path: changed,
            version,
            differences,
        } => {
            assert_eq!(changed, &path);
            assert_eq!(*version, 1);
            assert!(
                differences.iter().any(|d| d.contains("parcel_ref")),
                "{differences:?}"
            );
        }
        other => panic!("expected Changed, got {other:?}"),
    }
    assert!(err.to_string().contains("HERALD_SNAPSHOTS=overwrite"));

    let rewritten = check_history_in::<Parcel>(&dir, OnMismatch::Overwrite).unwrap();
    assert_eq!(rewritten.written, vec![path]);
    check_history_in::<Parcel>(&dir, OnMismatch::Check).unwrap();
}

#[test]
fn golden_events_that_no_longer_decode_are_reported_with_file_and_sample() {
    let dir = fresh_dir("golden");
    std::fs::create_dir_all(dir.join("parcel")).unwrap();
    let examples = dir.join("parcel/v1.examples.json");
    std::fs::write(
        &examples,
        r#"[
            {"event_type": "parcel.sent", "payload": {"parcel_id": "p-1"},
             "expect": {"event_type": "parcel.sent", "payload": {"parcel_id": "p-1", "weight_grams": 0}}},
            {"event_type": "parcel.sent", "payload": {"parcel": "p-2"}},
            {"event_type": "parcel.lost", "payload": {}},
            {"event_type": "parcel.sent", "payload": {"parcel_id": "p-3"},
             "expect": {"event_type": "parcel.sent", "payload": {"parcel_id": "p-3", "weight_grams": 7}}}
        ]"#,
    )
    .unwrap();
    let err = check_history_in::<Parcel>(&dir, OnMismatch::Check).unwrap_err();
    let HistoryError::Mismatch(problems) = &err else {
        panic!("expected a mismatch, got {err:?}");
    };
    let failed: Vec<(usize, &str)> = problems
        .iter()
        .map(|problem| match problem {
            Problem::Golden {
                path,
                index,
                event_type,
                ..
            } => {
                assert_eq!(path, &examples);
                (*index, event_type.as_str())
            }
            other => panic!("expected Golden, got {other:?}"),
        })
        .collect();
    // Sample 1 lacks `parcel_id`, `parcel.lost` is no v1 event type, sample 3 decodes to
    // something else than it expects.
    assert_eq!(
        failed,
        [(1, "parcel.sent"), (2, "parcel.lost"), (3, "parcel.sent")]
    );
    let message = err.to_string();
    assert!(message.contains("v1.examples.json"), "{message}");
    assert!(message.contains("parcel_id"), "{message}");
}

#[test]
fn a_snapshot_newer_than_the_code_is_reported() {
    let dir = fresh_dir("newer");
    std::fs::create_dir_all(dir.join("parcel")).unwrap();
    std::fs::write(dir.join("parcel/v3.json"), "{}").unwrap();
    let err = check_history_in::<Parcel>(&dir, OnMismatch::Check).unwrap_err();
    assert!(
        matches!(&err, HistoryError::Mismatch(problems) if matches!(problems.as_slice(), [Problem::Unknown { .. }])),
        "{err:?}"
    );
}
