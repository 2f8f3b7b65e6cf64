//! Browser hardening of the web UI's answers (every answer under `/ui`, and `/`, which sends a
//! browser there), authentication challenges and errors included: a Content Security Policy
//! that allows only this origin's own stylesheet and script (no inline script, no framing),
//! `X-Frame-Options: DENY` for browsers without `frame-ancestors`, `nosniff`, and a referrer
//! policy that keeps the registry's paths (subject names) to this origin.

use axum::http::{HeaderName, HeaderValue, header};
use axum::response::Response;

/// The headers every UI answer carries.
const HEADERS: [(HeaderName, &str); 4] = [
    (
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::REFERRER_POLICY, "same-origin"),
];

/// Whether `path` is the UI's (`/ui`, under it, or `/`, which sends a browser there).
pub(super) fn is_ui(path: &str) -> bool {
    path == "/" || path == "/ui" || path.starts_with("/ui/")
}

/// Adds the [`HEADERS`] to an answer of a UI route.
pub(super) fn harden(response: &mut Response) {
    let headers = response.headers_mut();
    for (name, value) in HEADERS {
        headers.insert(name, HeaderValue::from_static(value));
    }
}
