//! The query parameters several operations share, described once for the OpenAPI document
//! (the handlers read the query string leniently, with [`super::body::Params`]).
#![allow(
    dead_code,
    reason = "described only: the handlers read the query string with `Params`"
)]

use utoipa::IntoParams;

/// `offset` and `limit`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Paging {
    /// How many to skip
    offset: Option<i32>,
    /// How many at most
    limit: Option<i32>,
}

/// `deleted`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Deleted {
    /// Include soft-deleted versions
    deleted: Option<bool>,
}

/// `format`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Format {
    /// `resolved`: AVRO references inlined; `serialized`: PROTOBUF as a base64 FileDescriptorProto
    format: Option<String>,
}

/// `normalize`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Normalize {
    /// Normalize the schema first
    normalize: Option<bool>,
}
