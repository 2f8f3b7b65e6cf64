//! `herald check`: the committed snapshots against their own history, a git ref and a
//! registry.
//!
//! Locally, every event's Avro (`v<N>.avsc`) and JSON Schema (`v<N>.json`) snapshots are
//! checked as two separate histories: each version must be compatible with the versions
//! before it under the event's level, and no version number may be missing. With
//! `--against REF`, every snapshot committed at REF must still exist unchanged (compared as
//! JSON values, so reformatting is not a change). With `--registry URL`, the snapshots of one
//! schema type (`--type`, Avro by default) are compared with the registry: which versions are
//! already registered, which are new, and whether the registry would accept each new one.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use clap::ValueEnum;
use herald_registry::schema::{Direction, Schema, SchemaType, check};
use serde::Serialize;
use serde_json::{Value, json};

use super::EXIT_USAGE;
use super::registry_client::RegistryClient;
use super::snapshots::{self, EventSnapshots, SnapshotDir};
use super::subject::SubjectStrategy;

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
}

impl TypeArg {
    pub(crate) fn schema_type(self) -> SchemaType {
        match self {
            TypeArg::Avro => SchemaType::Avro,
            TypeArg::Json => SchemaType::Json,
        }
    }
}

/// Arguments of `herald check`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The snapshot directory (`<event>/v<N>.json`, `v<N>.avsc`, optional `herald.toml`).
    #[arg(long, default_value = "schemas")]
    schemas: PathBuf,
    /// A git ref whose committed snapshots are published: they must not have changed.
    #[arg(long, value_name = "REF")]
    against: Option<String>,
    /// A schema registry to compare with: what pushing the snapshots now would do.
    #[arg(long, value_name = "URL")]
    registry: Option<String>,
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
    /// `AVRO` or `JSON`.
    pub schema_type: &'static str,
    /// A stable name for the kind of problem.
    pub kind: String,
    /// Where in the schema (a JSON pointer or Avro path; empty for a whole file).
    pub location: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: String,
}

/// What the registry would do with one local version.
#[derive(Debug, Clone, Serialize)]
struct PlannedVersion {
    version: u32,
    file: String,
    /// The registry version that already holds it, if any.
    registered_as: Option<u32>,
    /// For a new version: whether the registry would accept it.
    accepted: Option<bool>,
    messages: Vec<String>,
}

/// One subject's plan.
#[derive(Debug, Clone, Serialize)]
struct SubjectPlan {
    subject: String,
    event: String,
    versions: Vec<PlannedVersion>,
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
            if let Err(err) = print(&outcome, args.output) {
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
        for schema_type in [SchemaType::Avro, SchemaType::Json] {
            check_history(event, schema_type, &mut outcome.findings);
        }
    }
    if let Some(reference) = &args.against {
        check_against(&dir, reference, &mut outcome.findings)?;
    }
    if let Some(url) = &args.registry {
        let client = RegistryClient::new(url).map_err(|err| err.to_string())?;
        outcome.registry = Some(client.base().to_owned());
        check_registry(&dir, args, &client, &mut outcome).map_err(|err| err.to_string())?;
    }
    outcome
        .findings
        .sort_by(|a, b| (&a.event, a.version).cmp(&(&b.event, b.version)));
    Ok(outcome)
}

