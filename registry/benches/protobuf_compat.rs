//! Herald's Protobuf compatibility check on Confluent's 54 conformance pairs and on a
//! 200-field message checked BACKWARD_TRANSITIVE against 100 earlier versions, side by side
//! with protokit (PyPI), a Python Protobuf compatibility checker, on the same descriptors.
//!
//! Run with `cargo bench -p herald-registry --bench protobuf_compat`. The reference runs in the
//! virtualenv `$HOME/.cache/herald-protokit-venv`, where `protokit==0.16.0` is installed if
//! missing; when that cannot be done the bench says so and reports Herald's
//! absolute times only. Herald compares whole files with Confluent's rules, protokit one
//! message type at a time with its own: each pair is checked by protokit for every top-level
//! message both files declare, so both sides walk the same fields.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

#[path = "../tests/protobuf_compile/mod.rs"]
mod protobuf_compile;

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use criterion::Criterion;
use herald_registry::schema::protobuf_differences;
use prost_reflect::FileDescriptor;
use serde_json::{Value, json};

const DATA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/conformance/confluent-protobuf/diff-schema-examples.json"
);
const REFERENCE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/benches/protobuf_compat_reference.py"
);
const PROTOKIT: &str = "protokit==0.16.0";

/// No incompatible difference from `writer` to `reader`.
fn reads(reader: &FileDescriptor, writer: &FileDescriptor) -> bool {
    protobuf_differences(writer, reader)
        .iter()
        .all(|difference| difference.compatible)
}

