use thiserror::Error;

/// Why a schema could not be accepted.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum SchemaError {
    /// The schema type is neither `AVRO` nor `JSON`.
    #[error("unknown schema type `{0}` (expected AVRO or JSON)")]
    UnknownType(String),
    /// The text is larger than the configured limit.
    #[error("schema is {size} bytes, over the limit of {limit} bytes")]
    TooLarge {
        /// Size of the input in bytes.
        size: usize,
        /// The configured limit.
        limit: usize,
    },
    /// Arrays and objects are nested deeper than the configured limit.
    #[error("schema is nested more than {limit} levels deep (at byte {offset})")]
    TooDeep {
        /// The configured limit.
        limit: usize,
        /// Byte offset where the limit was crossed.
        offset: usize,
    },
    /// The text is not JSON.
    #[error("malformed JSON at line {line}, column {column}: {message}")]
    Json {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What the JSON parser said.
        message: String,
    },
    /// The document is JSON but not a valid Avro schema.
    #[error("invalid Avro schema at {path}: {message}")]
    Avro {
        /// Where in the schema, as a path like `/fields/2/type`.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The document is JSON but not a valid JSON Schema for its draft.
    #[error("invalid JSON Schema at {pointer}: {message}")]
    JsonSchema {
        /// JSON pointer (`#/properties/id`) to the offending keyword.
        pointer: String,
        /// What is wrong.
        message: String,
    },
}
