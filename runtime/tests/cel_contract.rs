//! CEL rules run by Herald's [`Contract`] (what the relay runs on write and the consumer on
//! read), against a real `herald serve`: a schema whose `ruleSet` has a CEL CONDITION, a
//! CEL_FIELD TRANSFORM on `PII` fields (on write) and a CEL TRANSFORM (on read).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use apache_avro::Schema;
use apache_avro::reader::datum::GenericDatumReader;
use apache_avro::types::Value as Avro;
use apache_avro::writer::datum::GenericDatumWriter;
use herald::contract::{Contract, Mode, RuleError};
use herald::registry_client::RegistryClient;
use herald_test_support::{ServeSettings, TestDatabase};
use serde_json::{Value, json};

fn schema() -> Value {
    json!({
        "type": "record", "name": "Order", "namespace": "com.example",
        "fields": [
            {"name": "id", "type": "string"},
            {"name": "ssn", "type": "string", "confluent:tags": ["PII"]},
            {"name": "amount", "type": "double"},
            {"name": "note", "type": ["null", "string"], "default": null}
        ]
    })
}

fn encode(schema: &Schema, id: &str, ssn: &str, amount: f64, note: Option<&str>) -> Vec<u8> {
    let note = match note {
        Some(note) => Avro::Union(1, Box::new(Avro::String(note.into()))),
        None => Avro::Union(0, Box::new(Avro::Null)),
    };
    let record = Avro::Record(vec![
        ("id".into(), Avro::String(id.into())),
        ("ssn".into(), Avro::String(ssn.into())),
        ("amount".into(), Avro::Double(amount)),
        ("note".into(), note),
    ]);
    GenericDatumWriter::builder(schema)
        .build()
        .unwrap()
        .write_value_to_vec(record)
        .unwrap()
}

fn decode(schema: &Schema, datum: &[u8]) -> Value {
    let value = GenericDatumReader::builder(schema)
        .build()
        .unwrap()
        .read_value(&mut &datum[..])
        .unwrap();
    Value::try_from(value).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cel_rules_refuse_and_transform_on_write_and_read() {
    let registry = ServeSettings::new().start_on(TestDatabase::sqlite());
    let subject = "orders-value";
    let body = json!({
        "schemaType": "AVRO",
        "schema": schema().to_string(),
        "ruleSet": {"domainRules": [
            {"name": "positive", "kind": "CONDITION", "mode": "WRITE", "type": "CEL",
             "expr": "message.amount > 0.0"},
            {"name": "mask-pii", "kind": "TRANSFORM", "mode": "WRITE", "type": "CEL_FIELD",
             "tags": ["PII"], "expr": "typeName == 'STRING' ; '***-**-' + value.substring(7)"},
            {"name": "stamp", "kind": "TRANSFORM", "mode": "READ", "type": "CEL",
             "expr": "{'id': message.id, 'ssn': message.ssn, 'amount': message.amount * 2.0, 'note': 'read'}"}
        ]},
    });
    let (status, answer) = registry
        .post(&format!("/subjects/{subject}/versions"), body)
        .await;
    assert_eq!(status, 200, "{answer}");
    let id = answer["id"].as_u64().unwrap() as u32;
    let contract = Contract::new(RegistryClient::new(&registry.base).unwrap());
    let avro = Schema::parse(&schema()).unwrap();

    // Write: the condition refuses a negative amount with Confluent's message.
    let bad = encode(&avro, "o-1", "123-45-6789", -1.0, None);
    let refused = contract.run(Mode::Write, subject, id, bad).await;
    if let Err(error) = &refused {
        assert_eq!(
            error.to_string(),
            "rule `positive`: Rule expr failed: message.amount > 0.0"
        );
    }
    match refused {
        Err(RuleError::Condition { rule, message }) => {
            assert_eq!(rule, "positive");
            assert_eq!(message, "Rule expr failed: message.amount > 0.0");
        }
        other => panic!("not refused: {other:?}"),
    }
    // Write: a message that passes has its PII field masked, the rest unchanged.
    let good = encode(&avro, "o-2", "123-45-6789", 12.5, None);
    let written = contract.run(Mode::Write, subject, id, good).await.unwrap();
    assert_eq!(
        decode(&avro, &written),
        json!({"id": "o-2", "ssn": "***-**-6789", "amount": 12.5, "note": null})
    );
    // Read: only the READ rule runs (the condition would refuse nothing here anyway), and
    // its result fills the union's string branch.
    let read = contract
        .run(Mode::Read, subject, id, written)
        .await
        .unwrap();
    assert_eq!(
        decode(&avro, &read),
        json!({"id": "o-2", "ssn": "***-**-6789", "amount": 25.0, "note": "read"})
    );
    // Read does not run WRITE rules: a negative amount is read back, doubled.
    let negative = encode(&avro, "o-3", "000-00-0000", -1.0, Some("x"));
    let read = contract
        .run(Mode::Read, subject, id, negative)
        .await
        .unwrap();
    assert_eq!(
        decode(&avro, &read),
        json!({"id": "o-3", "ssn": "000-00-0000", "amount": -2.0, "note": "read"})
    );
}
