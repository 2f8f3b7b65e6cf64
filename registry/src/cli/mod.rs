//! Command-line parsing and dispatch for the `herald` binary.

mod check;
mod codegen;
mod compat;
mod push;
#[cfg(feature = "server")]
mod serve;
mod snapshots;
mod subject;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Herald: evolve event schemas without breaking anyone.
#[derive(Debug, Parser)]
#[command(name = "herald", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check a schema against previous versions under a compatibility level.
    Compat(compat::Args),
    /// Check the committed snapshots: history, a git ref, a registry.
    Check(check::Args),
    /// Register the new local snapshots with a schema registry.
    Push(push::Args),
    /// Generate Rust types from a schema file or a registry subject.
    Codegen(codegen::Args),
    /// Run the Confluent-compatible schema registry server.
    #[cfg(feature = "server")]
    Serve(herald_registry::server::ServeOptions),
}

/// Exit status for a usage error, an unreadable file or an invalid schema.
pub(crate) const EXIT_USAGE: u8 = 2;

/// How long the tool waits for each answer of a registry.
pub(crate) const REGISTRY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// How the tool trusts an `https://` registry, and the certificate it presents to one that
/// asks (`herald check`, `push` and `codegen`).
#[derive(Debug, Clone, Default, clap::Args)]
pub(crate) struct RegistryTls {
    /// A PEM file of CA certificates to trust for an `https://` registry, besides the
    /// public ones (a registry whose certificate a private CA signed).
    #[arg(long, value_name = "FILE", env = "HERALD_REGISTRY_CA")]
    registry_ca: Option<std::path::PathBuf>,
    /// A client certificate chain (PEM, leaf first) presented to a registry that asks for
    /// one (mutual TLS); needs `--registry-key`.
    #[arg(
        long,
        value_name = "FILE",
        env = "HERALD_REGISTRY_CERT",
        requires = "registry_key"
    )]
    registry_cert: Option<std::path::PathBuf>,
    /// The private key (PEM) of `--registry-cert`.
    #[arg(
        long,
        value_name = "FILE",
        env = "HERALD_REGISTRY_KEY",
        requires = "registry_cert"
    )]
    registry_key: Option<std::path::PathBuf>,
}

/// A client of the registry at `url`, trusting the CA of `tls` and presenting its client
/// certificate if it names them.
pub(crate) fn registry_client(
    url: &str,
    tls: &RegistryTls,
) -> Result<herald_protocol::registry_client::blocking::RegistryClient, String> {
    let read = |path: &std::path::Path, what: &str| {
        std::fs::read(path)
            .map_err(|err| format!("cannot read the {what} {}: {err}", path.display()))
    };
    let mut client =
        herald_protocol::registry_client::blocking::RegistryClient::new(url, REGISTRY_TIMEOUT)
            .map_err(|err| err.to_string())?;
    if let Some(path) = &tls.registry_ca {
        client = client
            .with_ca_certificate(&read(path, "CA file")?)
            .map_err(|err| format!("{}: {err}", path.display()))?;
    }
    if let (Some(cert), Some(key)) = (&tls.registry_cert, &tls.registry_key) {
        client = client
            .with_client_certificate(
                &read(cert, "client certificate")?,
                &read(key, "client key")?,
            )
            .map_err(|err| format!("{}: {err}", cert.display()))?;
    }
    Ok(client)
}

/// Parses the command line and runs the chosen command.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Compat(args) => compat::run(args),
        Command::Check(args) => check::run(args),
        Command::Push(args) => push::run(args),
        Command::Codegen(args) => codegen::run(args),
        #[cfg(feature = "server")]
        Command::Serve(config) => serve::run(config),
    }
}