/// Skipped versions and compatibility of one event's snapshots of one type.
fn check_history(event: &EventSnapshots, schema_type: SchemaType, findings: &mut Vec<Finding>) {
    let files = event.of_type(schema_type);
    let Some(last) = files.last() else {
        return;
    };
    let finding = |file: &snapshots::SnapshotFile,
                   kind: &str,
                   location: &str,
                   message: String,
                   hint: &str| Finding {
        event: event.name.clone(),
        version: file.version,
        file: file.path.display().to_string(),
        schema_type: schema_type.as_str(),
        kind: kind.to_owned(),
        location: location.to_owned(),
        message,
        hint: hint.to_owned(),
    };
    let present: Vec<u32> = files.iter().map(|f| f.version).collect();
    let extension = if schema_type == SchemaType::Avro {
        "avsc"
    } else {
        "json"
    };
    for expected in event.first_version..last.version {
        if present.contains(&expected) {
            continue;
        }
        let next = files.iter().find(|f| f.version > expected).unwrap_or(last);
        findings.push(finding(
            next,
            "VERSION_SKIPPED",
            "",
            format!(
                "version {expected} of `{}` has no snapshot ({}/v{expected}.{extension} is missing)",
                event.name, event.name
            ),
            "versions are numbered without gaps: renumber this version, or restore the missing \
             snapshot (set `first_version` under [events.<name>] in herald.toml when the first \
             versions were never snapshotted)",
        ));
    }
    let mut previous: Vec<(u32, Schema)> = Vec::new();
    for file in files {
        let schema = match Schema::parse(schema_type, &file.text) {
            Ok(schema) => schema,
            Err(err) => {
                findings.push(finding(
                    file,
                    "INVALID_SCHEMA",
                    "",
                    err.to_string(),
                    "a snapshot must be a valid schema; regenerate it from the event type",
                ));
                continue;
            }
        };
        if !previous.is_empty() {
            let numbered: Vec<(u32, &Schema)> = previous.iter().map(|(v, s)| (*v, s)).collect();
            let report = check(event.level, &schema, &numbered);
            for violation in report.violations {
                let against = violation
                    .version
                    .map(|v| format!(" (against version {v}"))
                    .unwrap_or_default();
                let direction = match violation.direction {
                    Some(Direction::Forward) => ", forward)",
                    Some(Direction::Backward) => ", backward)",
                    None if against.is_empty() => "",
                    None => ")",
                };
                findings.push(finding(
                    file,
                    &violation.kind,
                    &violation.location,
                    format!(
                        "{} under {}{against}{direction}",
                        violation.message, event.level
                    ),
                    &violation.hint,
                ));
            }
        }
        previous.push((file.version, schema));
    }
}

