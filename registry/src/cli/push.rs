//! `herald push`: register the new local snapshots with a registry.
//!
//! Events are pushed in name order and each event's versions oldest first, the snapshots of
//! one schema type (`--type`, Avro by default) under the subject the strategy names. Each
//! version is registered with its major (from `versions.json`) in `metadata.properties`
//! under `herald.major`. Before its versions, a subject's config is updated (a partial
//! update, other settings keep their value) where it differs: the compatibility level
//! `herald.toml` gives the event, when it gives one, and `compatibilityGroup = herald.major`,
//! so the registry checks a version only against earlier versions of the same major, the rule
//! `herald check` applies. A version the subject already holds (with the same major) is left
//! alone, so a second push changes nothing. The first version the
//! registry refuses stops the push: it and everything after it stay unpushed.

use std::path::PathBuf;
use std::process::ExitCode;

use super::EXIT_USAGE;
use super::check::TypeArg;
use super::registry_client::{ClientError, MAJOR_PROPERTY, RegistryClient, SubjectConfig};
use super::snapshots;
use super::subject::SubjectStrategy;

/// Arguments of `herald push`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The snapshot directory (`<event>/v<N>.json`, `v<N>.avsc`, `v<N>.proto`, optional
    /// `herald.toml`).
    #[arg(long, default_value = "schemas")]
    schemas: PathBuf,
    /// The schema registry.
    #[arg(long, value_name = "URL")]
    registry: String,
    /// How subjects are named on the registry.
    #[arg(long, value_enum, default_value_t)]
    subject_strategy: SubjectStrategy,
    /// Which snapshots to register.
    #[arg(long = "type", value_enum, ignore_case = true, default_value_t)]
    schema_type: TypeArg,
}

/// What a push did.
#[derive(Debug, Default)]
struct Tally {
    registered: usize,
    unchanged: usize,
    levels_set: usize,
    groups_set: usize,
}

/// Why a push stopped.
enum Stop {
    /// The registry refused a version.
    Rejected,
    /// A usage or I/O error.
    Failed(String),
}

impl From<ClientError> for Stop {
    fn from(err: ClientError) -> Self {
        Stop::Failed(err.to_string())
    }
}

pub(crate) fn run(args: Args) -> ExitCode {
    let mut tally = Tally::default();
    let result = push(&args, &mut tally);
    let summary = format!(
        "{} version(s) registered, {} already registered, {} level(s) set, {} compatibility group(s) set",
        tally.registered, tally.unchanged, tally.levels_set, tally.groups_set
    );
    match result {
        Ok(()) if tally.registered == 0 && tally.levels_set == 0 && tally.groups_set == 0 => {
            println!("herald push: nothing to push, the registry is up to date ({summary})");
            ExitCode::SUCCESS
        }
        Ok(()) => {
            println!("herald push: {summary}");
            ExitCode::SUCCESS
        }
        Err(Stop::Rejected) => {
            println!("herald push: stopped at a rejected version ({summary})");
            ExitCode::from(1)
        }
        Err(Stop::Failed(message)) => {
            eprintln!("herald push: {message}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

fn push(args: &Args, tally: &mut Tally) -> Result<(), Stop> {
    if !args.schemas.is_dir() {
        return Err(Stop::Failed(format!(
            "{} is not a directory of schema snapshots",
            args.schemas.display()
        )));
    }
    let dir = snapshots::load(&args.schemas).map_err(|err| Stop::Failed(err.to_string()))?;
    let client = RegistryClient::new(&args.registry)?;
    let schema_type = args.schema_type.schema_type();
    let mut configured: Vec<String> = Vec::new();
    for event in &dir.events {
        for file in event.of_type(schema_type) {
            let subject = args
                .subject_strategy
                .subject(&event.name, schema_type, &file.text);
            if !configured.contains(&subject) {
                configured.push(subject.clone());
                configure(&client, &subject, event, tally)?;
            }
            let major = event.major(file.version);
            if let Some(version) = client.lookup(&subject, schema_type, &file.text, major)? {
                tally.unchanged += 1;
                println!(
                    "{subject}: v{} ({}) already registered as version {version}",
                    file.version,
                    file.path.display()
                );
                continue;
            }
            match client.register(&subject, schema_type, &file.text, major)? {
                Ok(id) => {
                    tally.registered += 1;
                    println!(
                        "{subject}: v{} ({}) registered, schema id {id}, major {major}",
                        file.version,
                        file.path.display()
                    );
                }
                Err(rejection) => {
                    println!(
                        "{subject}: v{} ({}) REJECTED by the registry ({}): {}",
                        file.version,
                        file.path.display(),
                        rejection.status,
                        rejection.message
                    );
                    println!("nothing after it was pushed");
                    return Err(Stop::Rejected);
                }
            }
        }
    }
    Ok(())
}

/// Sets the subject's level (when `herald.toml` gives one) and compatibility group where they
/// differ from what the registry holds, in one partial update.
fn configure(
    client: &RegistryClient,
    subject: &str,
    event: &snapshots::EventSnapshots,
    tally: &mut Tally,
) -> Result<(), Stop> {
    let current = client.subject_config(subject)?;
    let mut update = SubjectConfig::default();
    let level = event.level.as_str();
    if event.level_configured && current.level.as_deref() != Some(level) {
        update.level = Some(level.to_owned());
    }
    if current.group.as_deref() != Some(MAJOR_PROPERTY) {
        update.group = Some(MAJOR_PROPERTY.to_owned());
    }
    if update == SubjectConfig::default() {
        return Ok(());
    }
    client.update_subject_config(subject, &update)?;
    if update.level.is_some() {
        tally.levels_set += 1;
        println!("{subject}: level set to {level}");
    }
    if update.group.is_some() {
        tally.groups_set += 1;
        println!("{subject}: compatibility group set to {MAJOR_PROPERTY}");
    }
    Ok(())
}
