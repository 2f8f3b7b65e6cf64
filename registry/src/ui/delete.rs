//! Deleting a version or a subject from the UI, softly and then permanently as Confluent
//! requires, each behind a confirmation page that names what will be lost. The deletion goes
//! through the service, as the API's `DELETE` routes do.

use axum::Form;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use crate::server::{AppState, Principal, Role};
use crate::service::{pick, version_not_found};
use crate::storage::{DeleteTarget, VersionRow};

use super::layout::{page, read_only_note, subject_url, version_url};
use super::segments::{SubjectPath, VersionPath};
use super::{Failure, allow_write};

/// The confirmation form: which deletion was confirmed.
#[derive(Debug, Deserialize)]
pub(crate) struct DeleteForm {
    /// `true` for a permanent deletion.
    #[serde(default)]
    permanent: bool,
}

/// The page of a confirmation: what will be lost, and the button (disabled for readers).
fn confirm_page(
    subject: &str,
    title: &str,
    lost: Markup,
    action: &str,
    permanent: bool,
    back: &str,
    role: Role,
) -> Response {
    let reader = role == Role::Read;
    let main = html! {
        h1 { (title) }
        section #lost aria-labelledby="lost-title" {
            h2 #lost-title { "What will be lost" }
            (lost)
        }
        @if reader { (read_only_note()) }
        form.inline method="post" action=(action) {
            input type="hidden" name="permanent" value=(permanent);
            button.danger type="submit" disabled[reader] { (title) }
            a href=(back) { "Cancel" }
        }
    };
    let crumbs = [
        ("Subjects", Some("/ui".to_owned())),
        (subject, Some(subject_url(subject))),
        (title, None),
    ];
    page(title, &crumbs, main)
}

/// A list of versions with their schema ids.
fn version_list(subject: &str, rows: &[VersionRow]) -> Markup {
    html! {
        ul.versions {
            @for row in rows {
                li { a href=(version_url(subject, row.version)) { "Version " (row.version) }
                    " (schema id " a href={"/ui/schemas/" (row.schema_id)} { (row.schema_id) } ")" }
            }
        }
    }
}

/// The schema ids among `rows` that no other subject version holds: gone with them.
async fn ids_gone(
    state: &AppState,
    subject: &str,
    rows: &[VersionRow],
) -> Result<Vec<i64>, Failure> {
    let mut gone = Vec::new();
    for row in rows {
        let usages = state.store().usages(row.schema_id).await?;
        let elsewhere = usages
            .iter()
            .any(|u| u.subject != subject || !rows.iter().any(|r| r.version == u.version));
        if !elsewhere && !gone.contains(&row.schema_id) {
            gone.push(row.schema_id);
        }
    }
    Ok(gone)
}

/// What a permanent deletion of `rows` takes with it: their schema ids that nothing else
/// holds.
async fn permanent_loss(
    state: &AppState,
    subject: &str,
    rows: &[VersionRow],
) -> Result<Markup, Failure> {
    let gone = ids_gone(state, subject, rows).await?;
    Ok(html! {
        @if gone.is_empty() {
            p { "Their schema ids stay: other subject versions hold the same schemas." }
        } @else {
            p { "These schema ids are removed, as no other subject version holds their schema; "
                "clients that still read them by id will get 404: "
                @for (i, id) in gone.iter().enumerate() {
                    @if i > 0 { ", " }
                    strong { (id) }
                }
                "." }
        }
    })
}

