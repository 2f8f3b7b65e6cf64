//! `/compatibility`: test a schema against a subject's versions without registering it.

use axum::extract::State;
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::schema::Report;
use crate::service::{Against, Options, SchemaRequest, ServiceError};

use super::answers::CompatibilityAnswer;
use super::body::{Body, Params, Segments, reply};
use super::errors::VersionNotFound;
use super::queries::Normalize;
use super::segments::{SubjectPath, VersionPath};
use super::subjects::check_subject;
use crate::server::{AppState, Error, ErrorBody};
use crate::service::parse_version;

/// Routes under `/compatibility`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(against_all))
        .routes(routes!(against_one))
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
    reply(&CompatibilityAnswer {
        is_compatible: report.is_compatible,
        messages: verbose.then_some(report.messages),
    })
}

fn options(params: &Params) -> Options {
    Options {
        normalize: params.flag("normalize"),
        deleted: false,
        force: false,
    }
}

#[utoipa::path(
    post,
    path = "/compatibility/subjects/{subject}/versions/{version}",
    tag = "compatibility",
    params(
        VersionPath,
        Normalize,
        ("verbose" = Option<bool>, Query, description = "Say why not"),
    ),
    request_body = SchemaRequest,
    responses(
        (status = 200, description = "Whether the schema is compatible", body = CompatibilityAnswer),
        VersionNotFound,
        (status = 422, description = "Invalid subject (42208), version (42202) or schema (42201)", body = ErrorBody),
    ),
)]
async fn against_one(
    State(state): State<AppState>,
    Segments(VersionPath { subject, version }): Segments<VersionPath>,
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

#[utoipa::path(
    post,
    path = "/compatibility/subjects/{subject}/versions",
    tag = "compatibility",
    params(
        SubjectPath,
        Normalize,
        ("verbose" = Option<bool>, Query, description = "Say why not"),
    ),
    request_body = SchemaRequest,
    responses(
        (status = 200, description = "Whether the schema is compatible", body = CompatibilityAnswer),
        VersionNotFound,
        (status = 422, description = "Invalid subject (42208), version (42202) or schema (42201)", body = ErrorBody),
    ),
)]
async fn against_all(
    State(state): State<AppState>,
    Segments(SubjectPath { subject }): Segments<SubjectPath>,
    params: Params,
    Body(request): Body<SchemaRequest>,
) -> Result<Response, Error> {
    let report = state
        .registry()
        .check_compatibility(&subject, Against::Live, &request, options(&params))
        .await;
    answer(report, params.flag("verbose"))
}
