//! `/dek-registry/v1/...`: the DEK registry that Confluent's clients call to run ENCRYPT
//! rules, with Confluent's paths, bodies and error codes (see [`crate::service::keys`] for
//! the rules). Reads need the `read` role, writes (every POST, PUT and DELETE) `write`.

mod deks;
mod keks;
mod wire;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::{IntoParams, IntoResponses};
use utoipa_axum::router::OpenApiRouter;

use crate::server::{AppState, Error, ErrorBody};
use crate::service::keys::KeyError;
use crate::storage::DekAlgorithm;

use super::body::{CONTENT_TYPE, Params};

/// The most names or versions a listing answers.
const MAX_LISTING: usize = 10_000;

/// Routes under `/dek-registry/v1`.
pub fn router() -> OpenApiRouter<AppState> {
    keks::router().merge(deks::router())
}

/// An error of a DEK registry operation: one of its own, or one the API shares.
#[derive(Debug)]
pub enum DekError {
    /// A DEK registry error, with Confluent's 404xx/409xx/422xx/500xx codes.
    Key(KeyError),
    /// An error every endpoint can answer (a bad body, an invalid subject, …).
    Http(Error),
}

impl From<KeyError> for DekError {
    fn from(err: KeyError) -> Self {
        DekError::Key(err)
    }
}

impl From<Error> for DekError {
    fn from(err: Error) -> Self {
        DekError::Http(err)
    }
}

impl DekError {
    fn codes(err: &KeyError) -> (StatusCode, u32) {
        match err {
            KeyError::Store(_) => (StatusCode::INTERNAL_SERVER_ERROR, 50001),
            KeyError::NotFound(_) => (StatusCode::NOT_FOUND, 40470),
            KeyError::NotSoftDeleted(_) => (StatusCode::NOT_FOUND, 40471),
            KeyError::SoftDeleted(_) => (StatusCode::NOT_FOUND, 40472),
            KeyError::Exists(_) => (StatusCode::CONFLICT, 40971),
            KeyError::Invalid(_) | KeyError::KmsUnsupported(_) => {
                (StatusCode::UNPROCESSABLE_ENTITY, 42271)
            }
            KeyError::Referenced(_) => (StatusCode::UNPROCESSABLE_ENTITY, 42272),
            KeyError::InvalidVersion(_) => (StatusCode::UNPROCESSABLE_ENTITY, 42202),
            KeyError::Generation(_) => (StatusCode::INTERNAL_SERVER_ERROR, 50070),
        }
    }
}

impl IntoResponse for DekError {
    fn into_response(self) -> Response {
        let err = match self {
            DekError::Http(err) => return err.into_response(),
            DekError::Key(err) => err,
        };
        let (status, code) = DekError::codes(&err);
        match &err {
            KeyError::Store(_) => tracing::error!(error = %err, "DEK registry store error"),
            KeyError::Generation(_) => tracing::warn!(error = %err, "DEK generation failed"),
            _ => {}
        }
        let body = ErrorBody {
            error_code: code,
            message: err.to_string(),
        };
        let body = serde_json::to_string(&body).unwrap_or_default();
        let mut response = (status, body).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
        response
    }
}

/// `{name}`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
struct KekPath {
    /// The KEK's name
    #[param(example = "orders-kek")]
    name: String,
}

/// `{name}` and `{subject}`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
struct DekPath {
    /// The KEK's name
    #[param(example = "orders-kek")]
    name: String,
    /// The subject of the DEK
    #[param(example = "orders-value")]
    subject: String,
}

/// `{name}`, `{subject}` and `{version}`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
struct DekVersionPath {
    /// The KEK's name
    #[param(example = "orders-kek")]
    name: String,
    /// The subject of the DEK
    #[param(example = "orders-value")]
    subject: String,
    /// A version in [1, 2^31-1], `latest` or `-1`
    #[param(example = "1")]
    version: String,
}

/// `algorithm`, described once for the OpenAPI document (read with [`algorithm`]).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(
    dead_code,
    reason = "described only: handlers read it with `algorithm`"
)]
struct AlgorithmQuery {
    /// AES128_GCM, AES256_GCM (the default) or AES256_SIV
    algorithm: Option<String>,
}

/// The `algorithm` query parameter: AES256_GCM when absent.
fn algorithm(params: &Params) -> Result<DekAlgorithm, KeyError> {
    match params.get("algorithm") {
        None => Ok(DekAlgorithm::default()),
        Some(text) => text.parse().map_err(|_| KeyError::Invalid("algorithm")),
    }
}

/// Answers 204 No Content.
fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

/// What reading a KEK can fail with.
#[derive(IntoResponses)]
#[allow(dead_code, reason = "described only: the handlers answer `DekError`")]
enum KekErrors {
    #[response(status = 404, description = "No such KEK (40470)")]
    NotFound(ErrorBody),
    #[response(status = 422, description = "Invalid name (42271)")]
    Invalid(ErrorBody),
}

/// What a delete can fail with.
#[derive(IntoResponses)]
#[allow(dead_code, reason = "described only: the handlers answer `DekError`")]
enum DeleteErrors {
    #[response(
        status = 404,
        description = "No such key (40470), or a permanent delete of a key not soft-deleted first (40471)"
    )]
    NotFound(ErrorBody),
    #[response(
        status = 422,
        description = "Invalid name, subject, algorithm (42271) or version (42202), or a KEK that DEKs still use (42272)"
    )]
    Invalid(ErrorBody),
}

/// What reading DEKs can fail with.
#[derive(IntoResponses)]
#[allow(dead_code, reason = "described only: the handlers answer `DekError`")]
enum DekErrors {
    #[response(
        status = 404,
        description = "No such KEK or DEK (40470), or offset or limit not a 32-bit integer"
    )]
    NotFound(ErrorBody),
    #[response(
        status = 422,
        description = "Invalid name or algorithm (42271), subject (42208) or version (42202)"
    )]
    Invalid(ErrorBody),
    #[response(
        status = 500,
        description = "The registry could not unwrap the DEK with its shared KEK (50070)"
    )]
    Generation(ErrorBody),
}

/// What a creation can fail with.
#[derive(IntoResponses)]
#[allow(dead_code, reason = "described only: the handlers answer `DekError`")]
enum CreateErrors {
    #[response(status = 404, description = "No such live KEK (40470)")]
    NotFound(ErrorBody),
    #[response(status = 409, description = "The key exists already (40971)")]
    Exists(ErrorBody),
    #[response(
        status = 422,
        description = "A field missing or invalid, or a shared KEK of a KMS the registry cannot reach (42271), an invalid subject (42208)"
    )]
    Invalid(ErrorBody),
    #[response(
        status = 500,
        description = "The registry could not generate the DEK: no local KMS secret configured (50070)"
    )]
    Generation(ErrorBody),
}
