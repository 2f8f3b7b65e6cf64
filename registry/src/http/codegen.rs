//! `GET /subjects/{subject}/versions/{version}/rust`: the Rust types `herald codegen` writes
//! for a registered version.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::server::{AppState, Error, ErrorBody};
use crate::service::rust_code;

use super::body::Segments;
use super::errors::VersionNotFound;
use super::segments::VersionPath;
use super::subjects::find_version;

/// The code generation route.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(rust_source))
}

#[utoipa::path(
    get,
    path = "/subjects/{subject}/versions/{version}/rust",
    tag = "codegen",
    params(
        VersionPath,
    ),
    responses(
        (status = 200, description = "The Rust types", body = String, content_type = "text/x-rust; charset=utf-8"),
        VersionNotFound,
        (status = 422, description = "Invalid subject (42208) or version (42202), or a schema Rust cannot be generated for (42201)", body = ErrorBody),
    ),
)]
async fn rust_source(
    State(state): State<AppState>,
    Segments(VersionPath { subject, version }): Segments<VersionPath>,
) -> Result<Response, Error> {
    let row = find_version(&state, &subject, &version, false).await?;
    let schema = state.registry().schema_by_id(row.schema_id).await?;
    let code = rust_code(&subject, row, &schema)?;
    Ok(([(header::CONTENT_TYPE, "text/x-rust; charset=utf-8")], code).into_response())
}
