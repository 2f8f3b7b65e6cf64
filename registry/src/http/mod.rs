//! The Confluent-compatible HTTP API, with routes grouped by resource. Every module exposes
//! `fn router() -> OpenApiRouter<AppState>`, registering its `#[utoipa::path]`-annotated
//! handlers with `utoipa_axum::routes!`; [`api`] merges them (the one list of routes, which
//! the router and the OpenAPI document both come from) and [`app`] adds metrics,
//! authentication, the body limit and content negotiation.

mod auth;
mod body;
mod codegen;
mod compatibility;
mod config;
mod error;
mod health;
mod metrics;
mod mode;
mod negotiate;
mod openapi;
mod schemas;
mod state;
mod subjects;
mod validate;

use std::future::Future;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::from_fn_with_state;
use tokio::net::TcpListener;
use utoipa_axum::router::OpenApiRouter;

use crate::config::ServeConfig;
use crate::schema::Limits;
use crate::storage::{self, StoreError};

pub use auth::{Credentials, CredentialsError, Role};
pub use body::CONTENT_TYPE;
pub(crate) use codegen::rust_code;
pub use error::Error;
pub use error::ErrorBody;
pub use metrics::Metrics;
pub use state::{AppState, Settings};
pub(crate) use validate::validate_payload;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database could not be opened or migrated.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The credentials file is unusable.
    #[error(transparent)]
    Credentials(#[from] CredentialsError),
    /// The listener failed.
    #[error("cannot listen: {0}")]
    Io(#[from] std::io::Error),
}

/// Opens the store named by the configuration, applies migrations and builds the state.
pub async fn connect(config: &ServeConfig) -> Result<AppState, StartError> {
    let store = storage::connect(&config.database_url, config.max_connections).await?;
    let credentials = match &config.credentials_file {
        Some(path) => Some(Credentials::load(path)?),
        None => None,
    };
    let settings = Settings {
        max_body_bytes: config.max_body_bytes,
        limits: Limits {
            max_bytes: config.max_schema_bytes,
            ..Limits::default()
        },
    };
    let state = AppState::new(store, settings, credentials);
    let rekeyed = state.registry().rekey().await?;
    if rekeyed > 0 {
        tracing::info!(
            rekeyed,
            "schema keys recomputed for the identity that keeps docs"
        );
    }
    Ok(state)
}

/// Every route of the API with its OpenAPI description: the one place routes are listed.
fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(schemas::router())
        .merge(subjects::router())
        .merge(codegen::router())
        .merge(compatibility::router())
        .merge(config::router())
        .merge(mode::router())
        .merge(validate::router())
        .merge(health::router())
        .merge(openapi::router())
}

/// The OpenAPI 3.1 document of the API, as `GET /openapi.json` serves it.
pub fn openapi_document() -> serde_json::Value {
    openapi::document(api().into_openapi())
}

/// The whole API over `state`.
pub fn app(state: AppState) -> Router {
    let (routes, _) = api().split_for_parts();
    routes
        .merge(crate::ui::router())
        .route_layer(from_fn_with_state(state.clone(), metrics::track))
        .fallback(|| async { Error::NotFound })
        .method_not_allowed_fallback(|| async { Error::MethodNotAllowed })
        .layer(from_fn_with_state(state.clone(), auth::require))
        .layer(DefaultBodyLimit::max(state.max_body_bytes()))
        .layer(axum::middleware::from_fn(negotiate::negotiate))
        .with_state(state)
}

/// Serves the API on `listener` until `shutdown` completes, then finishes the requests in
/// flight.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}

/// Completes on SIGTERM or SIGINT (Ctrl-C).
pub async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => tracing::info!("SIGINT received, finishing in-flight requests"),
        () = terminate => tracing::info!("SIGTERM received, finishing in-flight requests"),
    }
}
