//! The report of `herald check`: text, one JSON document, or GitHub workflow annotations.

use std::io::Write;

use serde_json::json;

use super::{Outcome, Output};

/// Writes the report of `outcome` to stdout in the `output` format.
pub(super) fn print(outcome: &Outcome, output: Output) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    match output {
        Output::Json => {
            let body = json!({
                "ok": outcome.findings.is_empty(),
                "events": outcome.events,
                "snapshots": outcome.snapshots,
                "violations": outcome.findings,
                "registry": outcome.registry,
                "subjects": outcome.subjects,
            });
            writeln!(out, "{body}")
        }
        Output::Github => {
            for f in &outcome.findings {
                let mut text = format!("{} v{} ({}): ", f.event, f.version, f.kind);
                if !f.location.is_empty() {
                    text.push_str(&format!("at {}: ", f.location));
                }
                text.push_str(&f.message);
                if !f.hint.is_empty() {
                    text.push_str(&format!("\nhint: {}", f.hint));
                }
                let line = f.line.map(|l| format!(",line={l}")).unwrap_or_default();
                writeln!(
                    out,
                    "::error file={}{line},title={}::{}",
                    escape_property(&f.file),
                    escape_property(&format!("herald check: {}", f.kind)),
                    escape_data(&text)
                )?;
            }
            writeln!(out, "{}", summary(outcome))
        }
        Output::Text => {
            let mut current: Option<(&str, u32, &str)> = None;
            for f in &outcome.findings {
                if current.map(|(e, _, _)| e) != Some(f.event.as_str()) {
                    writeln!(out, "event `{}`", f.event)?;
                }
                if current != Some((f.event.as_str(), f.version, f.file.as_str())) {
                    writeln!(out, "  version {} ({})", f.version, f.file)?;
                }
                current = Some((f.event.as_str(), f.version, f.file.as_str()));
                let location = if f.location.is_empty() {
                    String::new()
                } else {
                    format!(" at {}", f.location)
                };
                writeln!(out, "    error[{}]{location}: {}", f.kind, f.message)?;
                if !f.hint.is_empty() {
                    writeln!(out, "      hint: {}", f.hint)?;
                }
            }
            if let Some(registry) = &outcome.registry {
                writeln!(out, "registry {registry}:")?;
                for plan in &outcome.subjects {
                    let parts: Vec<String> = plan
                        .versions
                        .iter()
                        .map(|v| match (v.registered_as, v.accepted) {
                            (Some(r), _) => format!("v{} registered (version {r})", v.version),
                            (None, Some(true)) => format!("v{} new, accepted", v.version),
                            _ => format!("v{} new, REJECTED", v.version),
                        })
                        .collect();
                    writeln!(out, "  {}: {}", plan.subject, parts.join(", "))?;
                }
            }
            writeln!(out, "{}", summary(outcome))
        }
    }
}

fn summary(outcome: &Outcome) -> String {
    let new: usize = outcome
        .subjects
        .iter()
        .flat_map(|s| &s.versions)
        .filter(|v| v.registered_as.is_none())
        .count();
    let registry = match &outcome.registry {
        Some(_) => format!(", {new} new version(s) for the registry"),
        None => String::new(),
    };
    if outcome.findings.is_empty() {
        format!(
            "herald check: ok, {} event(s), {} snapshot(s){registry}",
            outcome.events, outcome.snapshots
        )
    } else {
        let mut events: Vec<&str> = outcome.findings.iter().map(|f| f.event.as_str()).collect();
        events.dedup();
        format!(
            "herald check: {} violation(s) in {} of {} event(s), {} snapshot(s){registry}",
            outcome.findings.len(),
            events.len(),
            outcome.events,
            outcome.snapshots
        )
    }
}

/// Escapes an annotation message (GitHub's workflow command syntax).
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes an annotation property value.
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}
