//! Herald's schema registry.
//!
//! The [`schema`] module is the pure core: it parses and validates Avro, JSON Schema and
//! Protobuf documents, normalizes and fingerprints them, and decides compatibility between versions
//! with Confluent Schema Registry's semantics. It does no I/O and builds with
//! `default-features = false`.
//!
//! ```
//! use herald_registry::schema::{check, CompatibilityLevel, Schema, SchemaType};
//!
//! let v1 = Schema::parse(SchemaType::Avro, r#"{"type":"record","name":"Order","fields":[
//!     {"name":"id","type":"string"}]}"#)?;
//! let v2 = Schema::parse(SchemaType::Avro, r#"{"type":"record","name":"Order","fields":[
//!     {"name":"id","type":"string"},
//!     {"name":"currency","type":"string"}]}"#)?;
//!
//! let report = check(CompatibilityLevel::Backward, &v2, &[(1, &v1)]);
//! assert!(!report.is_compatible);
//! assert_eq!(report.violations[0].kind, "READER_FIELD_MISSING_DEFAULT_VALUE");
//! # Ok::<(), herald_registry::schema::SchemaError>(())
//! ```

// Input-handling library code reports errors; it never unwraps or panics on them.
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

#[cfg(feature = "codegen")]
pub mod codegen;
#[cfg(feature = "server")]
pub mod http;
pub mod schema;
#[cfg(feature = "server")]
pub mod server;
#[cfg(feature = "server")]
pub mod service;
#[cfg(feature = "server")]
pub mod storage;
#[cfg(feature = "server")]
mod ui;