/// `GET /ui/subjects/{subject}/versions/{version}/delete`: the confirmation of a soft
/// deletion (a live version) or a permanent one (a soft-deleted version).
pub(crate) async fn version_form(
    State(state): State<AppState>,
    principal: Principal,
    VersionPath { subject, version }: VersionPath,
) -> Result<Response, Failure> {
    let rows = state.registry().versions(&subject, true).await?;
    let row = pick(&rows, version, true).ok_or_else(|| version_not_found(version))?;
    let referenced_by = state.store().referenced_by(&subject, row.version).await?;
    let permanent = row.deleted;
    let number = row.version;
    let lost = html! {
        @if permanent {
            p { "Version " (number) " of " strong { (subject) } " is removed for good; it cannot be read again, even as a deleted version." }
            (version_list(&subject, std::slice::from_ref(&row)))
            (permanent_loss(&state, &subject, std::slice::from_ref(&row)).await?)
        } @else {
            p { "Version " (number) " of " strong { (subject) } " is soft-deleted: clients no longer see it among the subject's versions, and it no longer counts in compatibility checks. Its schema stays readable by id, and it can be deleted permanently afterwards." }
            (version_list(&subject, std::slice::from_ref(&row)))
        }
        @if !referenced_by.is_empty() {
            p.notice.bad { "Schemas "
                @for (i, id) in referenced_by.iter().enumerate() {
                    @if i > 0 { ", " }
                    a href={"/ui/schemas/" (id)} { (id) }
                }
                " reference this version: the registry will refuse to delete it." }
        }
    };
    let title = if permanent {
        format!("Permanently delete version {number}")
    } else {
        format!("Delete version {number}")
    };
    let action = format!("{}/versions/{number}/delete", subject_url(&subject));
    Ok(confirm_page(
        &subject,
        &title,
        lost,
        &action,
        permanent,
        &version_url(&subject, number),
        principal.role,
    ))
}

/// `POST /ui/subjects/{subject}/versions/{version}/delete`: deletes it, then shows the
/// subject (or the list, when nothing of the subject is left).
pub(crate) async fn delete_version(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    VersionPath { subject, version }: VersionPath,
    Form(form): Form<DeleteForm>,
) -> Result<Response, Failure> {
    allow_write(&principal, &headers)?;
    let deleted = state
        .registry()
        .delete(
            &subject,
            DeleteTarget::Version(version),
            form.permanent,
            &principal.name,
        )
        .await?;
    after_delete(&state, &subject, deleted.first().copied()).await
}

/// `GET /ui/subjects/{subject}/delete`: the confirmation of a soft deletion of the subject's
/// live versions, or (all of them soft-deleted) of its permanent deletion.
pub(crate) async fn subject_form(
    State(state): State<AppState>,
    principal: Principal,
    SubjectPath(subject): SubjectPath,
) -> Result<Response, Failure> {
    let rows = state.registry().versions(&subject, true).await?;
    let live: Vec<VersionRow> = rows.iter().filter(|r| !r.deleted).cloned().collect();
    let permanent = live.is_empty();
    let lost = html! {
        @if permanent {
            p { "Every version of " strong { (subject) } " is removed for good:" }
            (version_list(&subject, &rows))
            (permanent_loss(&state, &subject, &rows).await?)
        } @else {
            p { "These live versions of " strong { (subject) } " are soft-deleted: clients no longer see the subject, and its schemas stay readable by id. The subject can be deleted permanently afterwards." }
            (version_list(&subject, &live))
        }
    };
    let title = if permanent {
        format!("Permanently delete subject {subject}")
    } else {
        format!("Delete subject {subject}")
    };
    let action = format!("{}/delete", subject_url(&subject));
    Ok(confirm_page(
        &subject,
        &title,
        lost,
        &action,
        permanent,
        &subject_url(&subject),
        principal.role,
    ))
}

/// `POST /ui/subjects/{subject}/delete`.
pub(crate) async fn delete_subject(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    SubjectPath(subject): SubjectPath,
    Form(form): Form<DeleteForm>,
) -> Result<Response, Failure> {
    allow_write(&principal, &headers)?;
    state
        .registry()
        .delete(
            &subject,
            DeleteTarget::Subject,
            form.permanent,
            &principal.name,
        )
        .await?;
    after_delete(&state, &subject, None).await
}

/// Where a deletion leads: the version when it is still there (soft-deleted), else the
/// subject, else (nothing left) the list.
async fn after_delete(
    state: &AppState,
    subject: &str,
    version: Option<i32>,
) -> Result<Response, Failure> {
    let rows = state.store().versions(subject).await?;
    let to = match version {
        _ if rows.is_empty() => "/ui".to_owned(),
        Some(v) if rows.iter().any(|r| r.version == v) => version_url(subject, v),
        _ => subject_url(subject),
    };
    Ok(Redirect::to(&to).into_response())
}
