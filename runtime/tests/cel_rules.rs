//! Herald's CEL rules against Confluent's: each case's schema and `ruleSet` are registered
//! with a real `herald serve`; Confluent's Python serializers (with `use.latest.version`)
//! run their CEL executors on the records, Herald's `contract::cel` runs the same rules on
//! the same records, and both must refuse the same records (with the same message, for a
//! CONDITION) and give the same transformed records.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Stdio};

use herald::contract::cel::{Cause, CelRules, Decision, Schema};
use herald::contract::{Mode, Rule};
use herald_test_support::{ServeSettings, TestDatabase, interop_python};
use serde_json::{Value, json};

/// One subject: a schema with its rules, records, and the indexes of the records the rules
/// refuse (so that agreeing on nothing refused, or everything, is not enough).
struct Case {
    format: &'static str,
    schema: Value,
    rules: Value,
    metadata: Value,
    records: Vec<Value>,
    refused: Vec<usize>,
}

fn avro_order() -> Value {
    json!({
        "type": "record", "name": "Order", "namespace": "com.example",
        "fields": [
            {"name": "id", "type": "string"},
            {"name": "ssn", "type": "string", "confluent:tags": ["PII"]},
            {"name": "note", "type": ["null", "string"], "default": null},
            {"name": "amount", "type": "double"},
            {"name": "quantity", "type": "int"},
            {"name": "address", "type": {"type": "record", "name": "Address", "fields": [
                {"name": "city", "type": "string"},
                {"name": "zip", "type": "string"}
            ]}},
            {"name": "lines", "type": {"type": "array", "items": "string"}},
            {"name": "attributes", "type": {"type": "map", "values": "string"}},
            {"name": "status", "type": {"type": "enum", "name": "Status", "symbols": ["NEW", "PAID"]}}
        ]
    })
}

fn order(id: &str, amount: f64, quantity: i64, city: &str, zip: &str) -> Value {
    json!({
        "id": id, "ssn": "123-45-6789", "note": null, "amount": amount, "quantity": quantity,
        "address": {"city": city, "zip": zip}, "lines": ["book", "gift"],
        "attributes": {"vip": "yes"}, "status": "NEW"
    })
}

fn orders() -> Vec<Value> {
    let mut no_vip = order("o-4", 20.0, 1, "Paris", "75002");
    no_vip["attributes"] = json!({});
    no_vip["lines"] = json!(["book"]);
    no_vip["note"] = json!("leave at the door");
    vec![
        order("o-1", 12.5, 3, "Paris", "75001"),
        order("x-2", 12.5, 3, "Paris", "75001"),
        order("o-3", 2.0, 9, "Lyon", "6900"),
        no_vip,
    ]
}

fn rule(kind: &str, rule_type: &str, expr: &str) -> Value {
    json!({"name": "rule", "kind": kind, "mode": "WRITE", "type": rule_type, "expr": expr})
}

fn avro_condition(expr: &str, refused: &[usize]) -> Case {
    Case {
        format: "AVRO",
        schema: avro_order(),
        rules: json!([rule("CONDITION", "CEL", expr)]),
        metadata: Value::Null,
        records: orders(),
        refused: refused.to_vec(),
    }
}

fn avro_fields(rules: Value, metadata: Value, refused: &[usize]) -> Case {
    Case {
        format: "AVRO",
        schema: avro_order(),
        rules,
        metadata,
        records: orders(),
        refused: refused.to_vec(),
    }
}

fn json_customer() -> Value {
    json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "definitions": {"Address": {"type": "object", "properties": {
            "city": {"type": "string"},
            "zip": {"type": "string", "confluent:tags": ["PII"]}
        }}},
        "properties": {
            "name": {"type": "string"},
            "email": {"type": "string", "confluent:tags": ["PII"]},
            "age": {"type": "integer"},
            "score": {"type": "number"},
            "active": {"type": "boolean"},
            "address": {"$ref": "#/definitions/Address"},
            "nickname": {"type": ["string", "null"]}
        },
        "required": ["name", "email", "age"]
    })
}

fn customers() -> Vec<Value> {
    vec![
        json!({"name": "Ada", "email": "ada@example.com", "age": 36, "score": 9.5, "active": true,
               "address": {"city": "London", "zip": "N1"}, "nickname": null}),
        json!({"name": "Bob", "email": "bob-at-example", "age": 17, "score": 3.25, "active": false,
               "address": {"city": "Leeds", "zip": "LS1"}, "nickname": "bobby"}),
        json!({"name": "Cy", "email": "cy@example.com", "age": 70}),
    ]
}

fn json_case(rules: Value, metadata: Value, refused: &[usize]) -> Case {
    Case {
        format: "JSON",
        schema: json_customer(),
        rules,
        metadata,
        records: customers(),
        refused: refused.to_vec(),
    }
}

