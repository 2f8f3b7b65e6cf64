//! The list of subjects (searched, paged, from one query) and a subject's page: its versions
//! as a timeline with each one's verdict, and the chosen version's schema, references and
//! violations.

use axum::extract::{Query, State};
use axum::response::Response;
use herald_protocol::annotations::MAJOR_PROPERTY;
use maud::{Markup, html};
use serde::Deserialize;

use crate::schema::Violation;
use crate::server::{AppState, Principal, Role};
use crate::service::{History, VersionVerdict};
use crate::storage::SettingKind;

use super::Failure;
use super::download::download_extension;
use super::highlight;
use super::layout::{self, page, read_only_note, subject_url, version_url};
use super::segments::{SubjectPath, encode};
use super::settings;

/// Subjects per page of the list.
const PAGE_SIZE: i64 = 50;

/// The list's query: search text and 1-based page.
#[derive(Debug, Deserialize)]
pub(crate) struct ListQuery {
    #[serde(default)]
    q: String,
    page: Option<i64>,
}

/// `GET /ui`: the subjects whose name contains the search text, a page at a time.
pub(crate) async fn list(
    State(state): State<AppState>,
    Query(query): Query<ListQuery>,
) -> Result<Response, Failure> {
    let number = query.page.unwrap_or(1).max(1);
    let offset = (number - 1).saturating_mul(PAGE_SIZE);
    let found = state
        .store()
        .subject_page(query.q.trim(), offset, PAGE_SIZE)
        .await?;
    let level = state.registry().effective_level(None).await?;
    let mode = state.registry().effective_mode(None).await?;
    let pages = ((found.total + PAGE_SIZE - 1) / PAGE_SIZE).max(1);
    let link = |to: i64| format!("/ui?q={}&page={to}", encode(query.q.trim()));
    let main = html! {
        h1 { "Subjects" }
        form.inline method="get" action="/ui" role="search" aria-label="Subjects" {
            div {
                label for="q" { "Search subjects" } br;
                input #q type="search" name="q" value=(query.q) placeholder="name contains…";
            }
            button type="submit" { "Search" }
        }
        p #count role="status" {
            (found.total) " subject" @if found.total != 1 { "s" }
            @if !query.q.trim().is_empty() { " matching “" (query.q.trim()) "”" }
            ". Global level " strong { (level.as_str()) } ", mode " strong { (mode.as_str()) } "."
        }
        @if !found.subjects.is_empty() {
            div.scroll tabindex="0" role="region" aria-label="Subjects table" {
                table #subjects {
                    thead { tr {
                        th scope="col" { "Subject" }
                        th scope="col" { "Format" }
                        th.num scope="col" { "Latest" }
                        th.num scope="col" { "Versions" }
                        th scope="col" { "Compatibility" }
                        th scope="col" { "Mode" }
                        th.state scope="col" { "State" }
                    } }
                    tbody {
                        @for summary in &found.subjects {
                            tr {
                                td { a href=(subject_url(&summary.subject)) { (summary.subject) } }
                                td { (summary.schema_type.as_str()) }
                                td.num { (summary.latest) }
                                td.num { (summary.versions) }
                                td { (own_or_global(summary.compatibility.as_deref(), level.as_str())) }
                                td { (own_or_global(summary.mode.as_deref(), mode.as_str())) }
                                td.state {
                                    @if summary.live { "live" } @else { span.badge.warn { "soft-deleted" } }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if pages > 1 {
            nav.pager aria-label="Pages" {
                @if number > 1 { a href=(link(number - 1)) rel="prev" { "← Previous" } }
                span { "Page " (number) " of " (pages) }
                @if number < pages { a href=(link(number + 1)) rel="next" { "Next →" } }
            }
        }
    };
    Ok(page("Subjects", &[], main))
}

fn own_or_global(own: Option<&str>, global: &str) -> Markup {
    html! {
        @match own {
            Some(value) => (value),
            None => span.muted { (global) " (global)" },
        }
    }
}

/// The subject page's query: which version to show.
#[derive(Debug, Deserialize)]
pub(crate) struct SubjectQuery {
    version: Option<i32>,
    saved: Option<String>,
}

/// The compatibility group (or major) a version belongs to, for the timeline.
fn group_of(history: &History, verdict: &VersionVerdict) -> Option<String> {
    let properties = &verdict.schema.metadata.as_ref()?.properties;
    if let Some(key) = &history.group
        && let Some(value) = properties.get(key)
    {
        return Some(format!("{key} = {value}"));
    }
    properties
        .get(MAJOR_PROPERTY)
        .map(|major| format!("major {major}"))
}

/// `GET /ui/subjects/{subject}`: the timeline and one version.
pub(crate) async fn subject(
    State(state): State<AppState>,
    principal: Principal,
    SubjectPath(subject): SubjectPath,
    Query(query): Query<SubjectQuery>,
) -> Result<Response, Failure> {
    let history = state.registry().history(&subject).await?;
    // A version asked for that does not exist is a 404 page, not the latest version.
    let chosen = match query.version {
        Some(asked) => history
            .versions
            .iter()
            .position(|h| h.row.version == asked)
            .ok_or_else(|| Failure::from(crate::service::version_not_found(Some(asked))))?,
        None => history
            .versions
            .iter()
            .rposition(|h| !h.row.deleted)
            .unwrap_or(history.versions.len().saturating_sub(1)),
    };
    let Some(current) = history.versions.get(chosen) else {
        return Err(crate::server::Error::SubjectNotFound(subject).into());
    };
    let referenced_by = state
        .store()
        .referenced_by(&subject, current.row.version)
        .await?;
    let own_config = state.registry().config(Some(&subject)).await?;
    let own_mode = state
        .store()
        .setting(SettingKind::Mode, Some(&subject))
        .await?;
    let global_level = state.registry().effective_level(None).await?;
    let global_mode = state.registry().effective_mode(None).await?;
    let schema = &current.schema;
    let lines = highlight::schema(schema.schema_type.as_str(), &schema.text);
    let listed: Vec<&Violation> = current.report.violations.iter().collect();
    let marked = layout::marked_lines(&lines, &listed);
    let previous = history.versions[..chosen]
        .iter()
        .rev()
        .find(|h| !h.row.deleted);
    let version = current.row.version;
    let base = subject_url(&subject);
    let main = html! {
        h1 { (subject) }
        @if principal.role == Role::Read {
            (read_only_note())
        } @else {
            p.actions {
                a href={(base) "/register"} { "Register a new version" }
                " · "
                a href={(base) "/delete"} {
                    @if history.versions.iter().all(|h| h.row.deleted) { "Permanently delete this subject" } @else { "Delete this subject" }
                }
            }
        }
        div.layout {
            section aria-labelledby="versions-title" {
                h2 #versions-title { "Versions" }
                p.muted { "Verdicts under " strong { (history.level.as_str()) }
                    @if let Some(group) = &history.group { ", grouped by " code { (group) } }
                    ", against the live versions before each." }
                ol.timeline {
                    @for item in &history.versions {
                        li.current[item.row.version == version].gone[item.row.deleted] {
                            a href=(version_url(&subject, item.row.version))
                                aria-current=[(item.row.version == version).then_some("true")] {
                                "Version " (item.row.version)
                            }
                            " · id " a href={"/ui/schemas/" (item.row.schema_id)} { (item.row.schema_id) }
                            @if let Some(group) = group_of(&history, item) { " · " (group) }
                            br;
                            (verdict_badge(item))
                            @if item.row.deleted { " " span.badge.warn { "soft-deleted" } }
                            br;
                            span.muted { (layout::registration(item.row.registered.as_ref())) }
                        }
                    }
                }
                p.muted { "Times are UTC; versions registered before the registry recorded it show unknown." }
                (settings::subject_form(&subject, &own_config, own_mode.as_deref(), principal.role, (global_level.as_str(), global_mode.as_str()), query.saved.is_some()))
            }
            section aria-labelledby="schema-title" {
                h2 #schema-title { "Version " (version)
                    @if current.row.deleted { " " span.badge.warn { "soft-deleted" } } }
                dl.facts {
                    dt { "Schema id" } dd { a href={"/ui/schemas/" (schema.id)} { (schema.id) } }
                    dt { "Format" } dd { (schema.schema_type.as_str()) }
                    dt { "Registered" } dd { (layout::registration(current.row.registered.as_ref())) }
                    dt { "Verdict" } dd { (verdict_badge(current)) }
                    dt { "Actions" } dd {
                        @if let Some(prev) = previous {
                            a href={(subject_url(&subject)) "/diff?from=" (prev.row.version) "&to=" (version)} { "Diff with version " (prev.row.version) }
                            " · "
                        }
                        a href={(subject_url(&subject)) "/versions/" (version) "/validate"} { "Validate a payload" }
                        " · "
                        a href={(subject_url(&subject)) "/versions/" (version) "/rust"} { "Rust code" }
                        " · "
                        a href={(subject_url(&subject)) "/check"} { "Check a new schema" }
                        " · "
                        a href={(base) "/versions/" (version) "/download"} download { "Download the schema (." (download_extension(schema.schema_type)) ")" }
                        @if principal.role != Role::Read {
                            " · "
                            a href={(base) "/versions/" (version) "/delete"} {
                                @if current.row.deleted { "Permanently delete version " (version) } @else { "Delete version " (version) }
                            }
                        }
                    }
                }
                @if !listed.is_empty() {
                    h3 { "Why version " (version) " is incompatible" }
                    (layout::violations(&listed, &lines, "L"))
                }
                h3 { "Schema" }
                (layout::code(&lines, "L", &marked))
                h3 { "References" }
                @if schema.references.is_empty() { p.muted { "None." } } @else {
                    ul { @for reference in &schema.references {
                        li { code { (reference.name) } " → "
                            a href=(version_url(&reference.subject, reference.version)) { (reference.subject) " version " (reference.version) } }
                    } }
                }
                h3 { "Referenced by" }
                @if referenced_by.is_empty() { p.muted { "No live schema references this version." } } @else {
                    ul { @for id in &referenced_by { li { a href={"/ui/schemas/" (id)} { "Schema " (id) } } } }
                }
                @if let Some(metadata) = &schema.metadata {
                    h3 { "Metadata" }
                    pre.code.plain { code { (serde_json::to_string_pretty(metadata).unwrap_or_default()) } }
                }
            }
        }
    };
    let crumbs = [
        ("Subjects", Some("/ui".to_owned())),
        (subject.as_str(), None),
    ];
    Ok(page(&subject, &crumbs, main))
}

/// Compatible, or incompatible with the number of violations.
fn verdict_badge(item: &VersionVerdict) -> Markup {
    let count = item.report.violations.len();
    html! {
        @if item.report.is_compatible {
            span.badge.ok { "✓ compatible" }
        } @else {
            span.badge.bad { "✗ incompatible (" (count) " violation" @if count != 1 { "s" } ")" }
        }
    }
}