/// Runs git in `dir`; its stdout, or a message naming the command.
fn git(dir: &Path, args: &[&str]) -> Result<Vec<u8>, String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .map_err(|err| format!("cannot run git: {err}"))?;
    if output.status.success() {
        Ok(output.stdout)
    } else {
        Err(format!(
            "`git {}` in {} failed: {}",
            args.join(" "),
            dir.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

/// Published snapshots (committed at `reference`) must exist unchanged.
fn check_against(
    dir: &SnapshotDir,
    reference: &str,
    findings: &mut Vec<Finding>,
) -> Result<(), String> {
    git(
        &dir.root,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{reference}^{{commit}}"),
        ],
    )
    .map_err(|_| {
        format!(
            "`{reference}` is not a git commit of the repository holding {}",
            dir.root.display()
        )
    })?;
    let listing = git(
        &dir.root,
        &["ls-tree", "-r", "--name-only", reference, "--", "."],
    )?;
    let listing = String::from_utf8_lossy(&listing);
    for relative in listing.lines() {
        let Some((event, file_name)) = relative.split_once('/') else {
            continue;
        };
        if file_name.contains('/') {
            continue;
        }
        let Some((version, schema_type)) = snapshots::parse_file_name(file_name) else {
            continue;
        };
        let path = dir.root.join(relative);
        let display = path.display().to_string();
        let mut finding = |kind: &str, location: String, message: String, hint: &str| {
            findings.push(Finding {
                event: event.to_owned(),
                version,
                file: display.clone(),
                schema_type: schema_type.as_str(),
                kind: kind.to_owned(),
                location,
                message,
                hint: hint.to_owned(),
            });
        };
        let local = dir
            .events
            .iter()
            .find(|e| e.name == event)
            .and_then(|e| e.files.iter().find(|f| f.relative == relative));
        let Some(local) = local else {
            finding(
                "PUBLISHED_VERSION_DELETED",
                String::new(),
                format!(
                    "version {version} of `{event}` was published at {reference} and its snapshot is gone"
                ),
                "published versions are immutable: restore the snapshot from git",
            );
            continue;
        };
        let old = git(&dir.root, &["show", &format!("{reference}:./{relative}")])?;
        let old = String::from_utf8_lossy(&old);
        let same = match (
            serde_json::from_str::<Value>(&old),
            serde_json::from_str::<Value>(&local.text),
        ) {
            (Ok(a), Ok(b)) => {
                let mut pointers = Vec::new();
                differences(
                    &without_annotations(&a),
                    &without_annotations(&b),
                    String::new(),
                    &mut pointers,
                );
                if pointers.is_empty() {
                    None
                } else {
                    Some(pointers)
                }
            }
            _ => (old.trim() != local.text.trim()).then(Vec::new),
        };
        if let Some(pointers) = same {
            let location = pointers.first().cloned().unwrap_or_default();
            let shown: Vec<&str> = pointers.iter().take(5).map(String::as_str).collect();
            let more = if pointers.len() > 5 {
                format!(" and {} more", pointers.len() - 5)
            } else {
                String::new()
            };
            finding(
                "PUBLISHED_VERSION_CHANGED",
                location,
                format!(
                    "version {version} of `{event}` was published at {reference} and has been edited in place (differs at {}{more})",
                    if shown.is_empty() {
                        "the file".to_owned()
                    } else {
                        shown.join(", ")
                    }
                ),
                "published versions are immutable: restore the snapshot and add the change as a new version",
            );
        }
    }
    Ok(())
}

/// JSON pointers where `a` and `b` differ.
/// `schema` without Herald's annotations (object members named `herald.*`, such as the
/// `herald.event_type` of an exported Avro record): they are not part of a published schema,
/// as `herald::snapshot` also holds.
fn without_annotations(schema: &Value) -> Value {
    match schema {
        Value::Object(members) => Value::Object(
            members
                .iter()
                .filter(|(key, _)| !key.starts_with("herald."))
                .map(|(key, value)| (key.clone(), without_annotations(value)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_annotations).collect()),
        other => other.clone(),
    }
}

fn differences(a: &Value, b: &Value, pointer: String, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for key in keys {
                let child = format!("{pointer}/{}", key.replace('~', "~0").replace('/', "~1"));
                match (x.get(key), y.get(key)) {
                    (Some(a), Some(b)) => differences(a, b, child, out),
                    _ => out.push(child),
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (a, b)) in x.iter().zip(y).enumerate() {
                differences(a, b, format!("{pointer}/{i}"), out);
            }
        }
        _ if a == b => {}
        _ => out.push(if pointer.is_empty() {
            "/".to_owned()
        } else {
            pointer
        }),
    }
}

/// What pushing now would do: per subject, registered and new versions, and whether the
/// registry accepts each new one (its compatibility endpoint, under its own level).
fn check_registry(
    dir: &SnapshotDir,
    args: &Args,
    client: &RegistryClient,
    outcome: &mut Outcome,
) -> Result<(), super::registry_client::ClientError> {
    let schema_type = args.schema_type.schema_type();
    for event in &dir.events {
        let mut plans: BTreeMap<String, Vec<PlannedVersion>> = BTreeMap::new();
        for file in event.of_type(schema_type) {
            let subject = args
                .subject_strategy
                .subject(&event.name, schema_type, &file.text);
            let registered_as = client.lookup(&subject, schema_type, &file.text)?;
            let (accepted, messages) = match registered_as {
                Some(_) => (None, Vec::new()),
                None => {
                    let (ok, messages) =
                        client.test_compatibility(&subject, schema_type, &file.text)?;
                    (Some(ok), messages)
                }
            };
            if accepted == Some(false) {
                let message = if messages.is_empty() {
                    format!(
                        "the registry would reject version {} under subject `{subject}`",
                        file.version
                    )
                } else {
                    format!(
                        "the registry would reject version {} under subject `{subject}`: {}",
                        file.version,
                        messages.join("; ")
                    )
                };
                outcome.findings.push(Finding {
                    event: event.name.clone(),
                    version: file.version,
                    file: file.path.display().to_string(),
                    schema_type: schema_type.as_str(),
                    kind: "REGISTRY_INCOMPATIBLE".to_owned(),
                    location: String::new(),
                    message,
                    hint:
                        "the registry's level for the subject decides; make the change compatible \
                           or add a new event"
                            .to_owned(),
                });
            }
            plans.entry(subject).or_default().push(PlannedVersion {
                version: file.version,
                file: file.path.display().to_string(),
                registered_as,
                accepted,
                messages,
            });
        }
        for (subject, versions) in plans {
            outcome.subjects.push(SubjectPlan {
                subject,
                event: event.name.clone(),
                versions,
            });
        }
    }
    Ok(())
}

fn print(outcome: &Outcome, output: Output) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    match output {
        Output::Json => {
            let body = json!({
                "ok": outcome.findings.is_empty(),
                "events": outcome.events,
                "snapshots": outcome.snapshots,
                "violations": outcome.findings,
                "registry": outcome.registry,
                "subjects": outcome.subjects,
            });
            writeln!(out, "{body}")
        }
        Output::Github => {
            for f in &outcome.findings {
                let mut text = format!("{} v{} ({}): ", f.event, f.version, f.kind);
                if !f.location.is_empty() {
                    text.push_str(&format!("at {}: ", f.location));
                }
                text.push_str(&f.message);
                if !f.hint.is_empty() {
                    text.push_str(&format!("\nhint: {}", f.hint));
                }
                writeln!(
                    out,
                    "::error file={},title={}::{}",
                    escape_property(&f.file),
                    escape_property(&format!("herald check: {}", f.kind)),
                    escape_data(&text)
                )?;
            }
            writeln!(out, "{}", summary(outcome))
        }
        Output::Text => {
            let mut current: Option<(&str, u32, &str)> = None;
            for f in &outcome.findings {
                if current.map(|(e, _, _)| e) != Some(f.event.as_str()) {
                    writeln!(out, "event `{}`", f.event)?;
                }
                if current != Some((f.event.as_str(), f.version, f.file.as_str())) {
                    writeln!(out, "  version {} ({})", f.version, f.file)?;
                }
                current = Some((f.event.as_str(), f.version, f.file.as_str()));
                let location = if f.location.is_empty() {
                    String::new()
                } else {
                    format!(" at {}", f.location)
                };
                writeln!(out, "    error[{}]{location}: {}", f.kind, f.message)?;
                if !f.hint.is_empty() {
                    writeln!(out, "      hint: {}", f.hint)?;
                }
            }
            if let Some(registry) = &outcome.registry {
                writeln!(out, "registry {registry}:")?;
                for plan in &outcome.subjects {
                    let parts: Vec<String> = plan
                        .versions
                        .iter()
                        .map(|v| match (v.registered_as, v.accepted) {
                            (Some(r), _) => format!("v{} registered (version {r})", v.version),
                            (None, Some(true)) => format!("v{} new, accepted", v.version),
                            _ => format!("v{} new, REJECTED", v.version),
                        })
                        .collect();
                    writeln!(out, "  {}: {}", plan.subject, parts.join(", "))?;
                }
            }
            writeln!(out, "{}", summary(outcome))
        }
    }
}

fn summary(outcome: &Outcome) -> String {
    let new: usize = outcome
        .subjects
        .iter()
        .flat_map(|s| &s.versions)
        .filter(|v| v.registered_as.is_none())
        .count();
    let registry = match &outcome.registry {
        Some(_) => format!(", {new} new version(s) for the registry"),
        None => String::new(),
    };
    if outcome.findings.is_empty() {
        format!(
            "herald check: ok, {} event(s), {} snapshot(s){registry}",
            outcome.events, outcome.snapshots
        )
    } else {
        let mut events: Vec<&str> = outcome.findings.iter().map(|f| f.event.as_str()).collect();
        events.dedup();
        format!(
            "herald check: {} violation(s) in {} of {} event(s), {} snapshot(s){registry}",
            outcome.findings.len(),
            events.len(),
            outcome.events,
            outcome.snapshots
        )
    }
}

/// Escapes an annotation message (GitHub's workflow command syntax).
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes an annotation property value.
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}
