//! The `herald` binary, built by cargo for the profile the running test was built with.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// The `herald` binary: the one cargo built for the running test when it is one of
/// `herald-registry`'s (cargo names it in `CARGO_BIN_EXE_herald`), else built once per test
/// process (a no-op when it is up to date) with `--release` when the running test is a
/// release build, at the path cargo reports.
pub fn herald_binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| match std::env::var_os("CARGO_BIN_EXE_herald") {
        Some(path) => PathBuf::from(path),
        None => build(),
    })
}

fn build() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(&workspace)
        .args(["build", "-q", "-p", "herald-registry", "--bin", "herald"])
        .arg("--message-format=json");
    let test = std::env::current_exe().expect("the running test's path");
    if test.components().any(|c| c.as_os_str() == "release") {
        command.arg("--release");
    }
    let output = command
        .stderr(Stdio::inherit())
        .output()
        .expect("run cargo build");
    assert!(output.status.success(), "cargo build of herald failed");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| message["target"]["name"] == "herald")
        .find_map(|message| message["executable"].as_str().map(PathBuf::from))
        .expect("cargo reported no herald executable")
}
