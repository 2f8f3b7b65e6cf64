//! CEL rules per message, Herald's `contract::cel` against Confluent's Python client: a CEL
//! CONDITION over the whole message (a number, a nested string, an `exists` over a list) and
//! a CEL_FIELD TRANSFORM masking the fields tagged PII, on one order-like Avro record. Herald
//! runs `CelRules::run` (the JSON message bound as CEL values, the rule evaluated, its action
//! decided; the message cloned for each run, as `run` takes it by value); Python runs each
//! rule through its executor's `transform`, as its serializers call it
//! (`tests/interop/cel_bench.py`, with the interop virtualenv). Prints nanoseconds per message,
//! the ratio, and the machine's load.
//!
//! `cargo bench -p herald --features rules --bench cel`

#![allow(clippy::unwrap_used, clippy::panic)] // Benches may unwrap and panic.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::process::{Command, Stdio};
use std::time::Instant;

use herald::contract::cel::{CelRules, Decision, Schema};
use herald::contract::{Mode, Rule};
use serde_json::{Value, json};

const ITERATIONS: usize = 20_000;
const PYTHON_ITERATIONS: usize = 2_000;

fn main() {
    let schema = json!({
        "type": "record", "name": "Order", "namespace": "com.example",
        "fields": [
            {"name": "id", "type": "string"},
            {"name": "customer", "type": "string"},
            {"name": "ssn", "type": "string", "confluent:tags": ["PII"]},
            {"name": "email", "type": "string", "confluent:tags": ["PII"]},
            {"name": "amount", "type": "double"},
            {"name": "quantity", "type": "int"},
            {"name": "note", "type": ["null", "string"], "default": null},
            {"name": "address", "type": {"type": "record", "name": "Address", "fields": [
                {"name": "street", "type": "string"},
                {"name": "city", "type": "string"},
                {"name": "zip", "type": "string"}
            ]}},
            {"name": "lines", "type": {"type": "array", "items": "string"}}
        ]
    });
    let message = json!({
        "id": "order-00012345", "customer": "customer-0042", "ssn": "***", "email": "***",
        "amount": 129.96, "quantity": 4, "note": null,
        "address": {"street": "1 rue de Rivoli", "city": "Paris", "zip": "75001"},
        "lines": ["book", "pen", "gift", "card"]
    });
    let rules = json!({
        "condition": {"name": "c", "kind": "CONDITION", "mode": "WRITE", "type": "CEL",
            "expr": "message.amount > 10.0 && message.address.city == 'Paris' && message.lines.exists(l, l == 'gift')"},
        "field transform": {"name": "f", "kind": "TRANSFORM", "mode": "WRITE", "type": "CEL_FIELD",
            "tags": ["PII"], "expr": "'***'"}
    });
    let python = python_times(&schema, &message, &rules);
    println!("CEL rules per message ({ITERATIONS} runs; Python {PYTHON_ITERATIONS})");
    for (case, rule) in rules.as_object().unwrap() {
        let rule: Rule = serde_json::from_value(rule.clone()).unwrap();
        let compiled = CelRules::compile(&[rule], Schema::Avro(&schema), &BTreeMap::new()).unwrap();
        let ours = herald_time(&compiled, &message);
        let theirs = python[case].as_f64().unwrap();
        println!(
            "  {case:16} Herald {ours:>9.0} ns   Confluent Python {theirs:>11.0} ns   ratio {:>6.0}x",
            theirs / ours
        );
    }
    let uptime = Command::new("uptime").output().unwrap();
    print!("uptime: {}", String::from_utf8_lossy(&uptime.stdout));
}

/// Herald's nanoseconds per message, the best of five rounds.
fn herald_time(rules: &CelRules, message: &Value) -> f64 {
    match rules.run(Mode::Write, message.clone()) {
        Decision::Accept(out) => assert_eq!(&out, message, "the bench message must pass unchanged"),
        other => panic!("the bench message is refused: {other:?}"),
    }
    (0..5)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..ITERATIONS {
                black_box(rules.run(Mode::Write, black_box(message.clone())));
            }
            start.elapsed().as_nanos() as f64 / ITERATIONS as f64
        })
        .fold(f64::INFINITY, f64::min)
}

/// Confluent's Python client's nanoseconds per message, by case.
fn python_times(schema: &Value, message: &Value, rules: &Value) -> Value {
    let mut child = Command::new(herald_test_support::interop_python())
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/interop/cel_bench.py"
        ))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let request = json!({
        "schema": schema, "message": message, "rules": rules, "iterations": PYTHON_ITERATIONS
    });
    serde_json::to_writer(child.stdin.take().unwrap(), &request).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "cel_bench.py failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}
