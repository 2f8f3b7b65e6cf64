//! Published schemas are immutable, and committed sample payloads of every version still
//! decode through the upcast chain.

#![allow(clippy::unwrap_used, clippy::panic)] // Tests and benches may unwrap and panic.

use herald::Event;
use herald_example_orders::{CustomerRegistered, OrderEvent, SCHEMAS_DIR};

#[test]
fn order_snapshots_and_golden_events_hold() {
    let done = herald::history::assert_history::<OrderEvent>(SCHEMAS_DIR);
    // Three versions, two files each, all compared (or written on a first run).
    assert_eq!(done.written.len() + done.unchanged.len(), 6);
    assert!(
        done.golden_events >= 8,
        "golden events of versions 1, 2 and 3 are committed"
    );
}

#[test]
fn customer_snapshots_and_golden_events_hold() {
    let done = herald::history::assert_history::<CustomerRegistered>(SCHEMAS_DIR);
    // Only version 2 has a Rust type; version 1 lives on as golden events.
    assert_eq!(done.written.len() + done.unchanged.len(), 2);
    assert!(done.golden_events >= 2);
}

#[test]
fn history_lists_every_version_oldest_first() {
    let history = OrderEvent::history();
    let versions: Vec<u32> = history.iter().map(|v| v.version).collect();
    assert_eq!(versions, [1, 2, 3]);
    assert_eq!(
        history[0].event_types,
        ["order.placed", "order.cancelled", "order.shipped"]
    );
    assert_eq!(
        history[2].event_types,
        [
            "order.placed",
            "order.cancelled",
            "order.shipped",
            "order.delivered"
        ]
    );
    assert_eq!(history[2].upcast, herald::Upcast::TryFrom);
    assert_eq!(history[1].upcast, herald::Upcast::From);
    assert_eq!(history[0].upcast, herald::Upcast::None);
}

#[test]
fn majors_are_recorded_and_a_published_major_cannot_change() {
    use herald::history::{HistoryError, OnMismatch, Problem, check_history_in, read_versions};

    let majors: Vec<(u32, Option<&str>)> = OrderEvent::history()
        .iter()
        .map(|v| (v.major, v.breaking))
        .collect();
    assert_eq!(
        majors,
        [
            (1, None),
            (
                2,
                Some("`items` renamed `lines`, `shipped` merged into `status_changed`")
            ),
            (
                3,
                Some("`status_changed` split into `shipped` and `delivered`")
            ),
        ]
    );
    let committed = read_versions(&std::path::Path::new(SCHEMAS_DIR).join("order")).unwrap();
    let recorded: Vec<(u32, u32)> = committed.iter().map(|(v, e)| (*v, e.major)).collect();
    assert_eq!(recorded, [(1, 1), (2, 2), (3, 3)]);

    // A copy whose versions.json says version 3 is not breaking: the check names it.
    let dir = std::env::temp_dir().join(format!("herald-orders-majors-{}", std::process::id()));
    let folder = dir.join("order");
    std::fs::create_dir_all(&folder).unwrap();
    for entry in std::fs::read_dir(std::path::Path::new(SCHEMAS_DIR).join("order")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), folder.join(entry.file_name())).unwrap();
    }
    let path = folder.join("versions.json");
    let mut versions: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    versions["3"]["major"] = serde_json::json!(2);
    versions["3"].as_object_mut().unwrap().remove("breaking");
    std::fs::write(&path, versions.to_string()).unwrap();
    let Err(HistoryError::Mismatch(problems)) =
        check_history_in::<OrderEvent>(&dir, OnMismatch::Check)
    else {
        panic!("an edited major must fail");
    };
    assert!(
        matches!(&problems[..], [Problem::VersionChanged { version: 3, committed, generated, .. }]
            if committed.major == 2 && generated.major == 3),
        "{problems:?}"
    );
    assert!(
        problems[0].to_string().contains(
            "version 3 is published as major 2, event types [order.placed, order.cancelled, order.shipped, order.delivered], \
             but the code now declares major 3, breaking (\"`status_changed` split into `shipped` and `delivered`\")"
        ),
        "{}",
        problems[0]
    );
    // Overwriting (a version never released) rewrites the entry.
    let done = check_history_in::<OrderEvent>(&dir, OnMismatch::Overwrite).unwrap();
    assert_eq!(done.recorded, [3]);
    assert_eq!(read_versions(&folder).unwrap()[&3].major, 3);
    std::fs::remove_dir_all(&dir).unwrap();
}
