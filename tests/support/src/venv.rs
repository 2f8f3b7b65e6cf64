//! Python virtualenvs, created and filled from PyPI when what a test imports is missing.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Confluent's client with its Avro, JSON Schema and Protobuf serializers and its rule
/// executors (field encryption, CEL), and grpcio-tools, whose `protoc` compiles the interop
/// `.proto` files into Python classes.
const INTEROP_PACKAGES: &[&str] = &[
    "confluent-kafka[avro,json,protobuf,schemaregistry,rules]==2.16.1",
    "grpcio-tools==1.85.1",
    "protobuf==7.36.2",
];

/// What the interop scripts import.
const INTEROP_IMPORTS: &str = "import confluent_kafka.schema_registry.avro, \
    confluent_kafka.schema_registry.json_schema, confluent_kafka.schema_registry.protobuf, \
    confluent_kafka.schema_registry.rules.encryption.encrypt_executor, \
    confluent_kafka.schema_registry.rules.cel.cel_executor, grpc_tools.protoc";

/// Why a virtualenv could not be made ready.
#[derive(Debug, thiserror::Error)]
pub enum VenvError {
    /// `python3` could not be run.
    #[error("python3 must be installed to create the virtualenv {dir}: {source}")]
    Python3 {
        /// The virtualenv's folder.
        dir: PathBuf,
        /// Why it could not be run.
        source: std::io::Error,
    },
    /// `python3 -m venv` failed.
    #[error("python3 -m venv {0} failed")]
    Create(PathBuf),
    /// `pip install` could not be run, or failed.
    #[error("pip install {packages:?} failed: {output}")]
    Pip {
        /// The packages asked for.
        packages: Vec<String>,
        /// pip's output, or why it could not be run.
        output: String,
    },
    /// The packages were installed, yet the imports still fail.
    #[error("{packages:?} were installed but `{imports}` fails")]
    Import {
        /// The packages installed.
        packages: Vec<String>,
        /// The Python statement that fails.
        imports: String,
    },
}

/// The python of the virtualenv at `dir` where `imports` (a Python statement) succeeds,
/// first creating the virtualenv and `pip install`ing `packages` into it when it does not.
pub fn python_venv(dir: &Path, packages: &[&str], imports: &str) -> Result<PathBuf, VenvError> {
    let python = dir.join("bin/python");
    let ready = || {
        Command::new(&python)
            .args(["-c", imports])
            .status()
            .is_ok_and(|s| s.success())
    };
    if ready() {
        return Ok(python);
    }
    if !python.exists() {
        let status = Command::new("python3")
            .args(["-m", "venv"])
            .arg(dir)
            .status()
            .map_err(|source| VenvError::Python3 {
                dir: dir.to_owned(),
                source,
            })?;
        if !status.success() {
            return Err(VenvError::Create(dir.to_owned()));
        }
    }
    let pip_error = |output: String| VenvError::Pip {
        packages: packages.iter().map(|p| p.to_string()).collect(),
        output,
    };
    let output = Command::new(&python)
        .args(["-m", "pip", "install", "--quiet"])
        .args(packages)
        .output()
        .map_err(|error| pip_error(error.to_string()))?;
    if !output.status.success() {
        return Err(pip_error(format!(
            "{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )));
    }
    if !ready() {
        return Err(VenvError::Import {
            packages: packages.iter().map(|p| p.to_string()).collect(),
            imports: imports.to_owned(),
        });
    }
    Ok(python)
}

/// The python of the interop virtualenv, `$HERALD_VENV` or by default
/// `$HOME/.cache/herald-venv`, with Confluent's client (Avro, JSON Schema, Protobuf, rules) and
/// grpcio-tools at pinned versions; made ready once per test process (two tests may ask at
/// the same moment, and two `python3 -m venv` runs on one folder fail). Panics saying why
/// when it cannot be.
pub fn interop_python() -> PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON
        .get_or_init(|| {
            let dir = match std::env::var_os("HERALD_VENV") {
                Some(dir) => PathBuf::from(dir),
                None => PathBuf::from(std::env::var_os("HOME").expect("HOME is set"))
                    .join(".cache/herald-venv"),
            };
            python_venv(&dir, INTEROP_PACKAGES, INTEROP_IMPORTS)
                .unwrap_or_else(|error| panic!("the interop virtualenv is not ready: {error}"))
        })
        .clone()
}
