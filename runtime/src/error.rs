//! The errors of encoding, decoding, upcasting and schema export.

/// The error a fallible upcaster (`TryFrom`, or a JSON-level upcaster) returns.
pub type UpcastError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why a stored event could not be read back as the current version.
///
/// Every variant names the event type and the version of the stored payload, so a failure
/// in a log or a test points at the record that caused it.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The version is not in the upcast chain: it is 0 or newer than the code.
    #[error("event `{name}` has no version {version}: this code reads versions 1 to {current}")]
    UnknownVersion {
        /// The event's name.
        name: &'static str,
        /// The stored version.
        version: u32,
        /// The current version.
        current: u32,
    },
    /// The event type is not one of the event types of that version.
    #[error(
        "`{event_type}` is not an event type of `{name}` version {version} (expected one of: {expected})"
    )]
    UnknownEventType {
        /// The event's name.
        name: &'static str,
        /// The stored event type.
        event_type: String,
        /// The stored version.
        version: u32,
        /// The event types of that version, comma separated.
        expected: String,
    },
    /// The payload does not decode with the codec into that version's type.
    #[error("cannot decode the {codec} payload of `{event_type}` version {version}: {source}")]
    Payload {
        /// The codec's name (`json`, `avro`).
        codec: &'static str,
        /// The stored event type.
        event_type: String,
        /// The stored version.
        version: u32,
        /// The codec's error.
        #[source]
        source: UpcastError,
    },
    /// An upcaster (`TryFrom` impl or JSON-level upcaster) refused the event.
    #[error("upcasting `{event_type}` from version {from} to version {to} failed: {source}")]
    Upcast {
        /// The event type as it was before this step.
        event_type: String,
        /// The version the step reads.
        from: u32,
        /// The version the step produces.
        to: u32,
        /// The upcaster's error.
        #[source]
        source: UpcastError,
    },
    /// The step needs the payload as JSON (a JSON-level upcaster) but the codec cannot
    /// provide it.
    #[error(
        "`{event_type}` version {version} is read by a JSON-level upcaster, which needs a JSON payload; the {codec} codec cannot provide one"
    )]
    NeedsJson {
        /// The codec's name.
        codec: &'static str,
        /// The stored event type.
        event_type: String,
        /// The stored version.
        version: u32,
    },
    /// The schema needed to read the payload could not be built.
    #[error(transparent)]
    Schema(#[from] SchemaError),
}

/// Why an event could not be encoded.
#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    /// The codec rejected the value.
    #[error("cannot encode `{event_type}` version {version} as {codec}: {source}")]
    Payload {
        /// The codec's name.
        codec: &'static str,
        /// The event type of the value.
        event_type: &'static str,
        /// The current version.
        version: u32,
        /// The codec's error.
        #[source]
        source: UpcastError,
    },
    /// The schema needed to encode the value could not be built.
    #[error(transparent)]
    Schema(#[from] SchemaError),
}

/// Why an event version's schema could not be exported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    /// A part of the JSON Schema has no Avro counterpart in Herald's mapping.
    #[error(
        "event `{name}` version {version}: the JSON Schema at `{pointer}` has no Avro mapping: {message}"
    )]
    NoAvroMapping {
        /// The event's name.
        name: &'static str,
        /// The version.
        version: u32,
        /// JSON pointer into the version's JSON Schema.
        pointer: String,
        /// What is not supported and what to use instead.
        message: String,
    },
    /// The schema generated from the Rust type does not have the expected shape (for example
    /// a `#[serde(...)]` attribute changed how the enum is represented).
    #[error("event `{name}` version {version}: unexpected JSON Schema: {message}")]
    UnexpectedShape {
        /// The event's name.
        name: &'static str,
        /// The version.
        version: u32,
        /// What was expected.
        message: String,
    },
    /// `apache-avro` rejected the Avro schema the mapping produced.
    #[error("event `{name}` version {version}: the generated Avro schema is invalid: {message}")]
    InvalidAvro {
        /// The event's name.
        name: &'static str,
        /// The version.
        version: u32,
        /// The parser's message.
        message: String,
    },
}
