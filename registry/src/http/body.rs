//! Request bodies and query parameters as Confluent clients send them, and JSON answers with
//! Confluent's content type.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::server::{AppState, Error};

/// The content type of every JSON answer: Confluent's.
pub use herald_protocol::CONTENT_TYPE;

/// A JSON request body, accepted whatever its content type says (Confluent's
/// `application/vnd.schemaregistry.v1+json`, plain `application/json`, or none), with
/// bodies over the configured limit (`--max-body-bytes`) answered 413 as a JSON error. The
/// limit is applied here rather than by a layer, which would wrap every route, reads
/// included.
#[derive(Debug)]
pub struct Body<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for Body<T> {
    type Rejection = Error;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Error> {
        let limit = state.max_body_bytes();
        let bytes = Limited::new(req.into_body(), limit)
            .collect()
            .await
            .map_err(|err| {
                if err.is::<LengthLimitError>() {
                    Error::PayloadTooLarge(limit)
                } else {
                    Error::BadRequest(format!("Cannot read the request body: {err}"))
                }
            })?
            .to_bytes();
        serde_json::from_slice(&bytes)
            .map(Body)
            .map_err(|err| Error::BadRequest(format!("Invalid JSON body: {err}")))
    }
}

/// Query parameters, read leniently: unknown ones are ignored, the last of a repeated one
/// counts, and flags are `true` in any case. A request without a query allocates nothing.
#[derive(Debug, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    /// Whether the flag is `true` (case-insensitive).
    pub fn flag(&self, name: &str) -> bool {
        self.get(name)
            .is_some_and(|value| value.eq_ignore_ascii_case("true"))
    }

    /// The raw value of a parameter.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

impl Params {
    /// An `int` parameter as Confluent's framework reads it: absent is `default`, one that
    /// is not a 32-bit integer is a plain 404.
    pub fn int(&self, name: &str, default: i32) -> Result<i32, Error> {
        match self.get(name) {
            None => Ok(default),
            Some(text) => text.trim().parse().map_err(|_| Error::NotFound),
        }
    }

    /// `offset` and `limit`, with a limit <= 0 or over `max` meaning `max` (Confluent's
    /// `normalizeLimit` with equal default and maximum).
    pub fn page(&self, max: usize) -> Result<Page, Error> {
        let offset = usize::try_from(self.int("offset", 0)?).unwrap_or(0);
        let limit = usize::try_from(self.int("limit", -1)?)
            .ok()
            .filter(|limit| (1..=max).contains(limit))
            .unwrap_or(max);
        Ok(Page { offset, limit })
    }
}

/// A slice of a listing, by `offset` and `limit`.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    /// How many items to skip.
    pub offset: usize,
    /// How many to keep at most.
    pub limit: usize,
}

impl Page {
    /// The items of the page.
    pub fn of<T>(self, items: impl IntoIterator<Item = T>) -> Vec<T> {
        items
            .into_iter()
            .skip(self.offset)
            .take(self.limit)
            .collect()
    }

    /// How many items from the start the page needs.
    pub fn end(self) -> usize {
        self.offset.saturating_add(self.limit)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Error> {
        if parts.uri.query().is_none_or(str::is_empty) {
            return Ok(Params::default());
        }
        let Query(pairs) = Query::<Vec<(String, String)>>::from_request_parts(parts, state)
            .await
            .map_err(|rejection| Error::BadRequest(rejection.body_text()))?;
        Ok(Params(pairs))
    }
}

/// Path parameters, with one that does not decode (invalid UTF-8 once percent-decoded)
/// answered 400 as a JSON error rather than axum's plain-text rejection.
#[derive(Debug)]
pub struct Segments<T>(pub T);

impl<T, S> FromRequestParts<S> for Segments<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Error> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(Segments(value)),
            Err(rejection) => Err(Error::BadRequest(rejection.body_text())),
        }
    }
}

/// Answers 200 with `value` as JSON.
pub fn reply<T: Serialize + ?Sized>(value: &T) -> Result<Response, Error> {
    let bytes = serde_json::to_vec(value)
        .map_err(|err| Error::Store(format!("cannot render the answer: {err}")))?;
    Ok(json_bytes(Bytes::from(bytes)))
}

/// Answers 200 with bytes that already are JSON.
pub fn json_bytes(bytes: Bytes) -> Response {
    let mut response = bytes.into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    response
}
