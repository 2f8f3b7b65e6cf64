//! `herald check`: the committed snapshots against their own history, a git ref and a
//! registry.
//!
//! Locally, every event's Avro (`v<N>.avsc`), JSON Schema (`v<N>.json`) and Protobuf
//! (`v<N>.proto`) snapshots are checked as separate histories: each version must be compatible with the versions
//! before it under the event's level, and no version number may be missing. With
//! `--against REF`, every snapshot committed at REF must still exist unchanged (compared as
//! JSON values, so reformatting is not a change). With `--registry URL`, the snapshots of one
//! schema type (`--type`, Avro by default) are compared with the registry: which versions are
//! already registered, which are new, and whether the registry would accept each new one.

mod git;
mod history;
mod lines;
mod registry;
mod report;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::ValueEnum;
use herald_registry::schema::SchemaType;
use serde::Serialize;

use super::EXIT_USAGE;
use super::snapshots;
use super::subject::SubjectStrategy;
use registry::SubjectPlan;

/// Report formats of `herald check`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub(crate) enum Output {
    /// Violations grouped by event and version, then a one-line summary.
    #[default]
    Text,
    /// One JSON document.
    Json,
    /// GitHub Actions workflow annotations (`::error file=...::...`).
    Github,
}

/// The schema type a registry sees.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "UPPER")]
pub(crate) enum TypeArg {
    /// The `v<N>.avsc` snapshots.
    #[default]
    Avro,
    /// The `v<N>.json` snapshots.
    Json,
    /// The `v<N>.proto` snapshots.
    Protobuf,
}

impl TypeArg {
    pub(crate) fn schema_type(self) -> SchemaType {
        match self {
            TypeArg::Avro => SchemaType::Avro,
            TypeArg::Json => SchemaType::Json,
            TypeArg::Protobuf => SchemaType::Protobuf,
        }
    }
}

/// Arguments of `herald check`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The snapshot directory (`<event>/v<N>.json`, `v<N>.avsc`, `v<N>.proto`, optional
    /// `herald.toml`).
    #[arg(long, default_value = "schemas")]
    schemas: PathBuf,
    /// A git ref whose committed snapshots are published: they must not have changed.
    #[arg(long, value_name = "REF")]
    against: Option<String>,
    /// A schema registry to compare with: what pushing the snapshots now would do.
    #[arg(long, value_name = "URL")]
    registry: Option<String>,
    #[command(flatten)]
    tls: super::RegistryTls,
    /// How subjects are named on the registry.
    #[arg(long, value_enum, default_value_t)]
    subject_strategy: SubjectStrategy,
    /// Which snapshots the registry holds.
    #[arg(long = "type", value_enum, ignore_case = true, default_value_t)]
    schema_type: TypeArg,
    /// Report format.
    #[arg(long, value_enum, default_value_t)]
    output: Output,
}

/// One problem found.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Finding {
    /// The event.
    pub event: String,
    /// The version the problem is in.
    pub version: u32,
    /// The snapshot file (as given on the command line, joined with the event path).
    pub file: String,
    /// `AVRO` or `JSON`; empty for a file that is not a schema (golden events,
    /// `versions.json`).
    pub schema_type: &'static str,
    /// A stable name for the kind of problem.
    pub kind: String,
    /// Where in the schema (a JSON pointer or Avro path; empty for a whole file).
    pub location: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: String,
    /// The line of `location` in `file`, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
}

/// Everything `herald check` found.
#[derive(Debug, Default, Serialize)]
struct Outcome {
    events: usize,
    snapshots: usize,
    findings: Vec<Finding>,
    registry: Option<String>,
    subjects: Vec<SubjectPlan>,
}

pub(crate) fn run(args: Args) -> ExitCode {
    match execute(&args) {
        Ok(outcome) => {
            if let Err(err) = report::print(&outcome, args.output) {
                return usage_error(&format!("cannot write the report: {err}"));
            }
            if outcome.findings.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(message) => usage_error(&message),
    }
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("herald check: {message}");
    ExitCode::from(EXIT_USAGE)
}

fn execute(args: &Args) -> Result<Outcome, String> {
    if !args.schemas.is_dir() {
        return Err(format!(
            "{} is not a directory of schema snapshots",
            args.schemas.display()
        ));
    }
    let dir = snapshots::load(&args.schemas).map_err(|err| err.to_string())?;
    let mut outcome = Outcome {
        events: dir.events.len(),
        snapshots: dir.events.iter().map(|e| e.files.len()).sum(),
        ..Outcome::default()
    };
    for event in &dir.events {
        for (schema_type, _) in herald_protocol::snapshot::EXTENSIONS {
            history::check_event(event, schema_type, &mut outcome.findings);
        }
        history::check_samples(event, &dir.root, &mut outcome.findings);
    }
    if let Some(reference) = &args.against {
        git::check_against(&dir, reference, &mut outcome.findings)?;
    }
    if let Some(url) = &args.registry {
        let client = super::registry_client(url, &args.tls)?;
        outcome.registry = Some(client.client().base_url().to_owned());
        registry::compare(&dir, args, &client, &mut outcome).map_err(|err| err.to_string())?;
    }
    for finding in &mut outcome.findings {
        if !finding.location.is_empty() {
            finding.line = std::fs::read_to_string(&finding.file)
                .ok()
                .and_then(|text| lines::line_of(&text, &finding.location));
        }
    }
    outcome
        .findings
        .sort_by(|a, b| (&a.event, a.version).cmp(&(&b.event, b.version)));
    Ok(outcome)
}
