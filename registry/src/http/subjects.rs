//! `/subjects`: registering, listing, looking up and deleting subject versions.

use axum::extract::{Query, State};
use axum::response::Response;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::service::{CachedSchema, Options, SchemaRequest, parse_version, version_not_found};
use crate::storage::{DeleteTarget, VersionRow};

use super::answers::{RegisterAnswer, VersionAnswer};
use super::body::{Body, Params, Segments, json_bytes, reply};
use super::errors::VersionErrors;
use super::queries::{Deleted, Format, Normalize, Paging};
use super::schema_ids::{SCHEMA_LIMIT, formatted};
use super::segments::{SubjectPath, VersionPath};
use crate::server::{AppState, Error, ErrorBody, Principal};

pub(crate) use crate::service::check_subject;

/// Routes under `/subjects`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(lookup, delete_subject))
        .routes(routes!(versions, register))
        .routes(routes!(latest_with_metadata))
        .routes(routes!(version, delete_version))
        .routes(routes!(version_text))
        .routes(routes!(referenced_by))
}

/// Resolves a version segment of a subject to its row, with Confluent's errors.
pub(crate) async fn find_version(
    state: &AppState,
    subject: &str,
    version: &str,
    deleted: bool,
) -> Result<VersionRow, Error> {
    let version = parse_version(version)?;
    Ok(state.registry().version(subject, version, deleted).await?)
}

/// [`VersionAnswer`] with the text `format` asks for, as the answer.
fn version_body(
    subject: &str,
    row: VersionRow,
    schema: &CachedSchema,
    params: &Params,
) -> Result<Response, Error> {
    reply(&VersionAnswer::new(
        subject,
        &row,
        schema,
        &formatted(schema, params),
    ))
}

/// `GET /subjects`: subjects under `subjectPrefix`, live ones (`deleted`: soft-deleted ones
/// too; `deletedOnly`: only those), paged by `offset` and `limit`.
#[utoipa::path(
    get,
    path = "/subjects",
    tag = "subjects",
    params(
        Deleted,
        ("deletedOnly" = Option<bool>, Query, description = "Only soft-deleted subjects"),
        ("subjectPrefix" = Option<String>, Query, description = "Only subjects starting with this"),
        Paging,
    ),
    responses(
        (status = 200, description = "Subject names", body = Vec<String>),
        VersionErrors,
    ),
)]
async fn list(State(state): State<AppState>, params: Params) -> Result<Response, Error> {
    let deleted = params.flag("deleted");
    let deleted_only = params.flag("deletedOnly");
    let prefix = params.get("subjectPrefix").unwrap_or("");
    let page = params.page(usize::MAX)?;
    let subjects = state
        .store()
        .subjects()
        .await?
        .into_iter()
        .filter(|(name, live)| {
            let shown = if deleted_only {
                !*live
            } else {
                deleted || *live
            };
            shown && name.starts_with(prefix)
        })
        .map(|(name, _)| name);
    reply(&page.of(subjects))
}

#[utoipa::path(
    get,
    path = "/subjects/{subject}/versions",
    tag = "subjects",
    params(
        SubjectPath,
        Deleted,
        ("deletedOnly" = Option<bool>, Query, description = "Only soft-deleted versions"),
        ("deletedAsNegative" = Option<bool>, Query, description = "Every version, soft-deleted ones negated"),
        Paging,
    ),
    responses(
        (status = 200, description = "Version numbers", body = Vec<i32>),
        VersionErrors,
    ),
)]
async fn versions(
    State(state): State<AppState>,
    Segments(SubjectPath { subject }): Segments<SubjectPath>,
    params: Params,
) -> Result<Response, Error> {
    // Confluent's filters: `deletedAsNegative` (every version, soft-deleted ones negated),
    // else `deletedOnly`, else `deleted`.
    let as_negative = params.flag("deletedAsNegative");
    let deleted_only = params.flag("deletedOnly");
    let deleted = params.flag("deleted");
    let page = params.page(usize::MAX)?;
    let rows = state
        .registry()
        .versions(&subject, deleted || deleted_only || as_negative)
        .await?;
    let versions = rows.iter().filter_map(|r| {
        if as_negative {
            Some(if r.deleted { -r.version } else { r.version })
        } else if deleted_only {
            r.deleted.then_some(r.version)
        } else {
            (deleted || !r.deleted).then_some(r.version)
        }
    });
    reply(&page.of(versions))
}

