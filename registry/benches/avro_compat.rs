//! Herald's Avro compatibility check against the `apache-avro` crate's
//! `SchemaCompatibility::can_read`, on the same pre-parsed, compatible schema pairs (so both
//! do the full walk), and a 200-field record checked BACKWARD_TRANSITIVE against 100 earlier
//! versions.
//!
//! Run with `cargo bench -p herald-registry --bench avro_compat`. After criterion's output a
//! short table gives each case's mean time per side and the ratio.

#![allow(clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use apache_avro::schema_compatibility::{Compatibility, SchemaCompatibility};
use criterion::Criterion;
use herald_registry::schema::{CompatibilityLevel, Schema, SchemaType, check};
use serde_json::{Value, json};

/// One reader/writer pair, parsed by both libraries.
struct Pair {
    name: &'static str,
    herald_reader: Schema,
    herald_writer: Schema,
    avro_reader: apache_avro::Schema,
    avro_writer: apache_avro::Schema,
}

impl Pair {
    fn new(name: &'static str, reader: &Value, writer: &Value) -> Self {
        let pair = Pair {
            name,
            herald_reader: herald(reader),
            herald_writer: herald(writer),
            avro_reader: avro(reader),
            avro_writer: avro(writer),
        };
        // Both sides must agree that the pair is compatible, or they would not do the same work.
        assert!(
            pair.herald().is_compatible,
            "{name}: Herald finds it incompatible"
        );
        assert!(
            matches!(pair.apache(), Ok(Compatibility::Full)),
            "{name}: apache-avro finds it incompatible: {:?}",
            pair.apache()
        );
        pair
    }

    fn herald(&self) -> herald_registry::schema::Report {
        check(
            CompatibilityLevel::Backward,
            &self.herald_reader,
            &[(1, &self.herald_writer)],
        )
    }

    fn apache(&self) -> Result<Compatibility, apache_avro::error::CompatibilityError> {
        SchemaCompatibility::can_read(&self.avro_writer, &self.avro_reader)
    }
}

fn herald(value: &Value) -> Schema {
    Schema::parse(SchemaType::Avro, &value.to_string()).expect("bench schema parses")
}

fn avro(value: &Value) -> apache_avro::Schema {
    apache_avro::Schema::parse(value).expect("bench schema parses with apache-avro")
}

/// The type of field `i` in the generated records: a mix of primitives and complex types.
fn field_type(i: usize) -> Value {
    match i % 8 {
        0 => json!("int"),
        1 => json!("long"),
        2 => json!("string"),
        3 => json!("double"),
        4 => json!("boolean"),
        5 => json!(["null", "string"]),
        6 => json!({"type": "array", "items": "long"}),
        _ => json!({"type": "map", "values": "double"}),
    }
}

fn field_default(i: usize) -> Value {
    match i % 8 {
        0 | 1 => json!(0),
        2 => json!(""),
        3 => json!(0.0),
        4 => json!(false),
        5 => Value::Null,
        6 => json!([]),
        _ => json!({}),
    }
}

/// A record with `count` fields; fields from `first_with_default` on have defaults.
fn wide_record(count: usize, first_with_default: usize) -> Value {
    let fields: Vec<Value> = (0..count)
        .map(|i| {
            let mut field = json!({"name": format!("f{i}"), "type": field_type(i)});
            if i >= first_with_default {
                field["default"] = field_default(i);
            }
            field
        })
        .collect();
    json!({"type": "record", "name": "Wide", "namespace": "bench", "fields": fields})
}

fn nested(amount: &str, extra_symbol: bool) -> Value {
    let mut symbols = vec!["NEW", "PAID", "SHIPPED"];
    if extra_symbol {
        symbols.push("CANCELLED");
    }
    json!({
        "type": "record", "name": "Order", "namespace": "shop",
        "fields": [
            {"name": "id", "type": {"type": "fixed", "name": "Id", "size": 16}},
            {"name": "status", "type": {"type": "enum", "name": "Status", "symbols": symbols}},
            {"name": "customer", "type": {"type": "record", "name": "Customer", "fields": [
                {"name": "name", "type": "string"},
                {"name": "email", "type": ["null", "string"], "default": null},
                {"name": "address", "type": {"type": "record", "name": "Address", "fields": [
                    {"name": "street", "type": "string"},
                    {"name": "city", "type": "string"},
                    {"name": "zip", "type": "string"}
                ]}}
            ]}},
            {"name": "lines", "type": {"type": "array", "items": {
                "type": "record", "name": "Line", "fields": [
                    {"name": "sku", "type": "string"},
                    {"name": "quantity", "type": "int"},
                    {"name": "amount", "type": amount}
                ]}}},
            {"name": "billing", "type": ["null", "Address"], "default": null},
            {"name": "attributes", "type": {"type": "map", "values": ["null", "string", "long"]}}
        ]
    })
}

