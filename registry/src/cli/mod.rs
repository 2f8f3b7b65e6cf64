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
