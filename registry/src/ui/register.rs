//! Registering a new version of a subject from the UI: the schema pasted (or read from a file
//! by the page's script) into the form, a preview that shows what the compatibility check
//! says, and a confirmation that registers it through the service, as
//! `POST /subjects/{subject}/versions` does.

use axum::Form;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use crate::server::{AppState, Principal, Role};
use crate::service::{Options, SchemaRequest};

use super::check::{CheckForm, latest_form, schema_fields, verdict};
use super::layout::{page, read_only_note, subject_url, version_url};
use super::segments::SubjectPath;
use super::{Failure, allow_write};

/// The register form: the schema, and whether the preview was confirmed.
#[derive(Debug, Deserialize)]
pub(crate) struct RegisterForm {
    #[serde(default)]
    schema: String,
    #[serde(default)]
    schema_type: String,
    /// Present on the preview's confirmation.
    confirm: Option<String>,
}

/// The form: format, schema, a file to read it from (shown by the script) and the preview
/// button (disabled for readers).
fn form_section(subject: &str, form: &CheckForm, role: Role) -> Markup {
    let reader = role == Role::Read;
    html! {
        @if reader { (read_only_note()) }
        form.stack method="post" action={(subject_url(subject)) "/register"} {
            div.upload hidden {
                label for="schema-file" { "Read the schema from a file" } br;
                input #schema-file type="file" data-fills="schema" data-format="schema_type" accept=".avsc,.json,.proto,.txt";
            }
            (schema_fields(form))
            div { button type="submit" disabled[reader] { "Preview" } }
        }
    }
}

fn register_page(subject: &str, main: Markup) -> Response {
    let crumbs = [
        ("Subjects", Some("/ui".to_owned())),
        (subject, Some(subject_url(subject))),
        ("Register a version", None),
    ];
    page(&format!("Register a version of {subject}"), &crumbs, main)
}

/// `GET /ui/subjects/{subject}/register`: the form, filled with the latest version's schema.
pub(crate) async fn register_form(
    State(state): State<AppState>,
    principal: Principal,
    SubjectPath(subject): SubjectPath,
) -> Result<Response, Failure> {
    let form = latest_form(&state, &subject).await?;
    let main = html! {
        h1 { "Register a new version of " (subject) }
        p { "Paste the schema, or read it from a file. The next page shows what the compatibility check says; nothing is registered before you confirm there." }
        (form_section(&subject, &form, principal.role))
    };
    Ok(register_page(&subject, main))
}

/// `POST /ui/subjects/{subject}/register`: the preview, or (confirmed) the registration,
/// which leads to the version's page.
pub(crate) async fn register(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    SubjectPath(subject): SubjectPath,
    Form(form): Form<RegisterForm>,
) -> Result<Response, Failure> {
    allow_write(&principal, &headers)?;
    let schema = CheckForm {
        schema: form.schema,
        schema_type: form.schema_type,
    };
    let request = SchemaRequest {
        schema: Some(schema.schema.clone()),
        schema_type: Some(schema.schema_type.clone()),
        ..SchemaRequest::default()
    };
    if form.confirm.is_some() {
        let (registered, _) = state
            .registry()
            .register(&subject, &request, Options::default(), &principal.name)
            .await?;
        return Ok(Redirect::to(&version_url(&subject, registered.version)).into_response());
    }
    let (section, accepted) = verdict(&state, &subject, &schema).await?;
    // The same schema registered already: registering it again changes nothing.
    let existing = state
        .registry()
        .lookup(&subject, &request, Options::default())
        .await
        .ok()
        .map(|(row, _)| row.version);
    let main = html! {
        h1 { "Register a new version of " (subject) }
        (section)
        @if let Some(version) = existing {
            p.notice role="status" { "This schema is already "
                a href=(version_url(&subject, version)) { "version " (version) }
                ": registering it again changes nothing." }
        } @else if accepted {
            form #confirm.stack method="post" action={(subject_url(&subject)) "/register"} {
                input type="hidden" name="schema_type" value=(schema.schema_type);
                input type="hidden" name="schema" value=(schema.schema);
                input type="hidden" name="confirm" value="1";
                div { button type="submit" { "Register this version" } }
            }
        }
        h2 { "Change the schema" }
        (form_section(&subject, &schema, principal.role))
    };
    Ok(register_page(&subject, main))
}
