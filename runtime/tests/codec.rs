//! Payload mapping of the codecs: unit, newtype and struct variants, struct events, and
//! serde renames, in JSON and Avro.

#![allow(clippy::unwrap_used, clippy::panic)] // Tests and benches may unwrap and panic.

use herald::{Avro, Event, Json};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, JsonSchema, Debug, PartialEq, Clone)]
struct Address {
    street: String,
    zip: Option<String>,
}

#[derive(Event, Serialize, Deserialize, JsonSchema, Debug, PartialEq, Clone)]
#[event(name = "account", version = 1)]
#[serde(rename_all = "camelCase")]
enum Account {
    Opened {
        #[serde(rename = "accountId")]
        account_id: String,
        tags: Vec<String>,
    },
    Moved(Address),
    Closed,
}

#[derive(Event, Serialize, Deserialize, JsonSchema, Debug, PartialEq, Clone)]
#[event(name = "ping", version = 1)]
struct Ping {
    sequence: i64,
}

fn samples() -> Vec<Account> {
    vec![
        Account::Opened {
            account_id: "a".into(),
            tags: vec!["x".into()],
        },
        Account::Moved(Address {
            street: "Main".into(),
            zip: None,
        }),
        Account::Moved(Address {
            street: "Side".into(),
            zip: Some("123".into()),
        }),
        Account::Closed,
    ]
}

#[test]
fn json_payload_is_the_variant_content_only() {
    let payloads: Vec<(&str, String)> = samples()
        .iter()
        .map(|event| {
            let encoded = event.encode().unwrap();
            (
                encoded.event_type,
                String::from_utf8(encoded.payload).unwrap(),
            )
        })
        .collect();
    assert_eq!(
        payloads,
        [
            (
                "account.opened",
                r#"{"accountId":"a","tags":["x"]}"#.to_owned()
            ),
            (
                "account.moved",
                r#"{"street":"Main","zip":null}"#.to_owned()
            ),
            (
                "account.moved",
                r#"{"street":"Side","zip":"123"}"#.to_owned()
            ),
            ("account.closed", "{}".to_owned()),
        ]
    );
}

#[test]
fn every_variant_round_trips_in_both_codecs() {
    for event in samples() {
        let json = event.encode_with::<Json>().unwrap();
        assert_eq!(
            Account::decode_with::<Json>(json.event_type, 1, &json.payload).unwrap(),
            event
        );
        let avro = event.encode_with::<Avro>().unwrap();
        assert_eq!(
            Account::decode_with::<Avro>(avro.event_type, 1, &avro.payload).unwrap(),
            event
        );
    }
}

#[test]
fn struct_events_have_one_event_type_and_a_record_schema() {
    assert_eq!(Ping::EVENT_TYPES, ["ping"]);
    let ping = Ping { sequence: -4 };
    let encoded = ping.encode().unwrap();
    assert_eq!(encoded.event_type, "ping");
    assert_eq!(encoded.payload, br#"{"sequence":-4}"#);
    let avro = ping.encode_with::<Avro>().unwrap();
    assert_eq!(
        Ping::decode_with::<Avro>("ping", 1, &avro.payload).unwrap(),
        ping
    );
    let schema = Ping::export_avro_schema().unwrap();
    assert_eq!(schema["type"], "record");
    assert_eq!(schema["name"], "Ping");
    assert_eq!(schema["namespace"], "ping");
}

#[test]
fn avro_schema_is_a_union_of_records_named_after_variants() {
    let schema = Account::export_avro_schema().unwrap();
    let names: Vec<&str> = schema
        .as_array()
        .unwrap()
        .iter()
        .map(|record| record["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Opened", "Moved", "Closed"]);
    // The optional zip becomes a nullable union with a null default.
    let zip = &schema[1]["fields"][1];
    assert_eq!(zip["name"], "zip");
    assert_eq!(zip["type"], serde_json::json!(["null", "string"]));
    assert_eq!(zip["default"], serde_json::Value::Null);
    apache_avro::Schema::parse(&schema).unwrap();
}

#[test]
fn json_schema_has_one_titled_branch_per_event_type() {
    let schema = Account::export_json_schema().unwrap();
    let titles: Vec<&str> = schema["anyOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|branch| branch["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, Account::EVENT_TYPES);
    assert_eq!(schema["title"], "account");
    assert!(schema["anyOf"][0]["properties"]["accountId"].is_object());
}

#[test]
fn truncated_or_padded_avro_payloads_are_errors() {
    let avro = samples()[0].encode_with::<Avro>().unwrap();
    let mut padded = avro.payload.clone();
    padded.push(0);
    assert!(Account::decode_with::<Avro>("account.opened", 1, &padded).is_err());
    let truncated = &avro.payload[..avro.payload.len() - 1];
    assert!(Account::decode_with::<Avro>("account.opened", 1, truncated).is_err());
}
