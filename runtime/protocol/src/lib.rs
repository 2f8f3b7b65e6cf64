//! What Herald's runtime (`herald`) and its registry and command-line tool
//! (`herald-registry`) agree on, in one place:
//!
//! - [`SchemaType`] and [`CompatibilityLevel`], with Confluent's names;
//! - the `herald.*` names and Herald's annotations in exported schemas ([`annotations`]);
//! - the snapshot folder the runtime writes and `herald check` / `herald push` read
//!   ([`snapshot`]: file names, `versions.json`'s [`snapshot::VersionEntry`], golden events);
//! - with feature `client`, a client of Confluent-API registries (`registry_client`, async,
//!   with a blocking adapter) and `push`: an event's versions registered with their majors.
//!
//! Without `client` it depends on serde, serde_json and thiserror only, so that the runtime's
//! light core stays light.

// Input-handling library code reports errors; it never unwraps or panics on them.
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod annotations;
mod level;
#[cfg(feature = "client")]
pub mod push;
#[cfg(feature = "client")]
pub mod registry_client;
mod schema_type;
pub mod snapshot;

pub use level::{CompatibilityLevel, UnknownLevel};

/// The media type of Confluent's REST API (`application/vnd.schemaregistry.v1+json`), which
/// the registry answers with and the client asks for.
pub const CONTENT_TYPE: &str = "application/vnd.schemaregistry.v1+json";
pub use schema_type::{SchemaType, UnknownSchemaType};
