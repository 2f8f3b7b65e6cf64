//! `--against REF`: the snapshots committed at a git ref are published and must exist
//! unchanged (compared as JSON values without Herald's annotations, and `.proto` files by
//! their re-print, so reformatting and comments are not a change), and so must their entries
//! in `versions.json` (a version's major).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use herald_protocol::annotations::{differences, without_annotations};
use herald_protocol::snapshot::{self, VERSIONS_FILE, VersionEntry};
use herald_registry::schema::{Schema, SchemaType};
use serde_json::Value;

use super::Finding;
use crate::cli::snapshots::SnapshotDir;

/// Runs git in `dir`; its stdout, or a message naming the command.
fn git(dir: &Path, args: &[&str]) -> Result<Vec<u8>, String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .map_err(|err| format!("cannot run git: {err}"))?;
    if output.status.success() {
        Ok(output.stdout)
    } else {
        Err(format!(
            "`git {}` in {} failed: {}",
            args.join(" "),
            dir.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

/// Published snapshots (committed at `reference`) must exist unchanged.
pub(super) fn check_against(
    dir: &SnapshotDir,
    reference: &str,
    findings: &mut Vec<Finding>,
) -> Result<(), String> {
    git(
        &dir.root,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{reference}^{{commit}}"),
        ],
    )
    .map_err(|_| unknown_reference(dir, reference))?;
    let listing = git(
        &dir.root,
        &["ls-tree", "-r", "--name-only", reference, "--", "."],
    )?;
    let listing = String::from_utf8_lossy(&listing);
    for relative in listing.lines() {
        let Some((event, file_name)) = relative.split_once('/') else {
            continue;
        };
        if file_name.contains('/') {
            continue;
        }
        if file_name == VERSIONS_FILE {
            check_versions_file(dir, reference, event, relative, findings)?;
            continue;
        }
        let Some((version, schema_type)) = snapshot::parse_schema_file_name(file_name) else {
            continue;
        };
        let path = dir.root.join(relative);
        let display = path.display().to_string();
        let mut finding = |kind: &str, location: String, message: String, hint: &str| {
            findings.push(Finding {
                event: event.to_owned(),
                version,
                file: display.clone(),
                schema_type: schema_type.as_str(),
                kind: kind.to_owned(),
                location,
                message,
                hint: hint.to_owned(),
                line: None,
            });
        };
        let local = dir
            .events
            .iter()
            .find(|e| e.name == event)
            .and_then(|e| e.files.iter().find(|f| f.relative == relative));
        let Some(local) = local else {
            finding(
                "PUBLISHED_VERSION_DELETED",
                String::new(),
                format!(
                    "version {version} of `{event}` was published at {reference} and its snapshot is gone"
                ),
                "published versions are immutable: restore the snapshot from git",
            );
            continue;
        };
        let old = git(&dir.root, &["show", &format!("{reference}:./{relative}")])?;
        let old = String::from_utf8_lossy(&old);
        let same = if schema_type == SchemaType::Protobuf {
            let printed = |text: &str| {
                Schema::parse(SchemaType::Protobuf, text)
                    .ok()
                    .and_then(|schema| schema.protobuf_text().map(str::to_owned))
            };
            match (printed(&old), printed(&local.text)) {
                (Some(a), Some(b)) => (a != b).then(Vec::new),
                _ => (old.trim() != local.text.trim()).then(Vec::new),
            }
        } else {
            match (
                serde_json::from_str::<Value>(&old),
                serde_json::from_str::<Value>(&local.text),
            ) {
                (Ok(a), Ok(b)) => Some(differences(
                    &without_annotations(&a),
                    &without_annotations(&b),
                ))
                .filter(|pointers| !pointers.is_empty()),
                _ => (old.trim() != local.text.trim()).then(Vec::new),
            }
        };
        if let Some(pointers) = same {
            let location = pointers.first().cloned().unwrap_or_default();
            let shown: Vec<&str> = pointers.iter().take(5).map(String::as_str).collect();
            let more = if pointers.len() > 5 {
                format!(" and {} more", pointers.len() - 5)
            } else {
                String::new()
            };
            finding(
                "PUBLISHED_VERSION_CHANGED",
                location,
                format!(
                    "version {version} of `{event}` was published at {reference} and has been edited in place (differs at {}{more})",
                    if shown.is_empty() {
                        "the file".to_owned()
                    } else {
                        shown.join(", ")
                    }
                ),
                "published versions are immutable: restore the snapshot and add the change as a new version",
            );
        }
    }
    Ok(())
}

/// The error for a `--against` that names no commit here: in a shallow clone (what CI
/// checkouts make by default) it most likely was not fetched, and the message says how.
fn unknown_reference(dir: &SnapshotDir, reference: &str) -> String {
    let shallow = git(&dir.root, &["rev-parse", "--is-shallow-repository"])
        .is_ok_and(|out| String::from_utf8_lossy(&out).trim() == "true");
    if shallow {
        format!(
            "`{reference}` is not in this clone of the repository holding {}: the clone is \
             shallow, so the commits before its tip were not fetched. Fetch the base first \
             (`git fetch --deepen=50`, or `git fetch origin <branch>` for a branch), or check out \
             the full history (`fetch-depth: 0` with actions/checkout)",
            dir.root.display()
        )
    } else {
        format!(
            "`{reference}` is not a git commit of the repository holding {}",
            dir.root.display()
        )
    }
}

/// The `versions.json` entries committed at `reference` are published: each must still exist
/// with the same major, breaking reason and event types.
fn check_versions_file(
    dir: &SnapshotDir,
    reference: &str,
    event: &str,
    relative: &str,
    findings: &mut Vec<Finding>,
) -> Result<(), String> {
    let old = git(&dir.root, &["show", &format!("{reference}:./{relative}")])?;
    let Ok(old) = serde_json::from_slice::<BTreeMap<u32, VersionEntry>>(&old) else {
        return Ok(());
    };
    let local = dir.events.iter().find(|e| e.name == event);
    let path = dir.root.join(relative).display().to_string();
    for (version, published) in old {
        let now = local.and_then(|e| e.versions.get(&version));
        if now == Some(&published) {
            continue;
        }
        let change = match now {
            None => "its entry is gone".to_owned(),
            Some(now) if now.major != published.major => {
                format!(
                    "its major changed from {} to {}",
                    published.major, now.major
                )
            }
            Some(_) => "its breaking reason or event types changed".to_owned(),
        };
        findings.push(Finding {
            event: event.to_owned(),
            version,
            file: path.clone(),
            schema_type: "",
            kind: "PUBLISHED_VERSION_CHANGED".to_owned(),
            location: format!("/{version}"),
            message: format!(
                "version {version} of `{event}` was published at {reference} and its entry in \
                 {} has been edited in place: {change}",
                VERSIONS_FILE
            ),
            hint: "a published version keeps its major: restore its `#[event(...)]` declaration \
                   (`breaking`, `major`) and the entry, and declare the change on a new version"
                .to_owned(),
            line: None,
        });
    }
    Ok(())
}
