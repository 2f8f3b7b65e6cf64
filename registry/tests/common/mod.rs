//! What the registry's tests share beyond `herald-test-support` (which starts `herald serve`
//! and gives each test its database): Confluent's error answers and Avro records.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::Value;

/// Asserts a Confluent error answer.
#[track_caller]
pub fn assert_error(answer: &(u16, Value), status: u16, code: u64) {
    assert_eq!(answer.0, status, "unexpected status, body: {}", answer.1);
    assert_eq!(
        answer.1["error_code"].as_u64(),
        Some(code),
        "unexpected error code, body: {}",
        answer.1
    );
    assert!(answer.1["message"].is_string(), "no message: {}", answer.1);
}

/// An Avro record schema named `name` with string fields `fields`, each without default.
pub fn avro_record(name: &str, fields: &[&str]) -> String {
    let fields: Vec<Value> = fields
        .iter()
        .map(|f| serde_json::json!({"name": f, "type": "string"}))
        .collect();
    serde_json::json!({"type": "record", "name": name, "fields": fields}).to_string()
}
