//! The web UI, under `/ui`: server-rendered pages (maud) over the same registry service as the
//! JSON API. Pages work without JavaScript; a small embedded script adds copy buttons.
//!
//! Authentication is the API's: the `auth` middleware asks anonymous visitors for
//! credentials when the server has them, the pages that change something (settings,
//! registering, deleting) also need the `write` role (a reader sees their controls disabled,
//! with a note), and the audit log (`/ui/audit`) the `admin` role. Every form that changes
//! something is a POST from this origin (`Origin` or `Sec-Fetch-Site` checked), so another site
//! cannot make a signed-in browser submit one, and it goes through the same service functions
//! as the API.

mod api;
mod assets;
mod audit;
mod check;
mod delete;
mod diff;
mod download;
mod highlight;
mod layout;
mod register;
mod schema_ids;
mod segments;
mod settings;
mod subjects;

use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::html;

use crate::server::{AppState, Error, Principal, Role};
use crate::service::{PayloadCheckError, ServiceError};
use crate::storage::StorageError;

/// The UI's routes.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/ui", get(subjects::list))
        .route("/ui/", get(subjects::list))
        .route("/ui/api", get(api::show))
        .route("/ui/assets/{name}", get(assets::asset))
        .route("/ui/subjects/{subject}", get(subjects::subject))
        .route("/ui/subjects/{subject}/diff", get(diff::show))
        .route(
            "/ui/subjects/{subject}/check",
            get(check::check_form).post(check::check),
        )
        .route(
            "/ui/subjects/{subject}/versions/{version}/validate",
            get(check::validate_form).post(check::validate),
        )
        .route(
            "/ui/subjects/{subject}/versions/{version}/rust",
            get(schema_ids::rust),
        )
        .route(
            "/ui/subjects/{subject}/versions/{version}/download",
            get(download::download),
        )
        .route(
            "/ui/subjects/{subject}/versions/{version}/delete",
            get(delete::version_form).post(delete::delete_version),
        )
        .route(
            "/ui/subjects/{subject}/delete",
            get(delete::subject_form).post(delete::delete_subject),
        )
        .route(
            "/ui/subjects/{subject}/register",
            get(register::register_form).post(register::register),
        )
        .route(
            "/ui/subjects/{subject}/settings",
            axum::routing::post(settings::save_subject),
        )
        .route("/ui/schemas", get(schema_ids::find))
        .route("/ui/schemas/{id}", get(schema_ids::by_id))
        .route(
            "/ui/settings",
            get(settings::global).post(settings::save_global),
        )
        .route("/ui/audit", get(audit::log))
        .layer(axum::middleware::from_fn(layout::viewer))
}

/// A page that could not be shown: the API's error, rendered as HTML with its status.
#[derive(Debug)]
pub(crate) struct Failure(Error);

impl From<Error> for Failure {
    fn from(err: Error) -> Self {
        Failure(err)
    }
}

impl From<ServiceError> for Failure {
    fn from(err: ServiceError) -> Self {
        Failure(err.into())
    }
}

impl From<PayloadCheckError> for Failure {
    fn from(err: PayloadCheckError) -> Self {
        Failure(Error::from(err))
    }
}

impl From<StorageError> for Failure {
    fn from(err: StorageError) -> Self {
        Failure(err.into())
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let (status, _) = self.0.codes();
        let title = match status {
            StatusCode::NOT_FOUND => "Not found",
            StatusCode::FORBIDDEN => "Not allowed",
            StatusCode::UNPROCESSABLE_ENTITY | StatusCode::BAD_REQUEST => "Cannot do that",
            _ => "Something went wrong",
        };
        let body = html! {
            h1 { (title) }
            p.notice.bad role="alert" { (self.0.to_string()) }
            p { a href="/ui" { "Back to the subjects" } }
        };
        (status, layout::page(title, &[], body)).into_response()
    }
}

/// Refuses a form POST that did not come from a page of this server (CSRF), or from a user
/// who may only read.
pub(crate) fn allow_write(principal: &Principal, headers: &HeaderMap) -> Result<(), Failure> {
    if !same_origin(headers) {
        return Err(Error::Forbidden(
            "the form was not sent from this registry's own pages".to_owned(),
        )
        .into());
    }
    if principal.role == Role::Read {
        return Err(Error::Forbidden(
            "this user may only read: changing the registry needs the write role".to_owned(),
        )
        .into());
    }
    Ok(())
}

/// Whether a POST came from this origin: its `Origin` names this host, or (browsers that send
/// no `Origin`) `Sec-Fetch-Site` says same-origin.
fn same_origin(headers: &HeaderMap) -> bool {
    let text = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    match (text(header::ORIGIN), text(header::HOST)) {
        (Some(origin), Some(host)) => {
            let authority = origin
                .strip_prefix("http://")
                .or_else(|| origin.strip_prefix("https://"));
            authority == Some(host)
        }
        (Some(_), None) => false,
        (None, _) => text(header::HeaderName::from_static("sec-fetch-site")) == Some("same-origin"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn only_same_origin_posts_pass() {
        assert!(same_origin(&headers(&[
            ("origin", "http://127.0.0.1:8081"),
            ("host", "127.0.0.1:8081")
        ])));
        assert!(!same_origin(&headers(&[
            ("origin", "http://evil.example"),
            ("host", "127.0.0.1:8081")
        ])));
        assert!(!same_origin(&headers(&[("origin", "null"), ("host", "h")])));
        assert!(same_origin(&headers(&[("sec-fetch-site", "same-origin")])));
        assert!(!same_origin(&headers(&[("sec-fetch-site", "cross-site")])));
        assert!(!same_origin(&headers(&[])));
    }
}
