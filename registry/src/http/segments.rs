//! The path parameters of the API as the handlers read them (with [`super::body::Segments`]),
//! described once for the OpenAPI document.

use serde::Deserialize;
use utoipa::IntoParams;

/// `{subject}`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct SubjectPath {
    /// The subject
    #[param(example = "orders-value")]
    pub subject: String,
}

/// `{subject}` and `{version}`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct VersionPath {
    /// The subject
    #[param(example = "orders-value")]
    pub subject: String,
    /// A version in [1, 2^31-1], `latest` or `-1`
    #[param(example = "1")]
    pub version: String,
}

/// `{id}`: read as text, so that one that is not a 32-bit integer is Confluent's 404.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct IdPath {
    /// The schema's global id
    #[param(value_type = i32, example = 1)]
    pub id: String,
}
