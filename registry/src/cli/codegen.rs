//! `herald codegen`: Rust types from a schema file or a registry subject.
//!
//! A Protobuf schema is parsed with its imports first: a registered version's references are
//! fetched from the registry (recursively), a file's imports are read from the
//! `--proto-path` directories (by default the file's own), as `protoc -I` would.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use herald_registry::codegen::{
    CodegenError, Options, generate, generate_protobuf, recorded_event_name,
};
use herald_registry::schema::{Limits, Schema, SchemaType};

use super::EXIT_USAGE;
use super::check::TypeArg;
use herald_protocol::registry_client::SchemaReference;
use herald_protocol::registry_client::blocking::RegistryClient;

/// Arguments of `herald codegen`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["registry", "schema"])))]
pub(crate) struct Args {
    /// The schema registry to read the schema from (with `--subject`).
    #[arg(long, value_name = "URL", requires = "subject")]
    registry: Option<String>,
    #[command(flatten)]
    tls: super::RegistryTls,
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
    /// Where a `.proto` file's imports are read from (repeatable; default: the file's
    /// directory). Well-known imports (`google/protobuf/*`, ...) need none.
    #[arg(long, value_name = "DIR", requires = "schema")]
    proto_path: Vec<PathBuf>,
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
        .and_then(herald_protocol::snapshot::parse_schema_file_name)
        .map_or(1, |(v, _)| v);
    (name, version)
}

/// A schema to generate code for.
struct Loaded {
    schema_type: SchemaType,
    text: String,
    /// A Protobuf schema, parsed with its imports.
    protobuf: Option<Schema>,
}

pub(crate) fn run(args: Args) -> ExitCode {
    let (loaded, name, version) = match load(&args) {
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
        .or_else(|| recorded_event_name(loaded.schema_type, &loaded.text))
        .unwrap_or(name);
    let options = Options::new(name, args.event_version.unwrap_or(version));
    let generated = match &loaded.protobuf {
        Some(schema) => generate_protobuf(schema),
        None => generate(loaded.schema_type, &loaded.text, &options),
    };
    let code = match generated {
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

fn load(args: &Args) -> Result<(Loaded, String, u32), String> {
    if let (Some(url), Some(subject)) = (&args.registry, &args.subject) {
        let client = super::registry_client(url, &args.tls)?;
        let registered = client
            .version(subject, &args.version)
            .map_err(|err| err.to_string())?;
        let version = registered.version;
        let registered = registered.schema;
        let protobuf = if registered.schema_type == SchemaType::Protobuf {
            Some(registered_protobuf(
                &client,
                &registered.schema,
                &registered.references,
                0,
            )?)
        } else {
            None
        };
        let loaded = Loaded {
            schema_type: registered.schema_type,
            text: registered.schema,
            protobuf,
        };
        return Ok((loaded, event_name_of_subject(subject).to_owned(), version));
    }
    let (Some(path), Some(schema_type)) = (&args.schema, args.schema_type) else {
        return Err(
            "give --registry URL --subject S, or --schema FILE --type AVRO|JSON|PROTOBUF"
                .to_owned(),
        );
    };
    let schema_type = schema_type.schema_type();
    let text = read(path)?;
    let protobuf = if schema_type == SchemaType::Protobuf {
        let include = if args.proto_path.is_empty() {
            vec![path.parent().unwrap_or(Path::new(".")).to_path_buf()]
        } else {
            args.proto_path.clone()
        };
        Some(file_protobuf(&text, &include, 0)?)
    } else {
        None
    };
    let (name, version) = file_defaults(path);
    let loaded = Loaded {
        schema_type,
        text,
        protobuf,
    };
    Ok((loaded, name, version))
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|err| format!("cannot read {}: {err}", path.display()))
}

/// How deep references may nest (an import cycle on the registry would never end).
const MAX_IMPORT_DEPTH: usize = 64;

fn too_deep(depth: usize) -> Result<(), String> {
    if depth > MAX_IMPORT_DEPTH {
        return Err(format!(
            "imports nest more than {MAX_IMPORT_DEPTH} deep (an import cycle?)"
        ));
    }
    Ok(())
}

/// A registered Protobuf schema, parsed with the versions its references name.
fn registered_protobuf(
    client: &RegistryClient,
    text: &str,
    references: &[SchemaReference],
    depth: usize,
) -> Result<Schema, String> {
    too_deep(depth)?;
    let mut imports = Vec::with_capacity(references.len());
    for SchemaReference {
        name,
        subject,
        version,
    } in references
    {
        let registered = client
            .version(subject, &version.to_string())
            .map_err(|err| err.to_string())?
            .schema;
        let schema = registered_protobuf(
            client,
            &registered.schema,
            &registered.references,
            depth + 1,
        )
        .map_err(|err| format!("reference `{name}` ({subject} version {version}): {err}"))?;
        imports.push((name.clone(), schema));
    }
    parse_protobuf(text, &imports)
}

/// A `.proto` file, parsed with the imports found under `include` (others must be
/// well-known).
fn file_protobuf(text: &str, include: &[PathBuf], depth: usize) -> Result<Schema, String> {
    too_deep(depth)?;
    // A file that does not parse has no imports to read: the parse below reports it.
    let names = protox::file::File::from_source("schema.proto", text)
        .map(|file| file.file_descriptor_proto().dependency.clone())
        .unwrap_or_default();
    let mut imports = Vec::new();
    for name in names {
        let Some(path) = include
            .iter()
            .map(|dir| dir.join(&name))
            .find(|p| p.is_file())
        else {
            continue;
        };
        let schema = file_protobuf(&read(&path)?, include, depth + 1)
            .map_err(|err| format!("{}: {err}", path.display()))?;
        imports.push((name, schema));
    }
    parse_protobuf(text, &imports)
}

fn parse_protobuf(text: &str, imports: &[(String, Schema)]) -> Result<Schema, String> {
    let imports: Vec<(&str, &Schema)> = imports.iter().map(|(n, s)| (n.as_str(), s)).collect();
    Schema::parse_protobuf(text, &imports, &Limits::default()).map_err(|err| err.to_string())
}
