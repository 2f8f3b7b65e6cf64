//! `herald serve` on SQLite in a child process.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::herald_binary;

/// `herald serve` on a fresh SQLite database and a random port, its stderr echoed to the
/// test's; killed on drop.
pub struct Registry {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    _dir: tempfile::TempDir,
}

impl Registry {
    /// Starts `herald serve` and waits (60 s at most) until it listens; with `credentials`
    /// (`name:password:role` lines) it asks for basic authentication.
    pub fn start(credentials: Option<&str>) -> Registry {
        let dir = tempfile::tempdir().expect("a temporary directory");
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
            std::fs::write(&file, credentials).expect("write the credentials file");
            command.env("HERALD_CREDENTIALS_FILE", file);
        }
        let mut child = command.spawn().expect("spawn herald serve");
        let stderr = child.stderr.take().expect("herald serve's stderr is piped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("herald serve: {line}");
                if let Some(rest) = line.split("listening on http://").nth(1) {
                    let _ = tx.send(rest.split_whitespace().next().unwrap_or("").to_owned());
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
