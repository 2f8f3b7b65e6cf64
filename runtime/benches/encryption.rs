//! Field encryption's cost per event: one order-like event (8 fields, 4 nested lines) with
//! one tagged field, encoded with Herald's Avro codec then encrypted by the `ENCRYPT` rule
//! (AES-256-GCM, the DEK cached after the first message), and decrypted then decoded; against
//! encoding and decoding without rules. The DEK comes from a real `herald serve` with the
//! local KMS, fetched once before measuring. The cases run interleaved (see `codec.rs`).
//!
//! `cargo bench -p herald --no-default-features --features contract --bench encryption`

#![allow(clippy::unwrap_used, clippy::panic)] // Benches may unwrap and panic.
#![allow(missing_docs)] // Bench types.

#[path = "support/order.rs"]
mod order;
#[path = "support/report.rs"]
mod report;

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use herald::contract::{Contract, FieldEncryption, LocalKms, Mode};
use herald::registry_client::RegistryClient;
use herald::{Avro, Codec, Event};
use herald_test_support::{ServeSettings, TestDatabase};
use order::{OrderPlaced, order};
use report::{Case, report};
use serde_json::json;

const SECRET: &str = "bench-secret";
const SUBJECT: &str = "orders-value";

/// Polls a future that does not wait (the keys are cached) to its end.
fn ready<T>(future: impl Future<Output = T>) -> T {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(value) => value,
        Poll::Pending => panic!("the future waited"),
    }
}

fn main() {
    if std::env::args().any(|arg| arg == "--list") {
        return;
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let registry = ServeSettings::new()
        .env("HERALD_LOCAL_KMS_SECRET", SECRET)
        .start_on(TestDatabase::sqlite());
    let body = json!({
        "schemaType": "AVRO",
        "schema": OrderPlaced::export_avro_schema().unwrap().to_string(),
        "ruleSet": {"domainRules": [{
            "name": "encrypt-pii", "kind": "TRANSFORM", "mode": "WRITEREAD", "type": "ENCRYPT",
            "tags": ["PII"],
            "params": {"encrypt.kek.name": "bench", "encrypt.kms.type": "local-kms",
                       "encrypt.kms.key.id": "bench"},
        }]},
    });
    let (status, answer) =
        runtime.block_on(registry.post(&format!("/subjects/{SUBJECT}/versions"), body));
    assert_eq!(status, 200, "{answer}");
    let id = answer["id"].as_u64().unwrap() as u32;
    let client = RegistryClient::new(&registry.base).unwrap();
    let encryption = FieldEncryption::new(client.clone()).with_kms(LocalKms::new(SECRET));
    let contract = Contract::new(client).with_executor(encryption);

    let event = order();
    let event_type = event.event_type();
    let plain = Avro::encode(&event).unwrap();
    // The first message creates the KEK and the DEK; later ones find them in the cache.
    let schema = runtime.block_on(contract.schema(id)).unwrap();
    let encrypted = runtime
        .block_on(contract.run_with(Mode::Write, SUBJECT, &schema, plain.clone()))
        .unwrap();
    assert_ne!(encrypted, plain);
    let decrypted = runtime
        .block_on(contract.run_with(Mode::Read, SUBJECT, &schema, encrypted.clone()))
        .unwrap();
    assert_eq!(decrypted, plain);

    let encoders: Vec<(&str, Case<'_>)> = vec![
        (
            "avro",
            Box::new(|| drop(Avro::encode(black_box(&event)).unwrap())),
        ),
        (
            "avro_encrypt",
            Box::new(|| {
                let datum = Avro::encode(black_box(&event)).unwrap();
                drop(ready(contract.run_with(Mode::Write, SUBJECT, &schema, datum)).unwrap())
            }),
        ),
    ];
    let decoders: Vec<(&str, Case<'_>)> = vec![
        (
            "avro",
            Box::new(|| {
                drop(OrderPlaced::decode_with::<Avro>(event_type, 1, black_box(&plain)).unwrap())
            }),
        ),
        (
            "decrypt_avro",
            Box::new(|| {
                let datum = ready(contract.run_with(
                    Mode::Read,
                    SUBJECT,
                    &schema,
                    black_box(&encrypted).clone(),
                ))
                .unwrap();
                drop(OrderPlaced::decode_with::<Avro>(event_type, 1, &datum).unwrap())
            }),
        ),
    ];
    let encode = report("encode", encoders);
    let decode = report("decode", decoders);
    println!("ratios (with the rule / without):");
    for (name, times) in [("encode", &encode), ("decode", &decode)] {
        if let [(_, without), (_, with)] = times.as_slice() {
            println!("  {name}: {:.2}x", with / without);
        }
    }
}
