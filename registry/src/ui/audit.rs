//! `/ui/audit`: the audit log for admins, a page of `GET /audit` at a time (oldest first,
//! paged by id), from the same code.

use axum::extract::State;
use axum::response::Response;
use maud::html;

use crate::http::{AuditPage, audit_page, audit_paging, require_admin};
use crate::server::{AppState, Principal};

use super::Failure;
use super::layout::{page, subject_url, version_url};

/// `GET /ui/audit?after=N&limit=M`.
pub(crate) async fn log(
    State(state): State<AppState>,
    principal: Principal,
    params: crate::http::Params,
) -> Result<Response, Failure> {
    require_admin(&principal)?;
    let (after, limit) = audit_paging(&params)?;
    let AuditPage { entries, next } = audit_page(&state, after, limit).await?;
    let main = html! {
        h1 { "Audit log" }
        p { "Every write to the registry, oldest first: when (UTC), by whom and what." }
        @if entries.is_empty() {
            p.muted role="status" { "No entries" @if after > 0 { " after entry " (after) } "." }
        } @else {
            div.scroll tabindex="0" role="region" aria-label="Audit log table" {
                table #audit {
                    thead { tr {
                        th.num scope="col" { "Entry" }
                        th scope="col" { "When (UTC)" }
                        th scope="col" { "Who" }
                        th scope="col" { "Action" }
                        th scope="col" { "Subject" }
                        th.num scope="col" { "Version" }
                        th.num scope="col" { "Schema id" }
                        th scope="col" { "Detail" }
                    } }
                    tbody {
                        @for entry in &entries {
                            tr {
                                td.num { (entry.id) }
                                td { time datetime=(entry.at) { (entry.at) } }
                                td { (entry.principal) }
                                td { code { (entry.action) } }
                                td {
                                    @match &entry.subject {
                                        Some(subject) => a href=(subject_url(subject)) { (subject) },
                                        None => span.muted { "global" },
                                    }
                                }
                                td.num {
                                    @match (&entry.subject, entry.version) {
                                        (Some(subject), Some(version)) => a href=(version_url(subject, version)) { (version) },
                                        _ => "",
                                    }
                                }
                                td.num {
                                    @if let Some(id) = entry.schema_id {
                                        a href={"/ui/schemas/" (id)} { (id) }
                                    }
                                }
                                td { (entry.detail.as_deref().unwrap_or("")) }
                            }
                        }
                    }
                }
            }
        }
        nav.pager aria-label="Pages" {
            @if after > 0 { a href="/ui/audit" { "← First page" } }
            @if let Some(next) = next { a href={"/ui/audit?after=" (next) "&limit=" (limit)} rel="next" { "Next →" } }
        }
    };
    Ok(page(
        "Audit log",
        &[("Subjects", Some("/ui".to_owned())), ("Audit log", None)],
        main,
    ))
}
