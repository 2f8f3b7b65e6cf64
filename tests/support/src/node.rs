//! The Node.js packages of the interop tests (kafkajs and Confluent's schema-registry client
//! for it), installed from the npm registry when missing.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// kafkajs and `@kafkajs/confluent-schema-registry`, at pinned versions.
const NODE_PACKAGES: &[(&str, &str)] = &[
    ("kafkajs", "2.2.4"),
    ("@kafkajs/confluent-schema-registry", "4.1.0"),
];

/// The `node_modules` folder holding the interop packages, under `$HERALD_NODE` or by default
/// `$HOME/.cache/herald-node`; `npm install`ed once per test process when a package is
/// missing or at another version. Run a script with it as `NODE_PATH`. Panics saying why
/// when it cannot be made ready.
pub fn interop_node_modules() -> PathBuf {
    static MODULES: OnceLock<PathBuf> = OnceLock::new();
    MODULES
        .get_or_init(|| {
            let prefix = match std::env::var_os("HERALD_NODE") {
                Some(dir) => PathBuf::from(dir),
                None => PathBuf::from(std::env::var_os("HOME").expect("HOME is set"))
                    .join(".cache/herald-node"),
            };
            let modules = prefix.join("node_modules");
            let installed = |(name, version): &(&str, &str)| {
                std::fs::read_to_string(modules.join(name).join("package.json"))
                    .is_ok_and(|text| text.contains(&format!("\"version\": \"{version}\"")))
            };
            if !NODE_PACKAGES.iter().all(installed) {
                std::fs::create_dir_all(&prefix)
                    .unwrap_or_else(|error| panic!("cannot create {}: {error}", prefix.display()));
                let output = Command::new("npm")
                    .args(["install", "--silent", "--no-audit", "--no-fund", "--prefix"])
                    .arg(&prefix)
                    .args(NODE_PACKAGES.iter().map(|(name, v)| format!("{name}@{v}")))
                    .output()
                    .unwrap_or_else(|error| {
                        panic!("npm is required for the kafkajs interop test: {error}")
                    });
                assert!(
                    output.status.success() && NODE_PACKAGES.iter().all(installed),
                    "npm install {NODE_PACKAGES:?} failed: {}",
                    String::from_utf8_lossy(&output.stderr)
                );
            }
            modules
        })
        .clone()
}
