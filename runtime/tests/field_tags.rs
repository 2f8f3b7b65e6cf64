//! Field tags from `#[event(tags(...))]`: where the exported schemas carry them, and that a
//! tag added to a published version is a change the snapshot check reports.

#![allow(clippy::unwrap_used, clippy::panic)] // Tests may unwrap and panic.

use std::path::PathBuf;

use herald::Event;
use herald::history::{HistoryError, OnMismatch, Problem, check_history_in};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

mod untagged {
    use super::*;

    #[derive(Event, Serialize, Deserialize, JsonSchema, Debug, PartialEq)]
    #[event(name = "customer", version = 1)]
    pub enum Customer {
        Registered {
            customer_id: String,
            #[serde(rename = "mail")]
            email: String,
            phone: Option<String>,
        },
        Forgotten {
            customer_id: String,
        },
    }
}

#[derive(Event, Serialize, Deserialize, JsonSchema, Debug, PartialEq)]
#[event(name = "customer", version = 1)]
enum Customer {
    Registered {
        customer_id: String,
        #[event(tags("PII"))]
        #[serde(rename = "mail")]
        email: String,
        #[event(tags("PII", "GDPR"))]
        phone: Option<String>,
    },
    Forgotten {
        customer_id: String,
    },
}

#[test]
fn tags_are_on_the_avro_fields_and_json_properties() {
    let avro = Customer::export_avro_schema().unwrap();
    let fields = &avro[0]["fields"];
    assert_eq!(fields[0]["name"], "customer_id");
    assert!(fields[0].get("confluent:tags").is_none());
    assert_eq!(fields[1]["name"], "mail");
    assert_eq!(fields[1]["confluent:tags"], json!(["PII"]));
    assert_eq!(fields[2]["name"], "phone");
    assert_eq!(fields[2]["confluent:tags"], json!(["PII", "GDPR"]));
    assert!(avro[1]["fields"][0].get("confluent:tags").is_none());
    // apache-avro keeps them as the field's custom attributes.
    let parsed = apache_avro::Schema::parse(&avro).unwrap();
    let apache_avro::Schema::Union(union) = parsed else {
        panic!("{parsed:?}")
    };
    let apache_avro::Schema::Record(record) = &union.variants()[0] else {
        panic!()
    };
    assert_eq!(
        record.fields[1].custom_attributes["confluent:tags"],
        json!(["PII"])
    );

    let schema = Customer::export_json_schema().unwrap();
    let registered = &schema["anyOf"][0]["properties"];
    assert_eq!(registered["mail"]["confluent:tags"], json!(["PII"]));
    assert_eq!(
        registered["phone"]["confluent:tags"],
        json!(["PII", "GDPR"])
    );
    assert!(registered["customer_id"].get("confluent:tags").is_none());

    // The tags change neither the encoding nor the decoding.
    let event = Customer::Registered {
        customer_id: "c-1".into(),
        email: "ada@example.com".into(),
        phone: None,
    };
    let encoded = event.encode_with::<herald::Avro>().unwrap();
    let back = Customer::decode_with::<herald::Avro>(encoded.event_type, 1, &encoded.payload);
    assert_eq!(back.unwrap(), event);
}

#[test]
fn a_tag_added_to_a_published_version_is_a_change() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("snapshots/field_tags");
    let _ = std::fs::remove_dir_all(&dir);
    check_history_in::<untagged::Customer>(&dir, OnMismatch::Check).unwrap();
    let error = check_history_in::<Customer>(&dir, OnMismatch::Check).unwrap_err();
    let HistoryError::Mismatch(problems) = error else {
        panic!("{error:?}")
    };
    let changed: Vec<&Problem> = problems
        .iter()
        .filter(|p| matches!(p, Problem::Changed { .. }))
        .collect();
    assert_eq!(changed.len(), 2, "{problems:?}");
}
