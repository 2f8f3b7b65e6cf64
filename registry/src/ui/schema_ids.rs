//! The pages addressed by a schema's global id (`/ui/schemas/{id}`: the schema with the
//! subject versions that hold it, and the id search of the header form), and the Rust code
//! generated for a version, highlighted, with a copy button.

use std::collections::BTreeSet;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;

use crate::server::{AppState, Error};
use crate::service::rust_code;

use super::Failure;
use super::highlight;
use super::layout::{self, page, subject_url, version_url};
use super::segments::{VersionPath, encode};

/// The header form's query.
#[derive(Debug, Deserialize)]
pub(crate) struct FindQuery {
    id: Option<String>,
}

/// `GET /ui/schemas?id=N`: to the schema's page.
pub(crate) async fn find(Query(query): Query<FindQuery>) -> Result<Response, Failure> {
    let id = query.id.unwrap_or_default();
    match id.trim().parse::<i64>() {
        Ok(id) if id >= 1 => Ok(Redirect::to(&format!("/ui/schemas/{id}")).into_response()),
        _ => Err(Error::SchemaNotFound(id).into()),
    }
}

/// `GET /ui/schemas/{id}`.
pub(crate) async fn by_id(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, Failure> {
    let id: i64 = id.parse().map_err(|_| Error::SchemaNotFound(id.clone()))?;
    let schema = state.registry().schema_by_id(id).await?;
    let usages = state.store().usages(id).await?;
    let lines = highlight::schema(schema.schema_type.as_str(), &schema.text);
    let main = html! {
        h1 { "Schema " (id) }
        dl.facts {
            dt { "Format" } dd { (schema.schema_type.as_str()) }
            dt { "API" } dd { a href={"/schemas/ids/" (id)} { "GET /schemas/ids/" (id) } }
        }
        h2 { "Used by" }
        ul #usages {
            @for usage in &usages {
                li {
                    a href=(version_url(&usage.subject, usage.version)) { (usage.subject) " version " (usage.version) }
                    @if usage.deleted { " " span.badge.warn { "soft-deleted" } }
                }
            }
        }
        @if !schema.references.is_empty() {
            h2 { "References" }
            ul { @for reference in &schema.references {
                li { code { (reference.name) } " → "
                    a href=(version_url(&reference.subject, reference.version)) { (reference.subject) " version " (reference.version) } }
            } }
        }
        h2 { "Schema" }
        (layout::code(&lines, "L", &BTreeSet::new()))
    };
    let title = format!("Schema {id}");
    Ok(page(
        &title,
        &[("Subjects", Some("/ui".to_owned())), (title.as_str(), None)],
        main,
    ))
}

/// `GET /ui/subjects/{subject}/versions/{version}/rust`: the code `herald codegen` writes.
pub(crate) async fn rust(
    State(state): State<AppState>,
    VersionPath { subject, version }: VersionPath,
) -> Result<Response, Failure> {
    let row = state.registry().version(&subject, version, false).await?;
    let version = row.version;
    let schema = state.registry().schema_by_id(row.schema_id).await?;
    let code = rust_code(&subject, row, &schema)?;
    let raw = format!("/subjects/{}/versions/{version}/rust", encode(&subject));
    let main = html! {
        h1 { "Rust code for " (subject) " version " (version) }
        p { "The types " code { "herald codegen" } " writes for this version. "
            a href=(raw) download={(subject) "-v" (version) ".rs"} { "Download the .rs file" } "." }
        h2 #code-title { "Generated code"
            button.copy type="button" data-copy="rust-code" data-status="copy-status" hidden { "Copy" } }
        p #copy-status.muted role="status" {}
        pre #rust-code .code aria-labelledby="code-title" tabindex="0" data-text=(code) {
            code { (layout::numbered(&highlight::rust(&code), "L", &BTreeSet::new())) }
        }
    };
    let crumbs = [
        ("Subjects", Some("/ui".to_owned())),
        (subject.as_str(), Some(subject_url(&subject))),
        ("Version", Some(version_url(&subject, version))),
        ("Rust code", None),
    ];
    Ok(page(&format!("Rust code for {subject}"), &crumbs, main))
}
