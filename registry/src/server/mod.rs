//! The server: the router that mounts the JSON API ([`crate::http`]) and the web UI under one
//! layer ([`gate`]: negotiation, authentication, hardening, metrics), start-up and
//! signal handling, and what both kinds of route share: the state ([`AppState`]), the roles
//! of authenticated users, the error type with Confluent's codes and request metrics.

mod auth;
mod browser;
mod error;
mod gate;
mod metrics;
mod negotiate;
mod options;
mod state;
pub mod tls;

use std::future::Future;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::from_fn_with_state;

use crate::schema::Limits;
use crate::storage::{self, StorageError};

pub use auth::{Credentials, CredentialsError, Principal, Refusal, Role};
pub use error::{Error, ErrorBody};
pub use metrics::Metrics;
pub(crate) use negotiate::wants_html;
pub use options::ServeOptions;
pub use state::{AppState, Settings};

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database could not be opened or migrated.
    #[error(transparent)]
    Store(#[from] StorageError),
    /// The credentials file is unusable.
    #[error(transparent)]
    Credentials(#[from] CredentialsError),
    /// The listener failed.
    #[error("cannot listen: {0}")]
    Io(#[from] std::io::Error),
    /// The TLS certificate or key is unusable.
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
}

/// Opens the store named by the options, applies migrations and builds the state.
pub async fn connect(options: &ServeOptions) -> Result<AppState, StartError> {
    let store = storage::connect(&options.database_url, options.max_connections).await?;
    let credentials = match &options.credentials_file {
        Some(path) => Some(Credentials::load(path)?),
        None => None,
    };
    let settings = Settings {
        max_body_bytes: options.max_body_bytes,
        limits: Limits {
            max_bytes: options.max_schema_bytes,
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

/// The whole server over `state`: the API and the web UI.
pub fn app(state: AppState) -> Router {
    // The API's bodies are read with the limit by `http::Body`; the UI's forms by axum's
    // extractors, which take it from this layer.
    let ui = crate::ui::router().layer(DefaultBodyLimit::max(state.max_body_bytes()));
    crate::http::routes()
        .merge(ui)
        .fallback(|| async { Error::NotFound })
        .method_not_allowed_fallback(|| async { Error::MethodNotAllowed })
        .layer(from_fn_with_state(state.clone(), gate::gate))
        .with_state(state)
}

/// Serves the API over plain HTTP on `listener` until `shutdown` completes, then finishes
/// the requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}

/// Serves the API over HTTPS on `listener` until `shutdown` completes, then finishes the
/// requests in flight. Under mutual TLS each request carries its connection's [`tls::Peer`]
/// (`ConnectInfo<Peer>`), whose certificate names authentication reads; without, requests
/// carry nothing more than over HTTP.
pub async fn serve_tls(
    listener: tls::TlsListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    if listener.verifies_clients() {
        axum::serve(
            listener,
            app(state).into_make_service_with_connect_info::<tls::Peer>(),
        )
        .with_graceful_shutdown(shutdown)
        .await?;
    } else {
        axum::serve(listener, app(state))
            .with_graceful_shutdown(shutdown)
            .await?;
    }
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
