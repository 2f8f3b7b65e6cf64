//! `herald compat`: check one schema against previous versions.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::ValueEnum;
use herald_registry::schema::{CompatibilityLevel, Report, Schema, SchemaType, check};
use serde_json::json;

use super::EXIT_USAGE;

#[derive(Debug, Clone, Copy, ValueEnum)]
#[value(rename_all = "UPPER")]
enum TypeArg {
    Avro,
    Json,
    Protobuf,
}

#[derive(Debug, Clone, Copy, Default, ValueEnum)]
enum Output {
    #[default]
    Text,
    Json,
}

/// Arguments of `herald compat`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Schema type of every file.
    #[arg(long = "type", value_enum, ignore_case = true)]
    schema_type: TypeArg,
    /// Compatibility level (NONE, BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE,
    /// FULL, FULL_TRANSITIVE).
    #[arg(long)]
    level: CompatibilityLevel,
    /// A previous version; repeat oldest first.
    #[arg(long = "previous", value_name = "FILE")]
    previous: Vec<PathBuf>,
    /// The new schema.
    file: PathBuf,
    /// Report format.
    #[arg(long, value_enum, default_value_t)]
    output: Output,
}

pub(crate) fn run(args: Args) -> ExitCode {
    let schema_type = match args.schema_type {
        TypeArg::Avro => SchemaType::Avro,
        TypeArg::Json => SchemaType::Json,
        TypeArg::Protobuf => SchemaType::Protobuf,
    };
    let mut previous = Vec::with_capacity(args.previous.len());
    for path in &args.previous {
        match load(schema_type, path) {
            Ok(schema) => previous.push(schema),
            Err(message) => return usage_error(&message),
        }
    }
    let new = match load(schema_type, &args.file) {
        Ok(schema) => schema,
        Err(message) => return usage_error(&message),
    };
    let numbered: Vec<(u32, &Schema)> = (1u32..).zip(previous.iter()).collect();
    let report = check(args.level, &new, &numbered);
    let printed = match args.output {
        Output::Text => print_text(&report, args.level, &args.previous),
        Output::Json => print_json(&report),
    };
    if let Err(err) = printed {
        return usage_error(&format!("cannot write the report: {err}"));
    }
    if report.is_compatible {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn load(schema_type: SchemaType, path: &Path) -> Result<Schema, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|err| format!("cannot read {}: {err}", path.display()))?;
    Schema::parse(schema_type, &text).map_err(|err| format!("{}: {err}", path.display()))
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("herald compat: {message}");
    ExitCode::from(EXIT_USAGE)
}

fn print_json(report: &Report) -> std::io::Result<()> {
    let violations: Vec<_> = report
        .violations
        .iter()
        .map(|v| {
            json!({
                "kind": v.kind,
                "location": v.location,
                "version": v.version,
                "direction": v.direction,
                "message": v.message,
                "hint": v.hint,
            })
        })
        .collect();
    let body = json!({
        "is_compatible": report.is_compatible,
        "messages": report.messages,
        "violations": violations,
    });
    let mut out = std::io::stdout().lock();
    writeln!(out, "{body}")
}

fn print_text(
    report: &Report,
    level: CompatibilityLevel,
    previous: &[PathBuf],
) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    for v in &report.violations {
        let version = v.version.unwrap_or(0);
        let file = previous
            .get((version as usize).wrapping_sub(1))
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let direction = match v.direction {
            Some(herald_registry::schema::Direction::Forward) => "forward",
            _ => "backward",
        };
        writeln!(
            out,
            "error[{}] {} (version {version} {file}, {direction})",
            v.kind, v.location
        )?;
        writeln!(out, "    {}", v.message)?;
        if !v.hint.is_empty() {
            writeln!(out, "    hint: {}", v.hint)?;
        }
    }
    let checked = if level == CompatibilityLevel::None {
        0
    } else if level.is_transitive() {
        previous.len()
    } else {
        previous.len().min(1)
    };
    if report.is_compatible {
        writeln!(
            out,
            "compatible: {level}, checked against {checked} previous version(s)"
        )
    } else {
        writeln!(
            out,
            "incompatible: {} violation(s) under {level}, checked against {checked} previous version(s)",
            report.violations.len()
        )
    }
}