fn linked_list(value: &str) -> Value {
    json!({"type": "record", "name": "Node", "namespace": "bench", "fields": [
        {"name": "value", "type": value},
        {"name": "children", "type": {"type": "array", "items": "Node"}},
        {"name": "next", "type": ["null", "Node"], "default": null}
    ]})
}

fn pairs() -> Vec<Pair> {
    vec![
        Pair::new("flat-20", &wide_record(21, 15), &wide_record(20, 15)),
        Pair::new("nested", &nested("double", true), &nested("float", false)),
        Pair::new("recursive", &linked_list("long"), &linked_list("int")),
        Pair::new("wide-200", &wide_record(200, 100), &wide_record(199, 100)),
    ]
}

/// The new 200-field version and its 100 predecessors (100 fields plus one more per version,
/// each added with a default), oldest first.
struct History {
    herald_new: Schema,
    herald_old: Vec<Schema>,
    avro_new: apache_avro::Schema,
    avro_old: Vec<apache_avro::Schema>,
}

impl History {
    fn new() -> Self {
        let new = wide_record(200, 100);
        let old: Vec<Value> = (100..200).map(|count| wide_record(count, 100)).collect();
        History {
            herald_new: herald(&new),
            herald_old: old.iter().map(herald).collect(),
            avro_new: avro(&new),
            avro_old: old.iter().map(avro).collect(),
        }
    }

    fn herald(&self) -> bool {
        let previous: Vec<(u32, &Schema)> = (1..).zip(self.herald_old.iter()).collect();
        check(
            CompatibilityLevel::BackwardTransitive,
            &self.herald_new,
            &previous,
        )
        .is_compatible
    }

    fn apache(&self) -> bool {
        self.avro_old.iter().all(|old| {
            matches!(
                SchemaCompatibility::can_read(old, &self.avro_new),
                Ok(Compatibility::Full)
            )
        })
    }
}

fn criterion_benches(c: &mut Criterion, pairs: &[Pair], history: &History) {
    for pair in pairs {
        let mut group = c.benchmark_group(format!("pair/{}", pair.name));
        group.bench_function("herald", |b| b.iter(|| black_box(pair.herald())));
        group.bench_function("apache-avro", |b| b.iter(|| black_box(pair.apache())));
        group.finish();
    }
    let mut group = c.benchmark_group("backward-transitive/200-fields-100-versions");
    group.sample_size(20);
    group.bench_function("herald", |b| b.iter(|| black_box(history.herald())));
    group.bench_function("apache-avro", |b| b.iter(|| black_box(history.apache())));
    group.finish();
}

/// Mean time of `f` over at least `budget`.
fn mean_time(budget: Duration, mut f: impl FnMut()) -> Duration {
    for _ in 0..3 {
        f();
    }
    let start = Instant::now();
    let mut runs = 0u32;
    while start.elapsed() < budget {
        f();
        runs += 1;
    }
    start.elapsed() / runs
}

fn ratio_table(pairs: &[Pair], history: &History) {
    let budget = Duration::from_millis(500);
    println!();
    println!(
        "{:<48} {:>12} {:>12} {:>8}",
        "case", "herald", "apache-avro", "ratio"
    );
    let line = |name: &str, herald: Duration, apache: Duration| {
        println!(
            "{name:<48} {:>12} {:>12} {:>7.2}x",
            format!("{herald:.2?}"),
            format!("{apache:.2?}"),
            apache.as_secs_f64() / herald.as_secs_f64()
        );
    };
    for pair in pairs {
        let herald = mean_time(budget, || {
            black_box(pair.herald());
        });
        let apache = mean_time(budget, || {
            let _ = black_box(pair.apache());
        });
        line(&format!("pair/{}", pair.name), herald, apache);
    }
    let herald = mean_time(budget, || {
        black_box(history.herald());
    });
    let apache = mean_time(budget, || {
        black_box(history.apache());
    });
    line(
        "backward-transitive/200-fields-100-versions",
        herald,
        apache,
    );
    println!("(ratio = apache-avro time / herald time; above 1 means Herald is faster)");
}

fn main() {
    let pairs = pairs();
    let history = History::new();
    assert!(
        history.herald(),
        "the 100 versions are compatible for Herald"
    );
    assert!(
        history.apache(),
        "the 100 versions are compatible for apache-avro"
    );
    let mut criterion = Criterion::default().configure_from_args();
    criterion_benches(&mut criterion, &pairs, &history);
    criterion.final_summary();
    ratio_table(&pairs, &history);
}
