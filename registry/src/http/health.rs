//! `/` (Confluent's root, `{}`), `/health` (liveness), `/ready` (the database answers) and `/metrics` (Prometheus).

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use super::AppState;
use super::body::reply;
use super::error::Error;

/// Operational routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(root).post(root))
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics))
}

/// Confluent's root resource: `{}` to GET and POST, whatever the `Accept` header says.
async fn root() -> Result<Response, Error> {
    reply(&json!({}))
}

async fn health() -> Result<Response, Error> {
    reply(&json!({ "status": "UP" }))
}

async fn ready(State(state): State<AppState>) -> Response {
    match state.store().ping().await {
        Ok(()) => reply(&json!({ "status": "READY", "backend": state.store().backend() }))
            .unwrap_or_else(IntoResponse::into_response),
        Err(err) => {
            let mut response = Error::Store(err.to_string()).into_response();
            *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
            response
        }
    }
}

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
