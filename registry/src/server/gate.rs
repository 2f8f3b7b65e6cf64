//! The one middleware every request passes through: content negotiation, authentication,
//! the UI's browser hardening and request metrics, around the handler.
//!
//! One layer rather than one per concern: each `from_fn` layer boxes the request's future
//! and clones the router's service, which on the hottest read (`GET /schemas/ids/{id}`, a
//! cache hit) cost more than the handler itself. The concerns keep their rules in their own
//! modules ([`super::negotiate`], [`super::auth`], [`super::browser`], [`super::metrics`]).

use std::borrow::Cow;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::auth::{Anonymous, Caller};
use super::state::AppState;
use super::{auth, browser, negotiate};

/// Refuses what the request's media types or credentials do not allow (415/406 first, then
/// 401/403), runs the handler with the caller's [`Principal`](super::Principal) in the
/// request's extensions, labels the answer with the negotiated type, hardens UI answers,
/// logs refusals and records the request under its route.
pub async fn gate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let start = Instant::now();
    let route = req.extensions().get::<MatchedPath>().cloned();
    let method = req.method().clone();
    let uri = req.uri().clone();
    let (principal, mut response) = match negotiate::check(&req) {
        Err(error) => (None, error.into_response()),
        Ok(chosen) => match auth::authenticate(&state, &req) {
            Err(refusal) => (
                refusal.claimed.map(Cow::Owned),
                refusal.error.into_response(),
            ),
            Ok(caller) => {
                let name = match caller {
                    Caller::Probe => None,
                    Caller::Anonymous => {
                        req.extensions_mut().insert(Anonymous);
                        Some(Cow::Borrowed("anonymous"))
                    }
                    Caller::Named(principal) => {
                        let name = principal.name.clone();
                        req.extensions_mut().insert(principal);
                        Some(Cow::Owned(name))
                    }
                };
                let mut response = next.run(req).await;
                if let Some(chosen) = chosen {
                    negotiate::label(&mut response, chosen);
                }
                (name, response)
            }
        },
    };
    let path = uri.path();
    if browser::is_ui(path) {
        browser::harden(&mut response);
    }
    let status = response.status();
    auth::log_refusal(principal.as_deref(), &method, path, status);
    if let Some(route) = route {
        let elapsed = start.elapsed();
        tracing::debug!(%method, route = route.as_str(), status = status.as_u16(), ?elapsed, "request");
        state
            .metrics()
            .record(route.as_str(), method.as_str(), status.as_u16(), elapsed);
    }
    response
}
