//! Two versions of a subject side by side: a line diff of their highlighted text, and the
//! engine's verdict on the later one read against the earlier, each violation anchored to the
//! line of its location in the schema that was reading.

use std::collections::BTreeSet;

use axum::extract::{Query, State};
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;
use similar::{Algorithm, DiffOp, capture_diff_slices};

use crate::schema::{Direction, Report, Violation};
use crate::server::AppState;
use crate::service::{Against, Options, SchemaRequest, ServiceError};

use super::Failure;
use super::highlight::{self, Line};
use super::layout::{self, page, pieces, subject_url};
use super::segments::SubjectPath;

/// Which versions to compare.
#[derive(Debug, Deserialize)]
pub(crate) struct DiffQuery {
    from: Option<i32>,
    to: Option<i32>,
}

/// How a row of the side-by-side diff changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    Same,
    Removed,
    Added,
    Changed,
}

/// Rows of (left line, right line, change), from a line diff.
fn rows(left: &[String], right: &[String]) -> Vec<(Option<usize>, Option<usize>, Change)> {
    let mut out = Vec::new();
    for op in capture_diff_slices(Algorithm::Myers, left, right) {
        match op {
            DiffOp::Equal {
                old_index,
                new_index,
                len,
            } => out
                .extend((0..len).map(|i| (Some(old_index + i), Some(new_index + i), Change::Same))),
            DiffOp::Delete {
                old_index, old_len, ..
            } => out.extend((0..old_len).map(|i| (Some(old_index + i), None, Change::Removed))),
            DiffOp::Insert {
                new_index, new_len, ..
            } => out.extend((0..new_len).map(|i| (None, Some(new_index + i), Change::Added))),
            DiffOp::Replace {
                old_index,
                old_len,
                new_index,
                new_len,
            } => out.extend((0..old_len.max(new_len)).map(|i| {
                (
                    (i < old_len).then_some(old_index + i),
                    (i < new_len).then_some(new_index + i),
                    Change::Changed,
                )
            })),
        }
    }
    out
}

/// The page for two versions (by default the latest and the live one before it).
async fn render(state: AppState, subject: String, query: DiffQuery) -> Result<Response, Failure> {
    let registry = state.registry();
    let all = registry.versions(&subject, true).await?;
    let latest = all
        .iter()
        .rev()
        .find(|r| !r.deleted)
        .or(all.last())
        .map_or(1, |r| r.version);
    let to = query.to.unwrap_or(latest);
    let from = query.from.unwrap_or_else(|| {
        all.iter()
            .rev()
            .find(|r| r.version < to && !r.deleted)
            .map_or(to, |r| r.version)
    });
    let old_row = registry.version(&subject, Some(from), true).await?;
    let new_row = registry.version(&subject, Some(to), true).await?;
    let old = registry.schema_by_id(old_row.schema_id).await?;
    let new = registry.schema_by_id(new_row.schema_id).await?;
    let left = highlight::schema(old.schema_type.as_str(), &old.text);
    let right = highlight::schema(new.schema_type.as_str(), &new.text);
    let left_text: Vec<String> = left.iter().map(Line::text).collect();
    let right_text: Vec<String> = right.iter().map(Line::text).collect();
    // The verdict registering `to` would get against `from`: the same check as
    // `POST /compatibility/subjects/{s}/versions/{from}`.
    let request = SchemaRequest {
        schema: Some(new.text.clone()),
        schema_type: Some(new.schema_type.as_str().to_owned()),
        references: Some(new.references.clone()),
        metadata: new.metadata.clone(),
        rule_set: new.rule_set.clone(),
        ..SchemaRequest::default()
    };
    let verdict = match registry
        .check_compatibility(
            &subject,
            Against::Version(Some(from)),
            &request,
            Options::default(),
        )
        .await
    {
        Ok(report) => Ok(report),
        Err(ServiceError::VersionNotFound(_)) => Err("a soft-deleted version is not compared"),
        Err(err) => return Err(err.into()),
    };
    let level = registry.effective_level(Some(&subject)).await?;
    let (forward, backward): (Vec<&Violation>, Vec<&Violation>) = match &verdict {
        Ok(report) => report
            .violations
            .iter()
            .partition(|v| v.direction == Some(Direction::Forward)),
        Err(_) => (Vec::new(), Vec::new()),
    };
    let marked_left = layout::marked_lines(&left, &forward);
    let marked_right = layout::marked_lines(&right, &backward);
    let base = subject_url(&subject);
    let main = html! {
        h1 { "Diff of " (subject) }
        form.inline method="get" action={(base) "/diff"} {
            div { label for="from" { "From version" } br; (select("from", &all, from)) }
            div { label for="to" { "To version" } br; (select("to", &all, to)) }
            button type="submit" { "Compare" }
        }
        h2 { "Verdict under " (level.as_str()) }
        (verdict_section(&verdict, to, from, &forward, &backward, &left, &right))
        h2 #diff-title { "Version " (from) " and version " (to) }
        (table(&left, &right, &left_text, &right_text, &marked_left, &marked_right, from, to))
    };
    let title = format!("Diff of {subject}");
    let crumbs = [
        ("Subjects", Some("/ui".to_owned())),
        (subject.as_str(), Some(base.clone())),
        ("Diff", None),
    ];
    Ok(page(&title, &crumbs, main))
}

