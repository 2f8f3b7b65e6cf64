//! `herald push`: register the new local snapshots with a registry.
//!
//! Events are pushed in name order and each event's versions oldest first, the snapshots of
//! one schema type (`--type`, Avro by default) under the subject the strategy names. Before
//! its versions, a subject's compatibility level is set to the one `herald.toml` gives the
//! event, when it gives one and the subject does not already have it. A version the subject
//! already holds is left alone, so a second push changes nothing. The first version the
//! registry refuses stops the push: it and everything after it stay unpushed.

use std::path::PathBuf;
use std::process::ExitCode;

use super::EXIT_USAGE;
use super::check::TypeArg;
use super::registry_client::{ClientError, RegistryClient};
use super::snapshots;
use super::subject::SubjectStrategy;

/// Arguments of `herald push`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The snapshot directory (`<event>/v<N>.json`, `v<N>.avsc`, optional `herald.toml`).
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
        "{} version(s) registered, {} already registered, {} level(s) set",
        tally.registered, tally.unchanged, tally.levels_set
    );
    match result {
        Ok(()) if tally.registered == 0 && tally.levels_set == 0 => {
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
    let mut levels_checked: Vec<String> = Vec::new();
    for event in &dir.events {
        for file in event.of_type(schema_type) {
            let subject = args
                .subject_strategy
                .subject(&event.name, schema_type, &file.text);
            if event.level_configured && !levels_checked.contains(&subject) {
                levels_checked.push(subject.clone());
                let wanted = event.level.as_str();
                let current = client.subject_level(&subject)?;
                if current.as_deref() != Some(wanted) {
                    client.set_subject_level(&subject, wanted)?;
                    tally.levels_set += 1;
                    println!("{subject}: level set to {wanted}");
                }
            }
            if let Some(version) = client.lookup(&subject, schema_type, &file.text)? {
                tally.unchanged += 1;
                println!(
                    "{subject}: v{} ({}) already registered as version {version}",
                    file.version,
                    file.path.display()
                );
                continue;
            }
            match client.register(&subject, schema_type, &file.text)? {
                Ok(id) => {
                    tally.registered += 1;
                    println!(
                        "{subject}: v{} ({}) registered, schema id {id}",
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
