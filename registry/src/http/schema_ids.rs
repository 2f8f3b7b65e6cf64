//! `/schemas`: what is addressed by a schema's global id (`/schemas/ids/{id}`, its text,
//! subjects and versions), every subject version's schema (`/schemas`), and the supported
//! schema types (`/schemas/types`).

use std::borrow::Cow;

use axum::extract::State;
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::schema::SchemaType;

use super::answers::{SubjectVersion, VersionAnswer};
use super::body::{Params, Segments, json_bytes, reply};
use super::errors::SchemaNotFound;
use super::queries::{Deleted, Format, Paging};
use super::segments::IdPath;
use crate::server::{AppState, Error, ErrorBody};
use crate::service::{CachedSchema, SchemaAnswer};

/// Routes under `/schemas`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(types))
        .routes(routes!(by_id))
        .routes(routes!(text_by_id))
        .routes(routes!(subjects_by_id))
        .routes(routes!(versions_by_id))
}

/// Parses an id path segment as Confluent's `Integer` parameter: anything that is not a
/// 32-bit integer is the framework's plain 404, a number with no schema is 40403.
fn parse_id(id: &str) -> Result<i64, Error> {
    let id = id.parse::<i32>().map_err(|_| Error::NotFound)?;
    if id <= 0 {
        return Err(Error::SchemaNotFound(id.to_string()));
    }
    Ok(i64::from(id))
}

/// Confluent's `schema.search.max.limit` (and default limit).
pub(crate) const SCHEMA_LIMIT: usize = 1000;

/// `GET /schemas`: every version of the subjects under `subjectPrefix`, ordered by subject
/// then version (`deleted`: soft-deleted ones too; `latestOnly`: the latest visible one of
/// each subject; `ruleType`: only those with a rule of that type), then `offset` and `limit`
/// (<= 0 or over 1000: 1000).
#[utoipa::path(
    get,
    path = "/schemas",
    tag = "schemas",
    params(
        ("subjectPrefix" = Option<String>, Query, description = "Only subjects starting with this"),
        Deleted,
        ("latestOnly" = Option<bool>, Query, description = "Only the latest version of each subject"),
        ("ruleType" = Option<String>, Query, description = "Only schemas with a rule of this type"),
        Paging,
    ),
    responses(
        (status = 200, description = "Subject versions with their schemas", body = Vec<VersionAnswer>),
        (status = 404, description = "offset or limit is not a 32-bit integer", body = ErrorBody),
    ),
)]
async fn list(State(state): State<AppState>, params: Params) -> Result<Response, Error> {
    let prefix = params.get("subjectPrefix").unwrap_or("");
    let deleted = params.flag("deleted");
    let latest_only = params.flag("latestOnly");
    let rule_type = params.get("ruleType").filter(|t| !t.is_empty());
    let page = params.page(SCHEMA_LIMIT)?;
    let mut subjects: Vec<String> = state
        .store()
        .subjects()
        .await?
        .into_iter()
        .map(|(name, _)| name)
        .filter(|name| name.starts_with(prefix))
        .collect();
    subjects.sort();
    let mut found = Vec::new();
    'subjects: for subject in &subjects {
        let mut rows = state.store().versions(subject).await?;
        rows.retain(|r| deleted || !r.deleted);
        if latest_only {
            let latest = rows.pop();
            rows = latest.into_iter().collect();
        }
        for row in rows {
            let schema = state.registry().schema_by_id(row.schema_id).await?;
            let has_rule = |rule_type: &str| {
                schema.rule_set.as_ref().is_some_and(|rules| {
                    rules
                        .migration_rules
                        .iter()
                        .chain(&rules.domain_rules)
                        .chain(&rules.encoding_rules)
                        .any(|rule| rule.rule_type.as_deref() == Some(rule_type))
                })
            };
            if rule_type.is_some_and(|t| !has_rule(t)) {
                continue;
            }
            found.push(VersionAnswer::new(subject, &row, &schema, &schema.text));
            if found.len() >= page.end() {
                break 'subjects;
            }
        }
    }
    reply(&page.of(found))
}

/// Whether `format=resolved` asks for the schema with its references inlined (Confluent
/// honours it for AVRO; JSON Schema ignores every format, and so does an unknown one).
pub(crate) fn is_resolved(params: &Params) -> bool {
    params
        .get("format")
        .is_some_and(|format| format.trim().eq_ignore_ascii_case("resolved"))
}

/// Whether `format=serialized` asks for a PROTOBUF schema as a base64 `FileDescriptorProto`.
fn is_serialized(schema: &CachedSchema, params: &Params) -> bool {
    schema.schema_type == SchemaType::Protobuf
        && params
            .get("format")
            .is_some_and(|format| format.trim().eq_ignore_ascii_case("serialized"))
}

