//! `/compatibility`: test a schema against a subject's versions without registering it.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::post;
use serde_json::json;

use crate::schema::{Schema, check};

use super::AppState;
use super::body::{Body, Params, reply};
use super::error::Error;
use super::state::SchemaRequest;
use super::subjects::{check_subject, parse_version, pick};

/// Routes under `/compatibility`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/compatibility/subjects/{subject}/versions",
            post(against_all),
        )
        .route(
            "/compatibility/subjects/{subject}/versions/{version}",
            post(against_one),
        )
}

fn answer(is_compatible: bool, messages: Vec<String>, verbose: bool) -> Result<Response, Error> {
    if verbose {
        reply(&json!({ "is_compatible": is_compatible, "messages": messages }))
    } else {
        reply(&json!({ "is_compatible": is_compatible }))
    }
}

async fn against_one(
    State(state): State<AppState>,
    Path((subject, version)): Path<(String, String)>,
    params: Params,
    Body(request): Body<SchemaRequest>,
) -> Result<Response, Error> {
    check_subject(&subject)?;
    let version = parse_version(&version)?;
    let candidate = state.candidate(&request, params.flag("normalize")).await?;
    let rows = state.store().versions(&subject).await?;
    if !rows.iter().any(|r| !r.deleted) {
        return Err(Error::SubjectNotFound(subject));
    }
    let Some(row) = pick(&rows, version, false) else {
        return Err(Error::VersionNotFound(
            version.map_or_else(|| "latest".to_owned(), |v| v.to_string()),
        ));
    };
    let level = state.effective_level(Some(&subject)).await?;
    let previous = state.schema_by_id(row.schema_id).await?;
    let number = u32::try_from(row.version).unwrap_or(0);
    let report = check(level, &candidate.schema, &[(number, &previous.schema)]);
    answer(
        report.is_compatible,
        report.messages,
        params.flag("verbose"),
    )
}

async fn against_all(
    State(state): State<AppState>,
    Path(subject): Path<String>,
    params: Params,
    Body(request): Body<SchemaRequest>,
) -> Result<Response, Error> {
    check_subject(&subject)?;
    let candidate = state.candidate(&request, params.flag("normalize")).await?;
    let rows = state.store().versions(&subject).await?;
    let level = state.effective_level(Some(&subject)).await?;
    let mut previous = Vec::new();
    for row in rows.iter().filter(|r| !r.deleted) {
        let schema = state.schema_by_id(row.schema_id).await?;
        previous.push((u32::try_from(row.version).unwrap_or(0), schema));
    }
    let previous: Vec<(u32, &Schema)> = previous.iter().map(|(v, s)| (*v, &s.schema)).collect();
    let report = check(level, &candidate.schema, &previous);
    answer(
        report.is_compatible,
        report.messages,
        params.flag("verbose"),
    )
}
