//! Check a pasted schema against a subject (what registering it would do, nothing stored)
//! and validate a pasted payload against a version: the service's compatibility check and
//! the API's payload validation, shown as pages.

use std::collections::BTreeSet;

use axum::Form;
use axum::extract::State;
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;

use crate::schema::{SchemaType, Violation};
use crate::server::AppState;
use crate::service::validate_payload;
use crate::service::{Against, Mode, Options, SchemaRequest, ServiceError};

use super::Failure;
use super::highlight;
use super::layout::{self, page, subject_url, version_url};
use super::segments::{SubjectPath, VersionPath};

/// The schema types this registry accepts, for the form.
fn schema_types() -> Vec<&'static str> {
    ["AVRO", "JSON", "PROTOBUF"]
        .into_iter()
        .filter(|name| name.parse::<SchemaType>().is_ok())
        .collect()
}

/// The check form's fields.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct CheckForm {
    /// The schema's text.
    #[serde(default)]
    pub(super) schema: String,
    /// `AVRO`, `JSON` or `PROTOBUF`.
    #[serde(default)]
    pub(super) schema_type: String,
}

/// The format and schema fields of the check and register forms.
pub(super) fn schema_fields(form: &CheckForm) -> Markup {
    html! {
        div {
            label for="schema_type" { "Format" } br;
            select #schema_type name="schema_type" {
                @for name in schema_types() {
                    option value=(name) selected[form.schema_type == name] { (name) }
                }
            }
        }
        div {
            label for="schema" { "Schema" } br;
            textarea #schema name="schema" required spellcheck="false" { (form.schema) }
        }
    }
}

fn check_page(subject: &str, form: &CheckForm, result: Markup) -> Response {
    let base = subject_url(subject);
    let main = html! {
        h1 { "Check a schema for " (subject) }
        p { "What registering this schema would do, checked against the subject's live versions at its compatibility level. Nothing is stored." }
        form.stack method="post" action={(base) "/check"} {
            (schema_fields(form))
            div { button type="submit" { "Check" } }
        }
        (result)
    };
    let crumbs = [
        ("Subjects", Some("/ui".to_owned())),
        (subject, Some(base.clone())),
        ("Check a schema", None),
    ];
    page(&format!("Check a schema for {subject}"), &crumbs, main)
}

/// The form filled with the latest version's schema.
pub(super) async fn latest_form(state: &AppState, subject: &str) -> Result<CheckForm, Failure> {
    let row = state.registry().version(subject, None, true).await?;
    let latest = state.registry().schema_by_id(row.schema_id).await?;
    Ok(CheckForm {
        schema: latest.text.clone(),
        schema_type: latest.schema_type.as_str().to_owned(),
    })
}

/// `GET /ui/subjects/{subject}/check`: the form, filled with the latest version's schema.
pub(crate) async fn check_form(
    State(state): State<AppState>,
    SubjectPath(subject): SubjectPath,
) -> Result<Response, Failure> {
    let form = latest_form(&state, &subject).await?;
    Ok(check_page(&subject, &form, html! {}))
}

/// `POST /ui/subjects/{subject}/check`: the verdict.
pub(crate) async fn check(
    State(state): State<AppState>,
    SubjectPath(subject): SubjectPath,
    Form(form): Form<CheckForm>,
) -> Result<Response, Failure> {
    let (result, _) = verdict(&state, &subject, &form).await?;
    Ok(check_page(&subject, &form, result))
}