/// The text `format` asks for: the resolved form of an AVRO schema for `resolved`, the
/// base64 `FileDescriptorProto` of a PROTOBUF schema for `serialized`, else the stored one
/// (Confluent's providers ignore other formats, and JSON Schema every format).
pub(crate) fn formatted<'a>(schema: &'a CachedSchema, params: &Params) -> Cow<'a, str> {
    if schema.schema_type == SchemaType::Avro && is_resolved(params) {
        Cow::Borrowed(&schema.resolved)
    } else if is_serialized(schema, params) {
        Cow::Owned(schema.schema.protobuf_serialized().unwrap_or_default())
    } else {
        Cow::Borrowed(&schema.text)
    }
}

#[utoipa::path(
    get,
    path = "/schemas/types",
    tag = "schemas",
    responses((status = 200, description = "The supported schema types", body = Vec<String>)),
)]
async fn types() -> Result<Response, Error> {
    // Confluent's order.
    reply(&[
        SchemaType::Json.as_str(),
        SchemaType::Protobuf.as_str(),
        SchemaType::Avro.as_str(),
    ])
}

#[utoipa::path(
    get,
    path = "/schemas/ids/{id}",
    tag = "schemas",
    params(
        IdPath,
        ("subject" = Option<String>, Query, description = "Ignored: one context"),
        Format,
    ),
    responses(
        (status = 200, description = "The schema", body = SchemaAnswer),
        SchemaNotFound,
    ),
)]
async fn by_id(
    State(state): State<AppState>,
    Segments(IdPath { id }): Segments<IdPath>,
    params: Params,
) -> Result<Response, Error> {
    let id = parse_id(&id)?;
    // Confluent uses `subject` only to pick a schema context; with the one default context
    // the id alone decides, so clients that pass the topic's subject for a schema
    // registered under another one still get it.
    let schema = state.registry().schema_by_id(id).await?;
    // `format=resolved` inlines an AVRO schema's references (keeping the list, as
    // Confluent does); JSON Schema ignores every format.
    if schema.schema_type == SchemaType::Avro
        && is_resolved(&params)
        && !schema.references.is_empty()
    {
        return reply(&SchemaAnswer::of(&schema, &schema.resolved));
    }
    if is_serialized(&schema, &params) {
        return reply(&SchemaAnswer::of(&schema, &formatted(&schema, &params)));
    }
    Ok(json_bytes(schema.body.clone()))
}

#[utoipa::path(
    get,
    path = "/schemas/ids/{id}/schema",
    tag = "schemas",
    params(
        IdPath,
        Format,
    ),
    responses(
        (status = 200, description = "The schema text itself", body = Value),
        SchemaNotFound,
    ),
)]
async fn text_by_id(
    State(state): State<AppState>,
    Segments(IdPath { id }): Segments<IdPath>,
    params: Params,
) -> Result<Response, Error> {
    let schema = state.registry().schema_by_id(parse_id(&id)?).await?;
    Ok(json_bytes(formatted(&schema, &params).into_owned().into()))
}

#[utoipa::path(
    get,
    path = "/schemas/ids/{id}/subjects",
    tag = "schemas",
    params(
        IdPath,
        Deleted,
        Paging,
    ),
    responses(
        (status = 200, description = "The subjects using the schema", body = Vec<String>),
        SchemaNotFound,
    ),
)]
async fn subjects_by_id(
    State(state): State<AppState>,
    Segments(IdPath { id }): Segments<IdPath>,
    params: Params,
) -> Result<Response, Error> {
    let id = parse_id(&id)?;
    let deleted = params.flag("deleted");
    let usages = state.store().usages(id).await?;
    if usages.is_empty() {
        return Err(Error::SchemaNotFound(id.to_string()));
    }
    let mut subjects: Vec<&str> = usages
        .iter()
        .filter(|u| deleted || !u.deleted)
        .map(|u| u.subject.as_str())
        .collect();
    subjects.dedup();
    reply(&params.page(usize::MAX)?.of(subjects))
}

#[utoipa::path(
    get,
    path = "/schemas/ids/{id}/versions",
    tag = "schemas",
    params(
        IdPath,
        Deleted,
        Paging,
    ),
    responses(
        (status = 200, description = "The subject versions using the schema", body = Vec<SubjectVersion>),
        SchemaNotFound,
    ),
)]
async fn versions_by_id(
    State(state): State<AppState>,
    Segments(IdPath { id }): Segments<IdPath>,
    params: Params,
) -> Result<Response, Error> {
    let id = parse_id(&id)?;
    let deleted = params.flag("deleted");
    let usages = state.store().usages(id).await?;
    if usages.is_empty() {
        return Err(Error::SchemaNotFound(id.to_string()));
    }
    let versions = usages
        .iter()
        .filter(|u| deleted || !u.deleted)
        .map(|u| SubjectVersion {
            subject: u.subject.clone(),
            version: u.version,
        });
    reply(&params.page(usize::MAX)?.of(versions))
}
