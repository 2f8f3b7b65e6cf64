//! The `herald` command: schema registry server and schema tooling.

use std::process::ExitCode;

mod cli;

fn main() -> ExitCode {
    cli::run()
}