#[utoipa::path(
    get,
    path = "/subjects/{subject}/versions/{version}",
    tag = "subjects",
    params(
        VersionPath,
        Deleted,
        Format,
    ),
    responses(
        (status = 200, description = "The version with its schema", body = VersionAnswer),
        VersionErrors,
    ),
)]
async fn version(
    State(state): State<AppState>,
    Segments(VersionPath { subject, version }): Segments<VersionPath>,
    params: Params,
) -> Result<Response, Error> {
    let row = find_version(&state, &subject, &version, params.flag("deleted")).await?;
    let schema = state.registry().schema_by_id(row.schema_id).await?;
    version_body(&subject, row, &schema, &params)
}

#[utoipa::path(
    get,
    path = "/subjects/{subject}/versions/{version}/schema",
    tag = "subjects",
    params(
        VersionPath,
        Deleted,
        Format,
    ),
    responses(
        (status = 200, description = "The schema text itself", body = Value),
        VersionErrors,
    ),
)]
async fn version_text(
    State(state): State<AppState>,
    Segments(VersionPath { subject, version }): Segments<VersionPath>,
    params: Params,
) -> Result<Response, Error> {
    let row = find_version(&state, &subject, &version, params.flag("deleted")).await?;
    let schema = state.registry().schema_by_id(row.schema_id).await?;
    Ok(json_bytes(formatted(&schema, &params).into_owned().into()))
}

#[utoipa::path(
    get,
    path = "/subjects/{subject}/versions/{version}/referencedby",
    tag = "subjects",
    params(
        VersionPath,
        Paging,
    ),
    responses(
        (status = 200, description = "Ids of the schemas referencing this version", body = Vec<i64>),
        VersionErrors,
    ),
)]
async fn referenced_by(
    State(state): State<AppState>,
    Segments(VersionPath { subject, version }): Segments<VersionPath>,
    params: Params,
) -> Result<Response, Error> {
    let page = params.page(SCHEMA_LIMIT)?;
    let row = find_version(&state, &subject, &version, false).await?;
    let ids = state.store().referenced_by(&subject, row.version).await?;
    reply(&page.of(ids))
}

fn options(params: &Params) -> Options {
    Options {
        normalize: params.flag("normalize"),
        deleted: params.flag("deleted"),
        force: params.flag("force"),
    }
}

#[utoipa::path(
    post,
    path = "/subjects/{subject}/versions",
    tag = "subjects",
    params(
        SubjectPath,
        Normalize,
        ("force" = Option<bool>, Query, description = "Skip the compatibility check"),
    ),
    request_body = SchemaRequest,
    responses(
        (status = 200, description = "The id, and the version and data contract when there is one", body = RegisterAnswer),
        VersionErrors,
        (status = 409, description = "Incompatible with an earlier version (40901)", body = ErrorBody),
    ),
)]
async fn register(
    State(state): State<AppState>,
    principal: Principal,
    Segments(SubjectPath { subject }): Segments<SubjectPath>,
    params: Params,
    Body(request): Body<SchemaRequest>,
) -> Result<Response, Error> {
    let (registered, schema) = state
        .registry()
        .register(&subject, &request, options(&params), &principal.name)
        .await?;
    // Confluent answers with the version and the data contract when there is one.
    let contract = schema.metadata.is_some() || schema.rule_set.is_some();
    reply(&RegisterAnswer {
        id: registered.id,
        version: contract.then_some(registered.version),
        metadata: schema.metadata.clone(),
        rule_set: schema.rule_set.clone(),
    })
}