/// Confluent's conformance pairs, compiled: `(original, update)`.
fn conformance_pairs() -> Vec<(FileDescriptor, FileDescriptor)> {
    let text = std::fs::read_to_string(DATA).expect("conformance data");
    let cases: Vec<Value> = serde_json::from_str(&text).expect("conformance JSON");
    let side = |case: &Value, side: &str| {
        let imports: Vec<(&str, &str)> = case[format!("{side}_dependencies")]
            .as_array()
            .map(|deps| {
                deps.iter()
                    .map(|d| {
                        (
                            d["name"].as_str().unwrap(),
                            d["dependency"].as_str().unwrap(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let schema = case[format!("{side}_schema")].as_str().unwrap();
        protobuf_compile::compile(schema, &imports).expect("conformance schema compiles")
    };
    cases
        .iter()
        .map(|case| (side(case, "original"), side(case, "update")))
        .collect()
}

fn herald_pairs(pairs: &[(FileDescriptor, FileDescriptor)]) -> usize {
    pairs
        .iter()
        .filter(|(original, update)| reads(update, original))
        .count()
}

/// A message `Wide` with `count` fields of mixed kinds.
fn wide(count: u32) -> FileDescriptor {
    let mut text = String::from(
        "syntax = \"proto3\";\npackage bench;\nenum Status { NEW = 0; PAID = 1; }\n\
         message Line { string sku = 1; int32 quantity = 2; double amount = 3; }\n\
         message Wide {\n",
    );
    for number in 1..=count {
        let ty = match number % 8 {
            0 => "int32",
            1 => "int64",
            2 => "string",
            3 => "double",
            4 => "bool",
            5 => "Status",
            6 => "repeated Line",
            _ => "map<string, double>",
        };
        writeln!(text, "  {ty} f{number} = {number};").unwrap();
    }
    text.push_str("}\n");
    protobuf_compile::compile(&text, &[]).expect("bench schema compiles")
}

/// The 200-field version and its 100 predecessors (100 to 199 fields), oldest first.
struct History {
    new: FileDescriptor,
    old: Vec<FileDescriptor>,
}

impl History {
    fn new() -> Self {
        History {
            new: wide(200),
            old: (100..200).map(wide).collect(),
        }
    }

    fn herald(&self) -> bool {
        self.old.iter().all(|old| reads(&self.new, old))
    }
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

/// The Python of the virtualenv `$HOME/.cache/herald-protokit-venv` with protokit installed,
/// or why there is none. protokit wants `protobuf<6`, the interop tests' virtualenv
/// `protobuf==7.36.2`, so each has its own.
fn reference_python() -> Result<PathBuf, String> {
    let home = std::env::var_os("HOME").ok_or("HOME is not set")?;
    let venv = Path::new(&home).join(".cache/herald-protokit-venv");
    herald_test_support::python_venv(&venv, &[PROTOKIT], "import protokit")
        .map_err(|error| error.to_string())
}

/// Writes every pool as a FileDescriptorSet beside `pairs.json` and runs the reference.
fn reference(
    pairs: &[(FileDescriptor, FileDescriptor)],
    history: &History,
) -> Result<Value, String> {
    let python = reference_python()?;
    let dir = std::env::temp_dir().join(format!("herald-protobuf-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|err| err.to_string())?;
    let write = |name: String, file: &FileDescriptor| {
        std::fs::write(dir.join(&name), file.parent_pool().encode_to_vec()).expect("temp file");
        name
    };
    let top_level = |file: &FileDescriptor| -> Vec<(String, String)> {
        file.messages()
            .map(|m| (m.name().to_owned(), m.full_name().to_owned()))
            .collect()
    };
    let spec_pairs: Vec<Value> = pairs
        .iter()
        .enumerate()
        .map(|(index, (original, update))| {
            let new_names = top_level(update);
            let types: Vec<[String; 2]> = top_level(original)
                .into_iter()
                .filter_map(|(name, old_full)| {
                    let (_, new_full) = new_names.iter().find(|(n, _)| *n == name)?;
                    Some([old_full, new_full.clone()])
                })
                .collect();
            json!({
                "original": write(format!("{index}-original.bin"), original),
                "update": write(format!("{index}-update.bin"), update),
                "types": types,
            })
        })
        .collect();
    let spec = json!({
        "pairs": spec_pairs,
        "history": {
            "new": write("wide-new.bin".to_owned(), &history.new),
            "old": history.old.iter().enumerate()
                .map(|(index, old)| write(format!("wide-{index}.bin"), old))
                .collect::<Vec<_>>(),
            "type": "bench.Wide",
        },
    });
    std::fs::write(dir.join("pairs.json"), spec.to_string()).map_err(|err| err.to_string())?;
    let output = Command::new(&python)
        .arg(REFERENCE)
        .arg(&dir)
        .output()
        .map_err(|err| err.to_string());
    let _ = std::fs::remove_dir_all(&dir);
    let output = output?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).into_owned());
    }
    serde_json::from_slice(&output.stdout).map_err(|err| err.to_string())
}

fn main() {
    let pairs = conformance_pairs();
    let history = History::new();
    assert!(
        history.herald(),
        "the 100 versions are compatible for Herald"
    );
    assert_eq!(
        herald_pairs(&pairs),
        28,
        "Confluent counts 28 of the 54 pairs compatible"
    );

    let mut criterion = Criterion::default().configure_from_args();
    criterion.bench_function("conformance/54-pairs/herald", |b| {
        b.iter(|| black_box(herald_pairs(&pairs)))
    });
    let mut group = criterion.benchmark_group("backward-transitive/200-fields-100-versions");
    group.sample_size(20);
    group.bench_function("herald", |b| b.iter(|| black_box(history.herald())));
    group.finish();
    criterion.final_summary();

    let budget = Duration::from_secs(1);
    let herald_54 = mean_time(budget, || {
        black_box(herald_pairs(&pairs));
    });
    let herald_100 = mean_time(budget, || {
        black_box(history.herald());
    });
    println!();
    println!(
        "{:<48} {:>12} {:>12} {:>8}",
        "case", "herald", "protokit", "ratio"
    );
    match reference(&pairs, &history) {
        Ok(found) => {
            let seconds =
                |key: &str| Duration::from_secs_f64(found[key].as_f64().unwrap_or(f64::NAN));
            for (name, herald, other) in [
                ("conformance/54-pairs", herald_54, seconds("pairs_seconds")),
                (
                    "backward-transitive/200-fields-100-versions",
                    herald_100,
                    seconds("history_seconds"),
                ),
            ] {
                println!(
                    "{name:<48} {:>12} {:>12} {:>7.1}x",
                    format!("{herald:.2?}"),
                    format!("{other:.2?}"),
                    other.as_secs_f64() / herald.as_secs_f64()
                );
            }
            let protokit_compatible = found["pair_verdicts"]
                .as_array()
                .map(|v| v.iter().filter(|v| v.as_bool() == Some(true)).count())
                .unwrap_or_default();
            println!(
                "(ratio = protokit time / herald time; above 1 means Herald is faster. \
                 Verdicts: Herald 28/54 compatible as Confluent, protokit {protokit_compatible}/54 \
                 under its own rules; 100 versions compatible for protokit: {})",
                found["history_compatible"]
            );
        }
        Err(why) => {
            println!("conformance/54-pairs                             {herald_54:>12.2?}");
            println!("backward-transitive/200-fields-100-versions      {herald_100:>12.2?}");
            println!("protokit could not be run, so no ratio: {why}");
        }
    }
}
