//! What the consumer's interop tests run besides NATS and PostgreSQL: a real `herald serve`
//! and Confluent's Python client in a virtualenv.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Builds the `herald` binary (a no-op when it is up to date) and returns its path, as
/// cargo reports it.
pub fn herald_binary() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(&workspace)
        .args(["build", "-q", "-p", "herald-registry", "--bin", "herald"])
        .arg("--message-format=json");
    if std::env::current_exe()
        .unwrap()
        .components()
        .any(|c| c.as_os_str() == "release")
    {
        command.arg("--release");
    }
    let output = command.stderr(Stdio::inherit()).output().unwrap();
    assert!(output.status.success(), "cargo build of herald failed");
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| message["target"]["name"] == "herald")
        .find_map(|message| message["executable"].as_str().map(PathBuf::from))
        .expect("cargo reported no herald executable")
}

/// `herald serve` on SQLite in a child process, killed on drop.
pub struct Registry {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    _dir: tempfile::TempDir,
}

impl Registry {
    /// Starts `herald serve` on a random port with a fresh database; with `credentials`
    /// (`name:password:role` lines) it asks for basic authentication.
    pub fn start(credentials: Option<&str>) -> Registry {
        let dir = tempfile::tempdir().unwrap();
        let mut command = Command::new(herald_binary());
        command
            .arg("serve")
            .env("HERALD_LISTEN", "127.0.0.1:0")
            .env(
                "HERALD_DATABASE_URL",
                format!("sqlite://{}", dir.path().join("registry.db").display()),
            )
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if let Some(credentials) = credentials {
            let file = dir.path().join("credentials");
            std::fs::write(&file, credentials).unwrap();
            command.env("HERALD_CREDENTIALS_FILE", file);
        }
        let mut child = command.spawn().expect("spawn herald serve");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("herald serve: {line}");
                if let Some(rest) = line.split("listening on http://").nth(1) {
                    let address = rest.split_whitespace().next().unwrap_or("").to_owned();
                    let _ = tx.send(address);
                }
            }
        });
        let address = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("herald serve did not start listening within 60 s");
        Registry {
            child,
            base: format!("http://{address}"),
            _dir: dir,
        }
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Confluent's Python client, as the registry's interop test installs it.
const PACKAGE: &str = "confluent-kafka[avro,json,schemaregistry]==2.16.1";

/// The python of the virtualenv `$HOME/.cache/herald-venv` (the registry's interop tests
/// use the same one), created with confluent-kafka when missing; fails saying why when it
/// cannot be.
pub fn venv_python() -> PathBuf {
    let home = std::env::var_os("HOME").expect("HOME is set");
    let venv = PathBuf::from(home).join(".cache/herald-venv");
    let python = venv.join("bin/python");
    let ready = |python: &PathBuf| {
        Command::new(python)
            .args(["-c", "import confluent_kafka.schema_registry.avro"])
            .status()
            .is_ok_and(|s| s.success())
    };
    if ready(&python) {
        return python;
    }
    if !python.exists() {
        let status = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .expect("python3 must be installed to create the interop virtualenv");
        assert!(
            status.success(),
            "python3 -m venv {} failed",
            venv.display()
        );
    }
    let output = Command::new(venv.join("bin/pip"))
        .args(["install", "--quiet", PACKAGE])
        .output()
        .expect("run pip");
    assert!(
        output.status.success(),
        "pip install \"{PACKAGE}\" failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        ready(&python),
        "confluent-kafka was installed but cannot be imported"
    );
    python
}
