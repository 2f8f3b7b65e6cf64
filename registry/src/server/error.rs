//! The one error type of the HTTP API: each variant is a Confluent error answer,
//! `{"error_code": N, "message": "..."}` with its HTTP status.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::service::{PayloadCheckError, ServiceError};
use crate::storage::StorageError;

use herald_protocol::CONTENT_TYPE;

/// Confluent's error body, the answer of every failed request.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Confluent's error code: the HTTP status, or the status and two more digits (40401).
    pub error_code: u32,
    /// What went wrong.
    pub message: String,
}

/// An API error, rendered as Confluent renders it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// 40401.
    #[error("Subject '{0}' not found.")]
    SubjectNotFound(String),
    /// 40402.
    #[error("Version {0} not found.")]
    VersionNotFound(String),
    /// 40403.
    #[error("Schema {0} not found")]
    SchemaNotFound(String),
    /// 40404.
    #[error("Subject '{0}' was soft deleted.Set permanent=true to delete permanently")]
    SubjectSoftDeleted(String),
    /// 40405.
    #[error("Subject '{0}' was not deleted first before being permanently deleted")]
    SubjectNotSoftDeleted(String),
    /// 40406.
    #[error("Subject '{0}' Version {1} was soft deleted.Set permanent=true to delete permanently")]
    VersionSoftDeleted(String, i32),
    /// 40407.
    #[error("Subject '{0}' Version {1} was not deleted first before being permanently deleted")]
    VersionNotSoftDeleted(String, i32),
    /// 40408.
    #[error("Subject '{0}' does not have subject-level compatibility configured")]
    SubjectConfigNotSet(String),
    /// 40409.
    #[error("Subject '{0}' does not have subject-level mode configured")]
    SubjectModeNotSet(String),
    /// 40901, HTTP 409.
    #[error(
        "Schema being registered is incompatible with an earlier schema for subject \"{subject}\", details: [{}]",
        .messages.join(", ")
    )]
    Incompatible {
        /// The subject.
        subject: String,
        /// The compatibility engine's messages.
        messages: Vec<String>,
    },
    /// 42201.
    #[error("Invalid schema: {0}")]
    InvalidSchema(String),
    /// 42202.
    #[error(
        "The specified version '{0}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string \"latest\""
    )]
    InvalidVersion(String),
    /// 42201: no schema text, and no earlier version to take it from.
    #[error("Empty schema")]
    EmptySchema,
    /// 42203, with Confluent's exact message (which does not repeat the level).
    #[error(
        "Invalid compatibility level. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive"
    )]
    InvalidCompatibilityLevel,
    /// 42204.
    #[error("Invalid mode. Valid values are READWRITE, READONLY, IMPORT: {0}")]
    InvalidMode(String),
    /// 42205.
    #[error("{0}")]
    OperationNotPermitted(String),
    /// 42206.
    #[error("{0}")]
    ReferenceExists(String),
    /// 42207.
    #[error("{0}")]
    IdDoesNotMatch(String),
    /// 42208.
    #[error("The specified subject is not valid: {0}")]
    InvalidSubject(String),
    /// 42209.
    #[error("Schema too large: {0}")]
    SchemaTooLarge(String),
    /// 42210.
    #[error("{0}")]
    InvalidRuleSet(String),
    /// 50001.
    #[error("Error in the backend data store: {0}")]
    Store(String),
    /// HTTP 400: the body is not the JSON the endpoint expects.
    #[error("{0}")]
    BadRequest(String),
    /// HTTP 413: the body is over the configured limit.
    #[error("Request body is larger than the limit of {0} bytes")]
    PayloadTooLarge(usize),
    /// HTTP 401.
    #[error("Unauthorized: {0}")]
    Unauthorized(String),
    /// HTTP 403.
    #[error("Forbidden: {0}")]
    Forbidden(String),
    /// HTTP 404 for an unknown route, or a path parameter of the wrong type.
    #[error("HTTP 404 Not Found")]
    NotFound,
    /// HTTP 405: the route exists, the method does not.
    #[error("HTTP 405 Method Not Allowed")]
    MethodNotAllowed,
    /// HTTP 406: the `Accept` header allows none of the answer types.
    #[error("HTTP 406 Not Acceptable")]
    NotAcceptable,
    /// HTTP 415: the request body's content type or charset is not one the API reads.
    #[error("{0}")]
    UnsupportedMediaType(String),
}

