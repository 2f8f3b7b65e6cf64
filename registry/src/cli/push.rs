//! `herald push`: register the new local snapshots with a registry.
//!
//! Events are pushed in name order, the snapshots of one schema type (`--type`, Avro by
//! default) under the subjects the strategy names, each subject's versions oldest first,
//! with their majors (from `versions.json`) and the level `herald.toml` gives the event,
//! when it gives one, by [`herald_protocol::push`] (which says what a push sets and
//! registers). The first version the registry refuses stops the push: it and everything
//! after it stay unpushed.

use std::path::PathBuf;
use std::process::ExitCode;

use herald_protocol::annotations::MAJOR_PROPERTY;
use herald_protocol::push::{self, PushError, Step, Subject, Version};
use herald_protocol::registry_client::RegistryError;

use super::EXIT_USAGE;
use super::check::TypeArg;
use super::snapshots::{self, SnapshotFile};
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
    #[command(flatten)]
    tls: super::RegistryTls,
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

impl From<RegistryError> for Stop {
    fn from(err: RegistryError) -> Self {
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
    let client = super::registry_client(&args.registry, &args.tls).map_err(Stop::Failed)?;
    let schema_type = args.schema_type.schema_type();
    for event in &dir.events {
        // The event's files by subject, subjects in the order their first version comes.
        let mut subjects: Vec<(String, Vec<&SnapshotFile>)> = Vec::new();
        for file in event.of_type(schema_type) {
            let subject = args
                .subject_strategy
                .subject(&event.name, schema_type, &file.text);
            match subjects.iter_mut().find(|(name, _)| *name == subject) {
                Some((_, files)) => files.push(file),
                None => subjects.push((subject, vec![file])),
            }
        }
        for (name, files) in &subjects {
            let versions: Vec<Version<'_>> = files
                .iter()
                .map(|file| Version {
                    version: file.version,
                    major: event.major(file.version),
                    schema: &file.text,
                })
                .collect();
            let subject = Subject {
                name,
                schema_type,
                level: event.level_configured.then_some(event.level),
                versions: &versions,
            };
            let path = |version: u32| {
                files
                    .iter()
                    .find(|file| file.version == version)
                    .map(|file| file.path.display().to_string())
                    .unwrap_or_default()
            };
            let report = |step: &Step| match step {
                Step::LevelSet(level) => {
                    tally.levels_set += 1;
                    println!("{name}: level set to {level}");
                }
                Step::GroupSet => {
                    tally.groups_set += 1;
                    println!("{name}: compatibility group set to {MAJOR_PROPERTY}");
                }
                Step::AlreadyRegistered {
                    version,
                    registered,
                } => {
                    tally.unchanged += 1;
                    println!(
                        "{name}: v{version} ({}) already registered as version {}",
                        path(*version),
                        registered.version
                    );
                }
                Step::Registered { version, major, id } => {
                    tally.registered += 1;
                    println!(
                        "{name}: v{version} ({}) registered, schema id {id}, major {major}",
                        path(*version)
                    );
                }
            };
            match client.block_on(push::push(client.client(), &subject, report)) {
                Ok(_) => {}
                Err(PushError::Rejected {
                    version,
                    status,
                    message,
                }) => {
                    println!(
                        "{name}: v{version} ({}) REJECTED by the registry ({status}): {message}",
                        path(version)
                    );
                    println!("nothing after it was pushed");
                    return Err(Stop::Rejected);
                }
                Err(PushError::Registry(err)) => return Err(err.into()),
            }
        }
    }
    Ok(())
}