fn cases() -> Vec<Case> {
    let mut by_tag = rule("TRANSFORM", "CEL_FIELD", "'***'");
    by_tag["tags"] = json!(["PII"]);
    let mut condition_none = rule("CONDITION", "CEL", "message.amount > 100.0");
    condition_none["onFailure"] = json!("NONE");
    let mut tagged_condition = rule("CONDITION", "CEL_FIELD", "value.contains('@')");
    tagged_condition["tags"] = json!(["EMAIL"]);
    vec![
        // Conditions over the whole message: strings, numbers, nested fields, has(), macros.
        avro_condition("message.id.startsWith('o-')", &[1]),
        avro_condition("message.amount > 10.0 && message.quantity <= 5", &[2]),
        avro_condition(
            "message.address.city == 'Paris' && message.address.zip.matches('^[0-9]{5}$')",
            &[2],
        ),
        avro_condition("has(message.attributes.vip)", &[3]),
        avro_condition("message.lines.exists(l, l == 'gift')", &[3]),
        avro_condition(
            "message.lines.all(l, size(l) >= 4) && size(message.lines) == 2",
            &[3],
        ),
        avro_condition("message.note == null ; message.status == 'NEW'", &[]),
        avro_condition("message.missing == 1", &[0, 1, 2, 3]),
        avro_fields(json!([condition_none]), Value::Null, &[]),
        // Field transforms: by type name, by the schema's tag, by the metadata's tag.
        avro_fields(
            json!([rule(
                "TRANSFORM",
                "CEL_FIELD",
                "typeName == 'STRING' ; value + '|' + fullName"
            )]),
            Value::Null,
            &[],
        ),
        avro_fields(
            json!([rule(
                "TRANSFORM",
                "CEL_FIELD",
                "typeName == 'DOUBLE' ? value * 2.0 : (typeName == 'INT' ? value + 1 : value)"
            )]),
            Value::Null,
            &[],
        ),
        avro_fields(
            json!([by_tag.clone()]),
            json!({"tags": {"com.example.Address.z*": ["PII"]}}),
            &[],
        ),
        avro_fields(
            json!([rule(
                "CONDITION",
                "CEL_FIELD",
                "name == 'zip' ; value.matches('^[0-9]{5}$')"
            )]),
            Value::Null,
            &[2],
        ),
        // JSON Schema: conditions and field rules along `$` paths, through a $ref.
        json_case(
            json!([rule(
                "CONDITION",
                "CEL",
                "message.age >= 18 && message.email.contains('@')"
            )]),
            Value::Null,
            &[1],
        ),
        json_case(
            json!([rule(
                "TRANSFORM",
                "CEL_FIELD",
                "typeName == 'STRING' ; value + '|' + fullName"
            )]),
            Value::Null,
            &[],
        ),
        json_case(json!([by_tag]), Value::Null, &[]),
        json_case(
            json!([tagged_condition]),
            json!({"tags": {"$.email": ["EMAIL"]}}),
            &[1],
        ),
        json_case(
            json!([rule(
                "TRANSFORM",
                "CEL_FIELD",
                "typeName == 'INT' ? value * 10 : (typeName == 'BOOLEAN' ? !value : value)"
            )]),
            Value::Null,
            &[],
        ),
    ]
}

/// What Herald's rules make of `record`: the record, or the error's message.
fn herald(case: &Case, record: &Value) -> Result<Value, String> {
    let rules: Vec<Rule> = serde_json::from_value(case.rules.clone()).unwrap();
    let tags: BTreeMap<String, BTreeSet<String>> =
        serde_json::from_value(case.metadata["tags"].clone()).unwrap_or_default();
    let schema = match case.format {
        "AVRO" => Schema::Avro(&case.schema),
        _ => Schema::Json(&case.schema),
    };
    let compiled = CelRules::compile(&rules, schema, &tags).unwrap();
    match compiled.run(Mode::Write, record.clone()) {
        Decision::Accept(value) => Ok(value),
        Decision::Refuse(refusal) | Decision::DeadLetter(refusal) => Err(match refusal.cause {
            Cause::Condition(message) => message,
            other => other.to_string(),
        }),
    }
}

fn run_python(request: &Value) -> Value {
    let mut child = Command::new(interop_python())
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/interop/cel_rules.py"
        ))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    serde_json::to_writer(child.stdin.take().unwrap(), request).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "cel_rules.py failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cel_rules_give_the_verdicts_and_outputs_of_confluents_python_client() {
    let registry = ServeSettings::new().start_on(TestDatabase::sqlite());
    let cases = cases();
    let mut requests = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let subject = format!("cel-{i}-value");
        let mut body = json!({
            "schema": case.schema.to_string(),
            "ruleSet": {"domainRules": case.rules},
        });
        if case.format != "AVRO" {
            body["schemaType"] = json!(case.format);
        }
        if !case.metadata.is_null() {
            body["metadata"] = case.metadata.clone();
        }
        let (status, answer) = registry
            .post(&format!("/subjects/{subject}/versions"), body)
            .await;
        assert_eq!(status, 200, "{subject}: {answer}");
        requests.push(json!({"subject": subject, "format": case.format, "records": case.records}));
    }
    let answer = tokio::task::spawn_blocking({
        let request = json!({"url": registry.base, "cases": requests});
        move || run_python(&request)
    })
    .await
    .unwrap();
    for (i, (case, results)) in cases
        .iter()
        .zip(answer["cases"].as_array().unwrap())
        .enumerate()
    {
        for (j, (record, python)) in case
            .records
            .iter()
            .zip(results.as_array().unwrap())
            .enumerate()
        {
            let ours = herald(case, record);
            let context = format!("case {i} ({}), record {j}", case.rules);
            assert_eq!(
                python["accepted"].as_bool().unwrap(),
                ours.is_ok(),
                "{context}: Confluent {python}, Herald {ours:?}"
            );
            assert_eq!(
                ours.is_err(),
                case.refused.contains(&j),
                "{context}: expected refused {:?}, Herald {ours:?}",
                case.refused
            );
            match ours {
                Ok(value) => assert_eq!(python["value"], value, "{context}"),
                Err(message) => {
                    let theirs = python["error"].as_str().unwrap();
                    if theirs.starts_with("RuleConditionError") {
                        assert_eq!(
                            theirs,
                            format!("RuleConditionError: {message}"),
                            "{context}"
                        );
                    }
                }
            }
        }
    }
}