impl Error {
    /// The HTTP status and Confluent error code.
    pub fn codes(&self) -> (StatusCode, u32) {
        use Error::*;
        match self {
            SubjectNotFound(_) => (StatusCode::NOT_FOUND, 40401),
            VersionNotFound(_) => (StatusCode::NOT_FOUND, 40402),
            SchemaNotFound(_) => (StatusCode::NOT_FOUND, 40403),
            SubjectSoftDeleted(_) => (StatusCode::NOT_FOUND, 40404),
            SubjectNotSoftDeleted(_) => (StatusCode::NOT_FOUND, 40405),
            VersionSoftDeleted(..) => (StatusCode::NOT_FOUND, 40406),
            VersionNotSoftDeleted(..) => (StatusCode::NOT_FOUND, 40407),
            SubjectConfigNotSet(_) => (StatusCode::NOT_FOUND, 40408),
            SubjectModeNotSet(_) => (StatusCode::NOT_FOUND, 40409),
            Incompatible { .. } => (StatusCode::CONFLICT, 40901),
            InvalidSchema(_) => (StatusCode::UNPROCESSABLE_ENTITY, 42201),
            InvalidVersion(_) => (StatusCode::UNPROCESSABLE_ENTITY, 42202),
            EmptySchema => (StatusCode::UNPROCESSABLE_ENTITY, 42201),
            InvalidCompatibilityLevel => (StatusCode::UNPROCESSABLE_ENTITY, 42203),
            InvalidMode(_) => (StatusCode::UNPROCESSABLE_ENTITY, 42204),
            OperationNotPermitted(_) => (StatusCode::UNPROCESSABLE_ENTITY, 42205),
            ReferenceExists(_) => (StatusCode::UNPROCESSABLE_ENTITY, 42206),
            IdDoesNotMatch(_) => (StatusCode::UNPROCESSABLE_ENTITY, 42207),
            InvalidSubject(_) => (StatusCode::UNPROCESSABLE_ENTITY, 42208),
            SchemaTooLarge(_) => (StatusCode::UNPROCESSABLE_ENTITY, 42209),
            InvalidRuleSet(_) => (StatusCode::UNPROCESSABLE_ENTITY, 42210),
            Store(_) => (StatusCode::INTERNAL_SERVER_ERROR, 50001),
            BadRequest(_) => (StatusCode::BAD_REQUEST, 400),
            PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, 413),
            Unauthorized(_) => (StatusCode::UNAUTHORIZED, 401),
            Forbidden(_) => (StatusCode::FORBIDDEN, 403),
            NotFound => (StatusCode::NOT_FOUND, 404),
            MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, 405),
            NotAcceptable => (StatusCode::NOT_ACCEPTABLE, 406),
            UnsupportedMediaType(_) => (StatusCode::UNSUPPORTED_MEDIA_TYPE, 415),
        }
    }
}

impl From<StorageError> for Error {
    fn from(err: StorageError) -> Self {
        Error::from(ServiceError::Store(err))
    }
}

impl From<ServiceError> for Error {
    fn from(err: ServiceError) -> Self {
        match err {
            ServiceError::Store(err) => {
                tracing::error!(error = %err, "store error");
                Error::Store(err.to_string())
            }
            ServiceError::Contended { .. } => {
                tracing::warn!(error = %err, "registration contended");
                Error::Store(err.to_string())
            }
            ServiceError::InvalidSubject(subject) => Error::InvalidSubject(subject),
            ServiceError::SubjectNotFound(subject) => Error::SubjectNotFound(subject),
            ServiceError::VersionNotFound(version) => Error::VersionNotFound(version),
            ServiceError::SchemaNotFound(what) => Error::SchemaNotFound(what),
            ServiceError::SubjectSoftDeleted(subject) => Error::SubjectSoftDeleted(subject),
            ServiceError::SubjectNotSoftDeleted(subject) => Error::SubjectNotSoftDeleted(subject),
            ServiceError::VersionSoftDeleted(subject, version) => {
                Error::VersionSoftDeleted(subject, version)
            }
            ServiceError::VersionNotSoftDeleted(subject, version) => {
                Error::VersionNotSoftDeleted(subject, version)
            }
            ServiceError::ReferenceExists {
                subject,
                version,
                by,
            } => Error::ReferenceExists(format!(
                "One or more references exist to the schema {{subject={subject},version={version}}}: referenced by schema id {by}"
            )),
            ServiceError::InvalidVersion(version) => Error::InvalidVersion(version),
            ServiceError::InvalidSchema(reason) => Error::InvalidSchema(reason),
            ServiceError::EmptySchema => Error::EmptySchema,
            ServiceError::SchemaTooLarge(reason) => Error::SchemaTooLarge(reason),
            ServiceError::InvalidRuleSet(reason) => Error::InvalidRuleSet(reason),
            ServiceError::InvalidMode(mode) => Error::InvalidMode(mode),
            ServiceError::NotPermitted(reason) => Error::OperationNotPermitted(reason),
            ServiceError::Incompatible { subject, messages } => {
                Error::Incompatible { subject, messages }
            }
            ServiceError::IdMismatch { given, reason } => {
                Error::IdDoesNotMatch(format!("Schema id {given} does not match: {reason}"))
            }
            ServiceError::VersionTaken { subject, version } => Error::InvalidVersion(format!(
                "{version} (already registered under subject {subject} with another schema)"
            )),
            ServiceError::NoVersionLeft { subject, last } => Error::InvalidVersion(format!(
                "{} (subject {subject} has used every version number up to {last})",
                i64::from(last) + 1
            )),
        }
    }
}

impl From<PayloadCheckError> for Error {
    fn from(err: PayloadCheckError) -> Self {
        match err {
            PayloadCheckError::Corrupt(reason) => Error::Store(reason),
            PayloadCheckError::Request(reason) => Error::BadRequest(reason),
            PayloadCheckError::Schema(reason) => Error::InvalidSchema(reason),
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let (status, code) = self.codes();
        let body = ErrorBody {
            error_code: code,
            message: self.to_string(),
        };
        let body = serde_json::to_string(&body).unwrap_or_default();
        let mut response = (status, body).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"herald\""),
            );
        }
        response
    }
}
