//! The page shell (header, navigation, footer) and the pieces several pages share: links to
//! subjects, highlighted code and lists of violations.

use std::collections::BTreeSet;

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};

use crate::schema::Violation;
use crate::server::{Principal, Role};
use crate::service::utc_text;
use crate::storage::Registration;

use super::assets::{script_url, style_url};
use super::highlight::{Line, line_of};
use super::segments::subject_segment;

tokio::task_local! {
    /// The role of the caller a page is rendered for, so the navigation can offer what the
    /// role may see (the audit log) without every page passing it along.
    static VIEWER: Role;
}

/// Middleware of the UI's routes: renders their pages for the caller's role.
pub(crate) async fn viewer(principal: Principal, request: Request, next: Next) -> Response {
    VIEWER.scope(principal.role, next.run(request)).await
}

/// Whether the page being rendered is for an admin (not outside [`viewer`]).
fn for_admin() -> bool {
    VIEWER
        .try_with(|role| *role == Role::Admin)
        .unwrap_or(false)
}

/// When and by whom a version was registered, or that it is unknown (versions registered
/// before the registry recorded it).
pub(crate) fn registration(registered: Option<&Registration>) -> Markup {
    html! {
        @match registered {
            Some(registration) => {
                "registered " time datetime=(utc_text(registration.at)) { (utc_text(registration.at)) }
                " by " (registration.by)
            }
            None => "registered: unknown",
        }
    }
}

/// A whole page: `title`, breadcrumbs (name and link) and the main content.
pub(crate) fn page(title: &str, crumbs: &[(&str, Option<String>)], main: Markup) -> Response {
    let admin = for_admin();
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Herald registry" }
                link rel="stylesheet" href=(style_url());
                script src=(script_url()) defer {}
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header {
                    div.bar {
                        a.brand href="/ui" { "Herald registry" }
                        nav aria-label="Main" {
                            ul {
                                li { a href="/ui" { "Subjects" } }
                                li { a href="/ui/settings" { "Config and mode" } }
                                @if admin { li { a href="/ui/audit" { "Audit log" } } }
                                li { a href="/ui/api" { "API" } }
                            }
                        }
                        form method="get" action="/ui/schemas" role="search" aria-label="Schema by id" {
                            label for="schema-id" { "Schema id" }
                            input #schema-id type="number" name="id" min="1" required;
                            button type="submit" { "Open" }
                        }
                    }
                }
                main #main {
                    @if !crumbs.is_empty() {
                        nav aria-label="Breadcrumbs" {
                            ol.crumbs {
                                @for (name, link) in crumbs {
                                    li {
                                        @match link {
                                            Some(href) => a href=(href) { (name) },
                                            None => span aria-current="page" { (name) },
                                        }
                                    }
                                }
                            }
                        }
                    }
                    (main)
                }
                footer { "Herald schema registry · the same service as the JSON API" }
            }
        }
    };
    let mut response = Html(markup.into_string()).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The note a reader sees instead of enabled write controls.
pub(crate) fn read_only_note() -> Markup {
    html! {
        p.notice role="note" { "You are signed in with the read role: registering, deleting and changing settings need the write role." }
    }
}

/// The page of a subject.
pub(crate) fn subject_url(subject: &str) -> String {
    format!("/ui/subjects/{}", subject_segment(subject))
}

/// The page of a subject showing one version.
pub(crate) fn version_url(subject: &str, version: i32) -> String {
    format!(
        "/ui/subjects/{}?version={version}",
        subject_segment(subject)
    )
}

/// Highlighted lines with numbers; lines in `marked` are highlighted, each line has the id
/// `{prefix}{n}` (1-based) for links.
pub(crate) fn code(lines: &[Line], prefix: &str, marked: &BTreeSet<usize>) -> Markup {
    html! {
        pre.code { code { (numbered(lines, prefix, marked)) } }
    }
}

/// The lines of [`code`], for a `pre` that needs attributes of its own.
pub(crate) fn numbered(lines: &[Line], prefix: &str, marked: &BTreeSet<usize>) -> Markup {
    html! {
        @for (index, line) in lines.iter().enumerate() {
            span.l.hit[marked.contains(&index)] id={(prefix) (index + 1)} data-n=(index + 1) {
                (pieces(line))
            }
        }
    }
}

/// The coloured pieces of one line.
pub(crate) fn pieces(line: &Line) -> Markup {
    html! {
        @for (class, text) in &line.pieces {
            @match class.css() {
                Some(css) => span class=(css) { (text) },
                None => (text),
            }
        }
    }
}

/// The lines that `violations` point at in `lines`.
pub(crate) fn marked_lines(lines: &[Line], violations: &[&Violation]) -> BTreeSet<usize> {
    violations
        .iter()
        .filter_map(|v| line_of(lines, &v.location))
        .collect()
}

/// The engine's violations: kind, location (a link to its line when `lines` has it), message
/// and hint.
pub(crate) fn violations(list: &[&Violation], lines: &[Line], prefix: &str) -> Markup {
    html! {
        ol.violations {
            @for violation in list {
                li {
                    strong { code { (violation.kind) } }
                    " at "
                    @match line_of(lines, &violation.location) {
                        Some(line) => {
                            a href={"#" (prefix) (line + 1)} { code { (location(&violation.location)) } }
                            " (line " (line + 1) ")"
                        }
                        None => code { (location(&violation.location)) },
                    }
                    @if let Some(version) = violation.version {
                        " against version " (version)
                    }
                    @if let Some(direction) = violation.direction {
                        " (" (format!("{direction:?}").to_lowercase()) ")"
                    }
                    br;
                    (violation.message)
                    @if !violation.hint.is_empty() {
                        br;
                        span.muted { "Hint: " (violation.hint) }
                    }
                }
            }
        }
    }
}

fn location(text: &str) -> &str {
    if text.is_empty() { "/" } else { text }
}
