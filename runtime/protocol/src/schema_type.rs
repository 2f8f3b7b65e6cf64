use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The kinds of schema Herald understands (`schemaType` in Confluent's REST API, where an
/// absent type means Avro).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum SchemaType {
    /// An Apache Avro schema.
    Avro,
    /// A JSON Schema document (drafts 4, 6, 7, 2019-09 and 2020-12).
    Json,
    /// A Protocol Buffers file (proto2 or proto3), as `.proto` text or a base64
    /// `FileDescriptorProto`.
    Protobuf,
}

impl SchemaType {
    /// The name Confluent Schema Registry uses for this type (`AVRO`, `JSON`, `PROTOBUF`).
    pub fn as_str(self) -> &'static str {
        match self {
            SchemaType::Avro => "AVRO",
            SchemaType::Json => "JSON",
            SchemaType::Protobuf => "PROTOBUF",
        }
    }
}

impl fmt::Display for SchemaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error for a string that names no schema type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown schema type `{0}` (expected AVRO, JSON or PROTOBUF)")]
pub struct UnknownSchemaType(pub String);

impl FromStr for SchemaType {
    type Err = UnknownSchemaType;

    /// Parses a Confluent name, in any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_uppercase().as_str() {
            "AVRO" => Ok(SchemaType::Avro),
            "JSON" => Ok(SchemaType::Json),
            "PROTOBUF" => Ok(SchemaType::Protobuf),
            _ => Err(UnknownSchemaType(s.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_in_any_case() {
        for schema_type in [SchemaType::Avro, SchemaType::Json, SchemaType::Protobuf] {
            assert_eq!(schema_type.as_str().parse(), Ok(schema_type));
            assert_eq!(schema_type.as_str().to_lowercase().parse(), Ok(schema_type));
        }
        assert_eq!(
            "XML".parse::<SchemaType>(),
            Err(UnknownSchemaType("XML".to_owned()))
        );
    }
}
