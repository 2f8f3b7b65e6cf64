use thiserror::Error;

/// Why a schema could not be accepted.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum SchemaError {
    /// The schema type is not `AVRO`, `JSON` or `PROTOBUF`.
    #[error("unknown schema type `{0}` (expected AVRO, JSON or PROTOBUF)")]
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
    /// The text is not a valid Protobuf schema (or one of its imports is not).
    #[error("invalid Protobuf schema in {file}{}: {message}", position(*line, *column))]
    Protobuf {
        /// The file at fault: `default` for the schema itself, else an import path.
        file: String,
        /// 1-based line, when the error has a position.
        line: Option<usize>,
        /// 1-based column, when the error has a position.
        column: Option<usize>,
        /// What protox said.
        message: String,
    },
}

/// ` at line L, column C` when known.
fn position(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(line), Some(column)) => format!(" at line {line}, column {column}"),
        (Some(line), None) => format!(" at line {line}"),
        _ => String::new(),
    }
}
