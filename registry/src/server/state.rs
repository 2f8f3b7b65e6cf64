//! The state every handler shares: the registry service, request metrics, credentials and
//! the body limit.

use std::fmt;
use std::sync::Arc;

use crate::schema::Limits;
use crate::service::Registry;
use crate::storage::SchemaStore;

use super::auth::Credentials;
use super::metrics::Metrics;

/// What the server was configured with, as the handlers need it.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Largest request body, in bytes.
    pub max_body_bytes: usize,
    /// Limits applied to schema text.
    pub limits: Limits,
}

/// The shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    registry: Registry,
    metrics: Metrics,
    credentials: Option<Credentials>,
    max_body_bytes: usize,
}

impl fmt::Debug for AppState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppState")
            .field("registry", &self.inner.registry)
            .field("max_body_bytes", &self.inner.max_body_bytes)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// State over `store`.
    pub fn new(
        store: Arc<dyn SchemaStore>,
        settings: Settings,
        credentials: Option<Credentials>,
    ) -> Self {
        AppState {
            inner: Arc::new(Inner {
                registry: Registry::new(store, settings.limits),
                metrics: Metrics::default(),
                credentials,
                max_body_bytes: settings.max_body_bytes,
            }),
        }
    }

    /// The registry service.
    pub fn registry(&self) -> &Registry {
        &self.inner.registry
    }

    /// The store.
    pub fn store(&self) -> &dyn SchemaStore {
        self.inner.registry.store()
    }

    /// Request metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// Basic-auth credentials, when authentication is on.
    pub fn credentials(&self) -> Option<&Credentials> {
        self.inner.credentials.as_ref()
    }

    /// The configured body limit.
    pub fn max_body_bytes(&self) -> usize {
        self.inner.max_body_bytes
    }
}