/// What registering `form`'s schema under `subject` now would do, as a section (the
/// compatibility check against the live versions, with the reasons of a refusal), and whether
/// the registry would accept it.
pub(super) async fn verdict(
    state: &AppState,
    subject: &str,
    form: &CheckForm,
) -> Result<(Markup, bool), Failure> {
    let request = SchemaRequest {
        schema: Some(form.schema.clone()),
        schema_type: Some(form.schema_type.clone()),
        ..SchemaRequest::default()
    };
    let registry = state.registry();
    let report = registry
        .check_compatibility(subject, Against::Live, &request, Options::default())
        .await;
    let level = registry.effective_level(Some(subject)).await?;
    let mode = registry.effective_mode(Some(subject)).await?;
    let read_only = mode == Mode::ReadOnly;
    let lines = highlight::schema(&form.schema_type, &form.schema);
    Ok(match report {
        Ok(report) => {
            let listed: Vec<&Violation> = report.violations.iter().collect();
            let marked = layout::marked_lines(&lines, &listed);
            let markup = html! {
                section #verdict aria-labelledby="verdict-title" {
                    h2 #verdict-title { "Verdict under " (level.as_str()) }
                    @if report.is_compatible {
                        p.notice.ok role="status" { "Compatible: registering it would be accepted"
                            @if read_only { ", but the subject is in READONLY mode" } "." }
                    } @else {
                        p.notice.bad role="status" { "Incompatible: registering it would be refused (409), for these reasons:" }
                        (layout::violations(&listed, &lines, "L"))
                    }
                    h3 { "The schema checked" }
                    (layout::code(&lines, "L", &marked))
                }
            };
            (markup, report.is_compatible && !read_only)
        }
        Err(ServiceError::InvalidSchema(message)) => {
            let markup = html! {
                section #verdict aria-labelledby="verdict-title" {
                    h2 #verdict-title { "Verdict" }
                    p.notice.bad role="status" { "Invalid schema: registering it would be refused (422)." }
                    pre.code.plain { code { (message) } }
                }
            };
            (markup, false)
        }
        Err(err) => return Err(err.into()),
    })
}

/// The validation form's field.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct PayloadForm {
    #[serde(default)]
    payload: String,
}

async fn validate_page(
    state: &AppState,
    subject: &str,
    version: Option<i32>,
    form: &PayloadForm,
    submitted: bool,
) -> Result<Response, Failure> {
    let registry = state.registry();
    let row = registry.version(subject, version, true).await?;
    let version = row.version;
    let schema = registry.schema_by_id(row.schema_id).await?;
    let outcome = if submitted {
        Some(match serde_json::from_str(&form.payload) {
            Ok(payload) => validate_payload(&schema, None, &payload).map(|errors| {
                errors
                    .into_iter()
                    .map(|e| (e.location, e.message))
                    .collect::<Vec<_>>()
            })?,
            Err(err) => vec![("#".to_owned(), format!("the payload is not JSON: {err}"))],
        })
    } else {
        None
    };
    let encoding = if schema.schema_type == SchemaType::Avro {
        "Avro's JSON encoding (a union value is {\"branch\": value})"
    } else {
        "JSON"
    };
    let action = format!("{}/versions/{version}/validate", subject_url(subject));
    let lines = highlight::schema(schema.schema_type.as_str(), &schema.text);
    let main = html! {
        h1 { "Validate a payload against " (subject) " version " (version) }
        form.stack method="post" action=(action) {
            div {
                label for="payload" { "Payload, in " (encoding) } br;
                textarea #payload name="payload" required spellcheck="false" { (form.payload) }
            }
            div { button type="submit" { "Validate" } }
        }
        @if let Some(errors) = &outcome {
            section #outcome aria-labelledby="outcome-title" {
                h2 #outcome-title { "Result" }
                @if errors.is_empty() {
                    p.notice.ok role="status" { "Valid: the payload conforms to version " (version) "." }
                } @else {
                    p.notice.bad role="status" { "Invalid: " (errors.len()) " error" @if errors.len() != 1 { "s" } "." }
                    div.scroll tabindex="0" role="region" aria-label="Errors" {
                        table #errors {
                            thead { tr { th scope="col" { "Location in the payload" } th scope="col" { "Error" } } }
                            tbody { @for (location, message) in errors {
                                tr { td { code { (location) } } td { (message) } }
                            } }
                        }
                    }
                }
            }
        }
        h2 { "Schema of version " (version) }
        (layout::code(&lines, "L", &BTreeSet::new()))
    };
    let crumbs = [
        ("Subjects", Some("/ui".to_owned())),
        (subject, Some(subject_url(subject))),
        ("Version", Some(version_url(subject, version))),
        ("Validate", None),
    ];
    Ok(page(&format!("Validate against {subject}"), &crumbs, main))
}

/// `GET /ui/subjects/{subject}/versions/{version}/validate`.
pub(crate) async fn validate_form(
    State(state): State<AppState>,
    VersionPath { subject, version }: VersionPath,
) -> Result<Response, Failure> {
    validate_page(&state, &subject, version, &PayloadForm::default(), false).await
}

/// `POST /ui/subjects/{subject}/versions/{version}/validate`.
pub(crate) async fn validate(
    State(state): State<AppState>,
    VersionPath { subject, version }: VersionPath,
    Form(form): Form<PayloadForm>,
) -> Result<Response, Failure> {
    validate_page(&state, &subject, version, &form, true).await
}
