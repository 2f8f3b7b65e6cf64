//! The Confluent-compatible HTTP API, with routes grouped by resource. Every module exposes
//! `fn router() -> OpenApiRouter<AppState>`, registering its `#[utoipa::path]`-annotated
//! handlers with `utoipa_axum::routes!`; `api()` merges them (the one list of routes, which
//! the router and the OpenAPI document both come from). The server ([`crate::server::app`])
//! mounts them with the web UI and adds metrics, authentication, the body limit and content
//! negotiation.

mod answers;
mod audit;
mod body;
mod codegen;
mod compatibility;
mod config;
mod dek;
mod errors;
mod health;
mod mode;
mod openapi;
mod queries;
mod schema_ids;
mod segments;
mod subjects;
mod validate;

use axum::Router;
use utoipa_axum::router::OpenApiRouter;

use crate::server::AppState;

pub(crate) use audit::{AuditPage, audit_page, audit_paging, require_admin};
pub use body::CONTENT_TYPE;
pub(crate) use body::Params;

/// Every route of the API with its OpenAPI description: the one place routes are listed.
fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(schema_ids::router())
        .merge(subjects::router())
        .merge(codegen::router())
        .merge(compatibility::router())
        .merge(config::router())
        .merge(mode::router())
        .merge(validate::router())
        .merge(audit::router())
        .merge(dek::router())
        .merge(health::router())
        .merge(openapi::router())
}

/// The OpenAPI 3.1 document of the API, as `GET /openapi.json` serves it.
pub fn openapi_document() -> serde_json::Value {
    openapi::document(api().into_openapi())
}

/// The API's routes, without the layers the server adds ([`crate::server::app`]).
pub(crate) fn routes() -> Router<AppState> {
    api().split_for_parts().0
}
