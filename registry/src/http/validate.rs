//! `POST /subjects/{s}/versions/{v}/validate`: checks a JSON payload against a registered
//! JSON Schema, an Avro datum in Avro's JSON encoding against a registered Avro schema, or a
//! message in the proto3 JSON mapping against a registered PROTOBUF schema (`message`: its
//! name, default the first), and returns every error with its location in the payload.

use axum::extract::State;
use axum::response::Response;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::server::{AppState, Error, ErrorBody};
use crate::service::validate_payload;

use super::answers::ValidationAnswer;
use super::body::{Body, Params, Segments, reply};
use super::errors::VersionNotFound;
use super::segments::VersionPath;
use super::subjects::find_version;

/// The validation route.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(validate))
}

#[utoipa::path(
    post,
    path = "/subjects/{subject}/versions/{version}/validate",
    tag = "subjects",
    params(
        VersionPath,
        ("deleted" = Option<bool>, Query, description = "Soft-deleted versions too"),
        ("message" = Option<String>, Query, description = "PROTOBUF: the message to check against (full or package-relative name); default the first"),
    ),
    request_body = Value,
    responses(
        (status = 200, description = "Whether the payload conforms, and why not", body = ValidationAnswer),
        VersionNotFound,
        (status = 422, description = "Invalid subject (42208) or version (42202)", body = ErrorBody),
    ),
)]
async fn validate(
    State(state): State<AppState>,
    Segments(VersionPath { subject, version }): Segments<VersionPath>,
    params: Params,
    Body(payload): Body<Value>,
) -> Result<Response, Error> {
    let row = find_version(&state, &subject, &version, params.flag("deleted")).await?;
    let schema = state.registry().schema_by_id(row.schema_id).await?;
    let errors = validate_payload(&schema, params.get("message"), &payload)?;
    reply(&ValidationAnswer {
        subject,
        version: row.version,
        id: row.schema_id,
        is_valid: errors.is_empty(),
        errors,
    })
}