/// `GET /ui/subjects/{subject}/diff?from=&to=`.
pub(crate) async fn show(
    State(state): State<AppState>,
    SubjectPath(subject): SubjectPath,
    Query(query): Query<DiffQuery>,
) -> Result<Response, Failure> {
    render(state, subject, query).await
}

fn select(name: &str, rows: &[crate::storage::VersionRow], chosen: i32) -> Markup {
    html! {
        select id=(name) name=(name) {
            @for row in rows {
                option value=(row.version) selected[row.version == chosen] {
                    (row.version) @if row.deleted { " (soft-deleted)" }
                }
            }
        }
    }
}

fn verdict_section(
    verdict: &Result<Report, &str>,
    to: i32,
    from: i32,
    forward: &[&Violation],
    backward: &[&Violation],
    left: &[Line],
    right: &[Line],
) -> Markup {
    html! {
        @match verdict {
            Err(why) => p.notice { "No verdict: " (why) "." },
            Ok(report) if report.is_compatible => p.notice.ok { "Version " (to) " is compatible with version " (from) "." },
            Ok(_) => {
                p.notice.bad { "Version " (to) " is not compatible with version " (from) "." }
                @if !backward.is_empty() {
                    h3 { "Reading with version " (to) " (lines on the right)" }
                    (layout::violations(backward, right, "b"))
                }
                @if !forward.is_empty() {
                    h3 { "Reading with version " (from) " (lines on the left)" }
                    (layout::violations(forward, left, "a"))
                }
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn table(
    left: &[Line],
    right: &[Line],
    left_text: &[String],
    right_text: &[String],
    marked_left: &BTreeSet<usize>,
    marked_right: &BTreeSet<usize>,
    from: i32,
    to: i32,
) -> Markup {
    let diff = rows(left_text, right_text);
    let changed = diff.iter().filter(|(_, _, c)| *c != Change::Same).count();
    html! {
        p.muted { (changed) " line" @if changed != 1 { "s" } " differ. Removed lines are red on the left, added ones green on the right." }
        div.scroll tabindex="0" role="region" aria-labelledby="diff-title" {
            table.diff {
                thead { tr {
                    th.n scope="col" { "Line" }
                    th scope="col" { "Version " (from) }
                    th.n scope="col" { "Line" }
                    th scope="col" { "Version " (to) }
                } }
                tbody {
                    @for (l, r, change) in &diff {
                        @let hit = l.is_some_and(|i| marked_left.contains(&i)) || r.is_some_and(|i| marked_right.contains(&i));
                        tr.hit[hit] {
                            (cell(*l, left, "a", *change != Change::Same, "del"))
                            (cell(*r, right, "b", *change != Change::Same, "add"))
                        }
                    }
                }
            }
        }
    }
}

fn cell(index: Option<usize>, lines: &[Line], prefix: &str, changed: bool, class: &str) -> Markup {
    match index.and_then(|i| lines.get(i).map(|line| (i, line))) {
        Some((i, line)) => html! {
            td.n id={(prefix) (i + 1)} { (i + 1) }
            td class=[changed.then_some(class)] { (pieces(line)) }
        },
        None => html! { td.n {} td {} },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(lines: &[&str]) -> Vec<String> {
        lines.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn rows_pair_changed_lines() {
        let left = strings(&["{", "a", "b", "}"]);
        let right = strings(&["{", "a", "c", "d", "}"]);
        let out = rows(&left, &right);
        assert_eq!(out[0], (Some(0), Some(0), Change::Same));
        assert_eq!(out[2], (Some(2), Some(2), Change::Changed));
        assert_eq!(out[3], (None, Some(3), Change::Changed));
        assert_eq!(out[4], (Some(3), Some(4), Change::Same));
        assert_eq!(out.len(), 5);
    }
}
