//! `herald codegen`: Rust types from a schema file or a registry subject.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use herald_registry::codegen::{CodegenError, Options, generate, recorded_event_name};
use herald_registry::schema::SchemaType;

use super::EXIT_USAGE;
use super::check::TypeArg;
use super::registry_client::RegistryClient;

/// Arguments of `herald codegen`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["registry", "schema"])))]
pub(crate) struct Args {
    /// The schema registry to read the schema from (with `--subject`).
    #[arg(long, value_name = "URL", requires = "subject")]
    registry: Option<String>,
    /// The subject to read.
    #[arg(long, requires = "registry")]
    subject: Option<String>,
    /// The subject's version (a number or `latest`).
    #[arg(long, default_value = "latest", requires = "registry")]
    version: String,
    /// A schema file to read instead of a registry.
    #[arg(
        long,
        value_name = "FILE",
        requires = "schema_type",
        conflicts_with = "registry"
    )]
    schema: Option<PathBuf>,
    /// The schema file's type.
    #[arg(long = "type", value_enum, ignore_case = true)]
    schema_type: Option<TypeArg>,
    /// The event name of `#[event(name = ...)]` (default: the one a Herald-exported Avro
    /// schema records, else the subject without `-value`, or the schema file's directory).
    #[arg(long)]
    event_name: Option<String>,
    /// The version of `#[event(version = ...)]` (default: the registry version, or N of a
    /// `v<N>` file name, else 1).
    #[arg(long)]
    event_version: Option<u32>,
    /// Where to write the code (default: standard output).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
}

/// The event name a subject stands for: without Confluent's `-value` / `-key` suffix.
pub(crate) fn event_name_of_subject(subject: &str) -> &str {
    subject
        .strip_suffix("-value")
        .or_else(|| subject.strip_suffix("-key"))
        .unwrap_or(subject)
}

fn file_defaults(path: &Path) -> (String, u32) {
    let name = path
        .parent()
        .and_then(Path::file_name)
        .and_then(|n| n.to_str())
        .filter(|n| !n.is_empty())
        .unwrap_or("event")
        .to_owned();
    let version = path
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(super::snapshots::parse_file_name)
        .map_or(1, |(v, _)| v);
    (name, version)
}

pub(crate) fn run(args: Args) -> ExitCode {
    let (schema_type, text, name, version) = match load(&args) {
        Ok(loaded) => loaded,
        Err(message) => {
            eprintln!("herald codegen: {message}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    // A schema Herald exported names its event, before the subject or the directory does.
    let name = args
        .event_name
        .clone()
        .or_else(|| recorded_event_name(schema_type, &text))
        .unwrap_or(name);
    let options = Options::new(name, args.event_version.unwrap_or(version));
    let code = match generate(schema_type, &text, &options) {
        Ok(code) => code,
        Err(err @ CodegenError::Unsupported { .. }) => {
            eprintln!("herald codegen: cannot generate Rust for this schema: {err}");
            return ExitCode::from(1);
        }
        Err(err) => {
            eprintln!("herald codegen: {err}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    match &args.output {
        Some(path) => match std::fs::write(path, code) {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("herald codegen: cannot write {}: {err}", path.display());
                ExitCode::from(EXIT_USAGE)
            }
        },
        None => {
            print!("{code}");
            ExitCode::SUCCESS
        }
    }
}

fn load(args: &Args) -> Result<(SchemaType, String, String, u32), String> {
    if let (Some(url), Some(subject)) = (&args.registry, &args.subject) {
        let client = RegistryClient::new(url).map_err(|err| err.to_string())?;
        let (version, schema_type, text) = client
            .version_schema(subject, &args.version)
            .map_err(|err| err.to_string())?;
        return Ok((
            schema_type,
            text,
            event_name_of_subject(subject).to_owned(),
            version,
        ));
    }
    let (Some(path), Some(schema_type)) = (&args.schema, args.schema_type) else {
        return Err(
            "give --registry URL --subject S, or --schema FILE --type AVRO|JSON".to_owned(),
        );
    };
    let text = std::fs::read_to_string(path)
        .map_err(|err| format!("cannot read {}: {err}", path.display()))?;
    let (name, version) = file_defaults(path);
    Ok((schema_type.schema_type(), text, name, version))
}
