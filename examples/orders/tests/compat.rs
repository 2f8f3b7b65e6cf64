//! The exported schemas of consecutive versions, checked with Herald's compatibility engine.
//!
//! Herald reads an old payload with the old version's own schema and then upcasts it in
//! Rust, so consecutive versions do not have to be schema-compatible. What must hold is:
//!
//! 1. every exported schema is one the registry accepts;
//! 2. a published version does not change (the snapshot test compares the files exactly;
//!    here the engine checks FULL compatibility between the committed snapshot and what the
//!    code generates, so an accidental edit fails with the engine's report of what broke);
//! 3. every step the engine finds breaking (BACKWARD: the new schema cannot read the old
//!    data) is covered by an upcaster and by golden events of the older version for each of
//!    its event types, which the snapshot test decodes through the chain.

#![allow(clippy::unwrap_used, clippy::panic)] // Tests and benches may unwrap and panic.

use herald::{Event, EventVersion, Upcast};
use herald_example_orders::{OrderEvent, SCHEMAS_DIR};
use herald_registry::schema::{CompatibilityLevel, Report, Schema, SchemaType, check};

fn exported(version: &EventVersion) -> [(SchemaType, Schema); 2] {
    let json = version.json_schema().unwrap().to_string();
    let avro = version.avro_schema().unwrap().to_string();
    [
        (
            SchemaType::Json,
            Schema::parse(SchemaType::Json, &json).unwrap(),
        ),
        (
            SchemaType::Avro,
            Schema::parse(SchemaType::Avro, &avro).unwrap(),
        ),
    ]
}

fn committed(version: u32, schema_type: SchemaType) -> Option<Schema> {
    let extension = match schema_type {
        SchemaType::Json => "json",
        SchemaType::Avro => "avsc",
        SchemaType::Protobuf => "proto",
    };
    let path = format!("{SCHEMAS_DIR}/order/v{version}.{extension}");
    let text = std::fs::read_to_string(path).ok()?;
    Some(Schema::parse(schema_type, &text).unwrap())
}

fn describe(report: &Report) -> String {
    report.messages.join("\n  ")
}

#[test]
fn every_exported_schema_parses_in_the_registry() {
    for version in OrderEvent::history() {
        for (schema_type, schema) in exported(&version) {
            assert_eq!(schema.schema_type(), schema_type);
        }
    }
}

#[test]
fn published_versions_are_fully_compatible_with_their_snapshots() {
    for version in OrderEvent::history() {
        for (schema_type, generated) in exported(&version) {
            let Some(snapshot) = committed(version.version, schema_type) else {
                continue; // Not published yet: the snapshot test writes it.
            };
            let report = check(
                CompatibilityLevel::Full,
                &generated,
                &[(version.version, &snapshot)],
            );
            assert!(
                report.is_compatible,
                "order v{} ({schema_type}) differs from its published snapshot in a breaking way; \
                 make the change in a new version with an upcaster:\n  {}",
                version.version,
                describe(&report)
            );
        }
    }
}

#[test]
fn breaking_steps_are_covered_by_upcasters_and_golden_events() {
    let history = OrderEvent::history();
    for pair in history.windows(2) {
        let (old, new) = (&pair[0], &pair[1]);
        let golden = herald::history::golden_events(SCHEMAS_DIR, "order", old.version).unwrap();
        for ((schema_type, old_schema), (_, new_schema)) in
            exported(old).into_iter().zip(exported(new))
        {
            let report = check(
                CompatibilityLevel::Backward,
                &new_schema,
                &[(old.version, &old_schema)],
            );
            eprintln!(
                "order v{} -> v{} ({schema_type}, BACKWARD): {}",
                old.version,
                new.version,
                if report.is_compatible {
                    "compatible".to_owned()
                } else {
                    describe(&report)
                }
            );
            if report.is_compatible {
                continue;
            }
            assert_ne!(new.upcast, Upcast::None);
            let uncovered: Vec<&str> = old
                .event_types
                .iter()
                .copied()
                .filter(|event_type| !golden.iter().any(|g| g.event_type == *event_type))
                .collect();
            assert!(
                uncovered.is_empty(),
                "order v{} -> v{} is not BACKWARD compatible ({schema_type}):\n  {}\n\
                 the upcaster handles it, but schemas/order/v{}.examples.json has no sample of {:?} \
                 to prove it; add one per event type",
                old.version,
                new.version,
                describe(&report),
                old.version,
                uncovered
            );
        }
    }
}
