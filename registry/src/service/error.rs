//! Why a registry operation failed, in the registry's terms; `server/error.rs` maps each
//! variant to Confluent's status and error code.

use crate::schema::SchemaError;
use crate::storage::StorageError;

/// A registry operation's failure.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The storage failed, or a row it returned is corrupt.
    #[error(transparent)]
    Store(#[from] StorageError),
    /// The subject name is empty, too long or has control characters.
    #[error("invalid subject `{0}`")]
    InvalidSubject(String),
    /// The subject has no version visible to the request.
    #[error("subject `{0}` not found")]
    SubjectNotFound(String),
    /// The version does not exist under the subject (`latest` when none was named).
    #[error("version {0} not found")]
    VersionNotFound(String),
    /// No schema with this id, or none equal to the request's under the subject.
    #[error("schema {0} not found")]
    SchemaNotFound(String),
    /// Every version of the subject is soft-deleted already.
    #[error("subject `{0}` was soft deleted")]
    SubjectSoftDeleted(String),
    /// A permanent delete of a subject that still has live versions.
    #[error("subject `{0}` was not soft deleted first")]
    SubjectNotSoftDeleted(String),
    /// The version is soft-deleted already (-1: the latest).
    #[error("version {1} of subject `{0}` was soft deleted")]
    VersionSoftDeleted(String, i32),
    /// A permanent delete of a version that is still live (-1: the latest).
    #[error("version {1} of subject `{0}` was not soft deleted first")]
    VersionNotSoftDeleted(String, i32),
    /// Another schema references a version that was to be deleted.
    #[error("version {version} of subject `{subject}` is referenced by schema {by}")]
    ReferenceExists {
        /// The subject.
        subject: String,
        /// The referenced version.
        version: i32,
        /// An id of a schema that references it.
        by: i64,
    },
    /// A version number outside [1, 2^31-1] in a request.
    #[error("invalid version `{0}`")]
    InvalidVersion(String),
    /// The request's schema does not parse or its references do not resolve.
    #[error("invalid schema: {0}")]
    InvalidSchema(String),
    /// The request has no schema text and the subject no live version to take it from.
    #[error("empty schema")]
    EmptySchema,
    /// A rule set breaks Confluent's rules (names, types, modes, actions).
    #[error("invalid rule set: {0}")]
    InvalidRuleSet(String),
    /// The schema text is over the configured limit.
    #[error("schema too large: {0}")]
    SchemaTooLarge(String),
    /// A stored mode that is none of READWRITE, READONLY, IMPORT.
    #[error("invalid mode `{0}`")]
    InvalidMode(String),
    /// The subject's mode forbids the operation.
    #[error("{0}")]
    NotPermitted(String),
    /// The schema is incompatible with the subject's versions at the effective level.
    #[error("schema is incompatible with subject `{subject}`: {}", .messages.join(", "))]
    Incompatible {
        /// The subject.
        subject: String,
        /// The compatibility engine's messages.
        messages: Vec<String>,
    },
    /// An IMPORT gave an id that holds another schema, or the schema has another id.
    #[error("schema id {given} does not match: {reason}")]
    IdMismatch {
        /// The id given.
        given: i64,
        /// What it conflicts with.
        reason: String,
    },
    /// An IMPORT gave a version that holds another schema.
    #[error("version {version} of subject `{subject}` holds another schema")]
    VersionTaken {
        /// The subject.
        subject: String,
        /// The version given.
        version: i32,
    },
    /// The subject's versions kept changing under a registration until it gave up.
    #[error("subject `{subject}` kept changing; registration gave up after {attempts} attempts")]
    Contended {
        /// The subject.
        subject: String,
        /// How many times it tried.
        attempts: usize,
    },
    /// The subject has used every version number.
    #[error("subject `{subject}` has no version number left after {last}")]
    NoVersionLeft {
        /// The subject.
        subject: String,
        /// Its highest version.
        last: i32,
    },
}

impl ServiceError {
    /// A store error of an operation on `subject`, with the subject named where it matters.
    pub(crate) fn registering(err: StorageError, subject: &str) -> Self {
        match err {
            StorageError::IdMismatch { given, reason } => {
                ServiceError::IdMismatch { given, reason }
            }
            StorageError::VersionTaken(version) => ServiceError::VersionTaken {
                subject: subject.to_owned(),
                version,
            },
            StorageError::NoVersionLeft(last) => ServiceError::NoVersionLeft {
                subject: subject.to_owned(),
                last,
            },
            other => ServiceError::Store(other),
        }
    }
}

impl From<SchemaError> for ServiceError {
    fn from(err: SchemaError) -> Self {
        match err {
            SchemaError::TooLarge { .. } => ServiceError::SchemaTooLarge(err.to_string()),
            other => ServiceError::InvalidSchema(other.to_string()),
        }
    }
}
