//! `/compatibility`: test a schema against a subject's versions without registering it.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::post;
use serde_json::json;

use crate::schema::Report;
use crate::service::{Against, Options, SchemaRequest, ServiceError};

use super::AppState;
use super::body::{Body, Params, reply};
use super::error::Error;
use super::subjects::{check_subject, parse_version};

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

/// The answer to a check; with `verbose`, an invalid schema is an incompatible one with the
/// parser's message, as Confluent answers it.
fn answer(report: Result<Report, ServiceError>, verbose: bool) -> Result<Response, Error> {
    let report = match report {
        Ok(report) => report,
        Err(ServiceError::InvalidSchema(message)) if verbose => Report {
            is_compatible: false,
            messages: vec![message],
            violations: Vec::new(),
        },
        Err(err) => return Err(err.into()),
    };
    if verbose {
        reply(&json!({ "is_compatible": report.is_compatible, "messages": report.messages }))
    } else {
        reply(&json!({ "is_compatible": report.is_compatible }))
    }
}

fn options(params: &Params) -> Options {
    Options {
        normalize: params.flag("normalize"),
        deleted: false,
        force: false,
    }
}

async fn against_one(
    State(state): State<AppState>,
    Path((subject, version)): Path<(String, String)>,
    params: Params,
    Body(request): Body<SchemaRequest>,
) -> Result<Response, Error> {
    check_subject(&subject)?;
    let against = Against::Version(parse_version(&version)?);
    let report = state
        .registry()
        .check_compatibility(&subject, against, &request, options(&params))
        .await;
    answer(report, params.flag("verbose"))
}

async fn against_all(
    State(state): State<AppState>,
    Path(subject): Path<String>,
    params: Params,
    Body(request): Body<SchemaRequest>,
) -> Result<Response, Error> {
    let report = state
        .registry()
        .check_compatibility(&subject, Against::Live, &request, options(&params))
        .await;
    answer(report, params.flag("verbose"))
}
