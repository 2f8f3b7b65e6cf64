//! The errors of the direct Avro codec.

use std::fmt::Display;

/// Why a value could not be written as, or read from, an Avro datum.
#[derive(Debug, thiserror::Error)]
pub enum AvroError {
    /// The value's `Serialize` or `Deserialize` impl failed.
    #[error("{0}")]
    Custom(String),
    /// The schema references a name it does not define.
    #[error("the schema references `{0}`, which it does not define")]
    UnknownName(String),
    /// The value does not fit the schema.
    #[error("a {value} cannot be written as Avro {schema}")]
    Mismatch {
        /// What the value is.
        value: &'static str,
        /// What the schema wants there.
        schema: &'static str,
    },
    /// A number does not fit the schema's type.
    #[error("{0} is out of range for an Avro int")]
    OutOfRange(i64),
    /// Bytes of the wrong length for a `fixed`.
    #[error("{found} bytes cannot be written as a fixed of size {size}")]
    FixedSize {
        /// The fixed's size.
        size: usize,
        /// The length given.
        found: usize,
    },
    /// A string that is not a symbol of the enum.
    #[error("`{0}` is not a symbol of the enum")]
    UnknownSymbol(String),
    /// The datum ended early.
    #[error("the datum ends early")]
    Eof,
    /// A variable-length integer longer than 10 bytes, or a negative length.
    #[error("invalid Avro length or integer")]
    Varint,
    /// A boolean byte other than 0 and 1.
    #[error("invalid Avro boolean {0}")]
    Boolean(u8),
    /// A string that is not UTF-8.
    #[error("an Avro string is not UTF-8")]
    Utf8,
    /// A union branch index the writer's union does not have.
    #[error("union branch {0} does not exist")]
    Branch(i64),
    /// An enum index the writer's enum does not have.
    #[error("enum symbol {0} does not exist")]
    Symbol(i64),
    /// The writer's data cannot be read with the reader's schema.
    #[error("cannot resolve the writer's schema against the reader's: {0}")]
    Resolution(String),
    /// Nesting deeper than the decoder follows.
    #[error("the datum nests deeper than {0} levels")]
    Depth(usize),
    /// Bytes after the datum.
    #[error("{0} bytes left after the datum")]
    Trailing(usize),
}

impl serde::ser::Error for AvroError {
    fn custom<T: Display>(msg: T) -> Self {
        AvroError::Custom(msg.to_string())
    }
}

impl serde::de::Error for AvroError {
    fn custom<T: Display>(msg: T) -> Self {
        AvroError::Custom(msg.to_string())
    }
}
