//! `/` (Confluent's root, `{}`), `/health` (liveness), `/ready` (the database answers) and `/metrics` (Prometheus).

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::answers::StatusAnswer;
use super::body::reply;
use crate::server::{AppState, Error, ErrorBody};

/// Operational routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(root, root_post))
        .routes(routes!(health))
        .routes(routes!(ready))
        .routes(routes!(metrics))
}

/// Confluent's root resource: `{}` to GET and POST, whatever the `Accept` header says; a
/// browser (`Accept: text/html`) asking with GET is sent to the web UI.
#[utoipa::path(
    get,
    path = "/",
    tag = "operations",
    responses(
        (status = 200, description = "`{}`", body = Object),
        (status = 303, description = "A browser (`Accept: text/html`) is sent to the web UI at `/ui`"),
    ),
)]
async fn root(headers: HeaderMap) -> Result<Response, Error> {
    if crate::server::wants_html(&headers) {
        return Ok(Redirect::to("/ui").into_response());
    }
    reply(&json!({}))
}

/// `POST /`: the same as `GET /`.
#[utoipa::path(
    post,
    path = "/",
    tag = "operations",
    responses(
        (status = 200, description = "`{}`", body = Object),
    ),
)]
async fn root_post() -> Result<Response, Error> {
    reply(&json!({}))
}

#[utoipa::path(
    get,
    path = "/health",
    tag = "operations",
    responses(
        (status = 200, description = "The server is up", body = StatusAnswer),
    ),
)]
async fn health() -> Result<Response, Error> {
    reply(&StatusAnswer {
        status: "UP".to_owned(),
        backend: None,
    })
}

#[utoipa::path(
    get,
    path = "/ready",
    tag = "operations",
    responses(
        (status = 200, description = "The database answers", body = StatusAnswer),
        (status = 503, description = "The database does not answer (50001)", body = ErrorBody),
    ),
)]
async fn ready(State(state): State<AppState>) -> Response {
    match state.store().ping().await {
        Ok(()) => reply(&StatusAnswer {
            status: "READY".to_owned(),
            backend: Some(state.store().backend().to_string()),
        })
        .unwrap_or_else(IntoResponse::into_response),
        Err(err) => {
            let mut response = Error::Store(err.to_string()).into_response();
            *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
            response
        }
    }
}

#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses(
        (status = 200, description = "Prometheus metrics", body = String, content_type = "text/plain; version=0.0.4"),
    ),
)]
async fn metrics(State(state): State<AppState>) -> Result<Response, Error> {
    let counts = state.store().counts().await?;
    let text = state
        .metrics()
        .render(counts, state.registry().cache().len());
    let mut response = text.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    Ok(response)
}
