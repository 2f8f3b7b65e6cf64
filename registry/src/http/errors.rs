//! The error answers several operations share, described once for the OpenAPI document
//! (the handlers answer them as [`crate::server::Error`], whose body is [`ErrorBody`]).
#![allow(
    dead_code,
    reason = "described only: the handlers answer errors as `Error`"
)]

use utoipa::IntoResponses;

use crate::server::ErrorBody;

/// What the operations on a subject's versions can fail with.
#[derive(IntoResponses)]
pub enum VersionErrors {
    #[response(
        status = 404,
        description = "No such subject (40401) or version (40402), soft-deleted (40404, 40406), or offset or limit not a 32-bit integer"
    )]
    NotFound(ErrorBody),
    #[response(
        status = 422,
        description = "Invalid subject (42208), version (42202) or schema (42201), or not permitted (42205)"
    )]
    Invalid(ErrorBody),
}

/// A subject or version that does not exist.
#[derive(IntoResponses)]
#[response(
    status = 404,
    description = "No such subject (40401) or version (40402)"
)]
pub struct VersionNotFound(ErrorBody);

/// A schema id with no schema.
#[derive(IntoResponses)]
#[response(
    status = 404,
    description = "No such schema (40403), or an id that is not a 32-bit integer"
)]
pub struct SchemaNotFound(ErrorBody);

/// A subject with no mode of its own.
#[derive(IntoResponses)]
#[response(status = 404, description = "No subject-level mode (40409)")]
pub struct NoSubjectMode(ErrorBody);

/// What a mode operation can be refused for.
#[derive(IntoResponses)]
#[response(
    status = 422,
    description = "Invalid subject (42208) or mode (42204), or IMPORT over existing subjects (42205)"
)]
pub struct InvalidMode(ErrorBody);

/// A subject with no config of its own.
#[derive(IntoResponses)]
#[response(status = 404, description = "No subject-level config (40408)")]
pub struct NoSubjectConfig(ErrorBody);

/// A subject name that is not valid.
#[derive(IntoResponses)]
#[response(status = 422, description = "Invalid subject (42208)")]
pub struct InvalidSubject(ErrorBody);
