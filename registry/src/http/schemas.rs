//! `/schemas`: schemas by global id, and the supported schema types.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use serde_json::json;

use crate::schema::SchemaType;

use super::AppState;
use super::body::{Params, json_bytes, reply};
use super::error::Error;
use crate::service::schema_body;

/// Routes under `/schemas`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/schemas/types", get(types))
        .route("/schemas/ids/{id}", get(by_id))
        .route("/schemas/ids/{id}/schema", get(text_by_id))
        .route("/schemas/ids/{id}/subjects", get(subjects_by_id))
        .route("/schemas/ids/{id}/versions", get(versions_by_id))
}

fn parse_id(id: &str) -> Result<i64, Error> {
    id.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| Error::SchemaNotFound(id.to_owned()))
}

async fn types() -> Result<Response, Error> {
    reply(&[SchemaType::Json.as_str(), SchemaType::Avro.as_str()])
}

async fn by_id(
    State(state): State<AppState>,
    Path(id): Path<String>,
    params: Params,
) -> Result<Response, Error> {
    let id = parse_id(&id)?;
    // Confluent uses `subject` only to pick a schema context; with the one default context
    // the id alone decides, so clients that pass the topic's subject for a schema
    // registered under another one still get it.
    let schema = state.registry().schema_by_id(id).await?;
    if params.get("format") == Some("resolved") && !schema.references.is_empty() {
        return reply(&schema_body(
            schema.schema_type,
            &schema.resolved,
            &[],
            schema.metadata.as_ref(),
            schema.rule_set.as_ref(),
            None,
        ));
    }
    Ok(json_bytes(schema.body.clone()))
}

async fn text_by_id(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, Error> {
    let schema = state.registry().schema_by_id(parse_id(&id)?).await?;
    Ok(json_bytes(schema.text.clone().into()))
}

async fn subjects_by_id(
    State(state): State<AppState>,
    Path(id): Path<String>,
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
    reply(&subjects)
}

async fn versions_by_id(
    State(state): State<AppState>,
    Path(id): Path<String>,
    params: Params,
) -> Result<Response, Error> {
    let id = parse_id(&id)?;
    let deleted = params.flag("deleted");
    let usages = state.store().usages(id).await?;
    if usages.is_empty() {
        return Err(Error::SchemaNotFound(id.to_string()));
    }
    let versions: Vec<_> = usages
        .iter()
        .filter(|u| deleted || !u.deleted)
        .map(|u| json!({"subject": u.subject, "version": u.version}))
        .collect();
    reply(&versions)
}