/// `GET /subjects/{subject}/metadata?key=K&value=V...`: the latest version whose metadata
/// properties hold every pair (keys and values paired in order).
#[utoipa::path(
    get,
    path = "/subjects/{subject}/metadata",
    tag = "subjects",
    params(
        SubjectPath,
        ("key" = Option<Vec<String>>, Query, description = "Metadata property names"),
        ("value" = Option<Vec<String>>, Query, description = "Their values, paired in order"),
        Deleted,
        Format,
    ),
    responses(
        (status = 200, description = "The latest version with those properties", body = VersionAnswer),
        VersionErrors,
    ),
)]
async fn latest_with_metadata(
    State(state): State<AppState>,
    Segments(SubjectPath { subject }): Segments<SubjectPath>,
    Query(pairs): Query<Vec<(String, String)>>,
    params: Params,
) -> Result<Response, Error> {
    let keys = pairs.iter().filter(|(name, _)| name == "key");
    let values = pairs.iter().filter(|(name, _)| name == "value");
    let properties: Vec<(String, String)> = keys
        .zip(values)
        .map(|((_, key), (_, value))| (key.clone(), value.clone()))
        .collect();
    let deleted = pairs
        .iter()
        .any(|(name, value)| name == "deleted" && value.eq_ignore_ascii_case("true"));
    let (row, schema) = state
        .registry()
        .latest_with_metadata(&subject, &properties, deleted)
        .await?;
    version_body(&subject, row, &schema, &params)
}

#[utoipa::path(
    post,
    path = "/subjects/{subject}",
    tag = "subjects",
    params(
        SubjectPath,
        Normalize,
        Deleted,
        Format,
    ),
    request_body = SchemaRequest,
    responses(
        (status = 200, description = "The version holding the schema", body = VersionAnswer),
        VersionErrors,
    ),
)]
async fn lookup(
    State(state): State<AppState>,
    Segments(SubjectPath { subject }): Segments<SubjectPath>,
    params: Params,
    Body(request): Body<SchemaRequest>,
) -> Result<Response, Error> {
    let (row, schema) = state
        .registry()
        .lookup(&subject, &request, options(&params))
        .await?;
    version_body(&subject, row, &schema, &params)
}

#[utoipa::path(
    delete,
    path = "/subjects/{subject}",
    tag = "subjects",
    params(
        SubjectPath,
        ("permanent" = Option<bool>, Query, description = "Delete for good (after a soft delete)"),
    ),
    responses(
        (status = 200, description = "The versions deleted", body = Vec<i32>),
        VersionErrors,
    ),
)]
async fn delete_subject(
    State(state): State<AppState>,
    principal: Principal,
    Segments(SubjectPath { subject }): Segments<SubjectPath>,
    params: Params,
) -> Result<Response, Error> {
    let permanent = params.flag("permanent");
    let deleted = state
        .registry()
        .delete(&subject, DeleteTarget::Subject, permanent, &principal.name)
        .await?;
    reply(&deleted)
}

#[utoipa::path(
    delete,
    path = "/subjects/{subject}/versions/{version}",
    tag = "subjects",
    params(
        VersionPath,
        ("permanent" = Option<bool>, Query, description = "Delete for good (after a soft delete)"),
    ),
    responses(
        (status = 200, description = "The version deleted", body = i32, content_type = "application/json"),
        VersionErrors,
    ),
)]
async fn delete_version(
    State(state): State<AppState>,
    principal: Principal,
    Segments(VersionPath { subject, version }): Segments<VersionPath>,
    params: Params,
) -> Result<Response, Error> {
    check_subject(&subject)?;
    let version = parse_version(&version)?;
    let target = DeleteTarget::Version(version);
    let permanent = params.flag("permanent");
    let deleted = state
        .registry()
        .delete(&subject, target, permanent, &principal.name)
        .await?;
    match deleted.first() {
        Some(version) => reply(&Value::from(*version)),
        None => Err(version_not_found(version).into()),
    }
}
