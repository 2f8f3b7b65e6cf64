//! `/subjects`: registering, listing, looking up and deleting subject versions.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

use crate::schema::{CompatibilityLevel, check};
use crate::storage::{DeleteTarget, NewSchema, StoreError, VersionRow};

use super::AppState;
use super::body::{Body, Params, json_bytes, reply};
use super::error::Error;
use super::state::{Mode, SchemaRequest, schema_body};

/// How many times a registration reloads schemas registered meanwhile (by concurrent
/// requests or other instances) before it gives up.
const REGISTER_ATTEMPTS: usize = 64;

/// Routes under `/subjects`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/subjects", get(list))
        .route("/subjects/{subject}", post(lookup).delete(delete_subject))
        .route("/subjects/{subject}/versions", get(versions).post(register))
        .route(
            "/subjects/{subject}/versions/{version}",
            get(version).delete(delete_version),
        )
        .route(
            "/subjects/{subject}/versions/{version}/schema",
            get(version_text),
        )
        .route(
            "/subjects/{subject}/versions/{version}/referencedby",
            get(referenced_by),
        )
}

/// Rejects subject names Confluent rejects: empty, or with control characters.
pub(crate) fn check_subject(subject: &str) -> Result<(), Error> {
    if subject.is_empty() || subject.chars().any(char::is_control) || subject.len() > 4096 {
        return Err(Error::InvalidSubject(subject.to_owned()));
    }
    Ok(())
}

/// Parses a version path segment: a positive number, or `latest` / `-1` (`None`).
pub(crate) fn parse_version(text: &str) -> Result<Option<i32>, Error> {
    if text.eq_ignore_ascii_case("latest") || text == "-1" {
        return Ok(None);
    }
    match text.parse::<i32>() {
        Ok(version) if version >= 1 => Ok(Some(version)),
        _ => Err(Error::InvalidVersion(text.to_owned())),
    }
}

/// The row a version segment names: the latest live one for `None`.
pub(crate) fn pick(rows: &[VersionRow], version: Option<i32>, deleted: bool) -> Option<VersionRow> {
    match version {
        Some(v) => rows
            .iter()
            .find(|r| r.version == v && (deleted || !r.deleted))
            .copied(),
        None => rows.iter().rev().find(|r| deleted || !r.deleted).copied(),
    }
}

/// Loads a subject's versions; 40401 when it has none visible.
pub(crate) async fn subject_rows(
    state: &AppState,
    subject: &str,
    deleted: bool,
) -> Result<Vec<VersionRow>, Error> {
    check_subject(subject)?;
    let rows = state.store().versions(subject).await?;
    if !rows.iter().any(|r| deleted || !r.deleted) {
        return Err(Error::SubjectNotFound(subject.to_owned()));
    }
    Ok(rows)
}

/// Resolves a version segment of a subject to its row, with Confluent's errors.
pub(crate) async fn find_version(
    state: &AppState,
    subject: &str,
    version: &str,
    deleted: bool,
) -> Result<VersionRow, Error> {
    let version = parse_version(version)?;
    let rows = subject_rows(state, subject, deleted).await?;
    pick(&rows, version, deleted).ok_or_else(|| {
        Error::VersionNotFound(version.map_or_else(|| "latest".to_owned(), |v| v.to_string()))
    })
}

async fn list(State(state): State<AppState>, params: Params) -> Result<Response, Error> {
    let deleted = params.flag("deleted");
    let prefix = params.get("subjectPrefix").unwrap_or("");
    let subjects: Vec<String> = state
        .store()
        .subjects()
        .await?
        .into_iter()
        .filter(|(name, live)| (deleted || *live) && name.starts_with(prefix))
        .map(|(name, _)| name)
        .collect();
    reply(&subjects)
}

async fn versions(
    State(state): State<AppState>,
    Path(subject): Path<String>,
    params: Params,
) -> Result<Response, Error> {
    let deleted = params.flag("deleted");
    let rows = subject_rows(&state, &subject, deleted).await?;
    let versions: Vec<i32> = rows
        .iter()
        .filter(|r| deleted || !r.deleted)
        .map(|r| r.version)
        .collect();
    reply(&versions)
}

async fn version(
    State(state): State<AppState>,
    Path((subject, version)): Path<(String, String)>,
    params: Params,
) -> Result<Response, Error> {
    let row = find_version(&state, &subject, &version, params.flag("deleted")).await?;
    let schema = state.schema_by_id(row.schema_id).await?;
    let mut extra = Map::new();
    extra.insert("subject".to_owned(), json!(subject));
    extra.insert("version".to_owned(), json!(row.version));
    extra.insert("id".to_owned(), json!(row.schema_id));
    reply(&schema_body(
        schema.schema_type,
        &schema.text,
        &schema.references,
        Some(extra),
    ))
}

async fn version_text(
    State(state): State<AppState>,
    Path((subject, version)): Path<(String, String)>,
    params: Params,
) -> Result<Response, Error> {
    let row = find_version(&state, &subject, &version, params.flag("deleted")).await?;
    let schema = state.schema_by_id(row.schema_id).await?;
    Ok(json_bytes(schema.text.clone().into()))
}

async fn referenced_by(
    State(state): State<AppState>,
    Path((subject, version)): Path<(String, String)>,
) -> Result<Response, Error> {
    let row = find_version(&state, &subject, &version, false).await?;
    let ids = state.store().referenced_by(&subject, row.version).await?;
    reply(&ids)
}

async fn register(
    State(state): State<AppState>,
    Path(subject): Path<String>,
    params: Params,
    Body(request): Body<SchemaRequest>,
) -> Result<Response, Error> {
    check_subject(&subject)?;
    let mode = state.effective_mode(Some(&subject)).await?;
    if mode == Mode::ReadOnly {
        return Err(Error::OperationNotPermitted(format!(
            "Subject {subject} is in read-only mode"
        )));
    }
    if (request.id.is_some() || request.version.is_some()) && mode != Mode::Import {
        return Err(Error::OperationNotPermitted(format!(
            "Subject {subject} is not in import mode: an id or version cannot be given"
        )));
    }
    let candidate = state.candidate(&request, params.flag("normalize")).await?;
    let level = if mode == Mode::Import {
        CompatibilityLevel::None
    } else {
        state.effective_level(Some(&subject)).await?
    };
    let new = NewSchema {
        schema_type: candidate.schema_type,
        text: candidate.text.clone(),
        key: candidate.key.clone(),
        references: candidate.references.clone(),
        id: request.id,
        version: request.version,
    };
    let cache = state.cache();
    let compat = |live: &[VersionRow]| -> Result<(), StoreError> {
        if level == CompatibilityLevel::None {
            return Ok(());
        }
        let mut previous = Vec::with_capacity(live.len());
        let mut missing = Vec::new();
        for row in live {
            match cache.get(row.schema_id) {
                Some(schema) => previous.push((row.version, schema)),
                None => missing.push(row.schema_id),
            }
        }
        if !missing.is_empty() {
            return Err(StoreError::NotCached(missing));
        }
        let previous: Vec<(u32, &crate::schema::Schema)> = previous
            .iter()
            .map(|(version, schema)| (u32::try_from(*version).unwrap_or(0), &schema.schema))
            .collect();
        let report = check(level, &candidate.schema, &previous);
        if report.is_compatible {
            Ok(())
        } else {
            Err(StoreError::Incompatible(report.messages))
        }
    };
    let mut attempt = 0;
    let registered = loop {
        attempt += 1;
        match state.store().register(&subject, &new, &compat).await {
            Err(StoreError::NotCached(ids)) if attempt < REGISTER_ATTEMPTS => {
                for id in ids {
                    state.schema_by_id(id).await?;
                }
            }
            Err(err) => return Err(Error::from_store(err, &subject, request.version)),
            Ok(registered) => break registered,
        }
    };
    if registered.created {
        state.remember(registered.id, candidate);
    }
    reply(&json!({ "id": registered.id }))
}

async fn lookup(
    State(state): State<AppState>,
    Path(subject): Path<String>,
    params: Params,
    Body(request): Body<SchemaRequest>,
) -> Result<Response, Error> {
    check_subject(&subject)?;
    let deleted = params.flag("deleted");
    let candidate = state.candidate(&request, params.flag("normalize")).await?;
    let rows = subject_rows(&state, &subject, deleted).await?;
    for row in rows.iter().filter(|r| deleted || !r.deleted) {
        let schema = state.schema_by_id(row.schema_id).await?;
        if schema.key == candidate.key {
            let mut extra = Map::new();
            extra.insert("subject".to_owned(), json!(subject));
            extra.insert("version".to_owned(), json!(row.version));
            extra.insert("id".to_owned(), json!(row.schema_id));
            return reply(&schema_body(
                schema.schema_type,
                &schema.text,
                &schema.references,
                Some(extra),
            ));
        }
    }
    Err(Error::SchemaNotFound(format!("under subject {subject}")))
}

async fn ensure_writable(state: &AppState, subject: &str) -> Result<(), Error> {
    if state.effective_mode(Some(subject)).await? == Mode::ReadOnly {
        return Err(Error::OperationNotPermitted(format!(
            "Subject {subject} is in read-only mode"
        )));
    }
    Ok(())
}

/// Forgets cached schemas that no subject version holds any more.
async fn evict_unused(state: &AppState, ids: &[i64]) -> Result<(), Error> {
    for &id in ids {
        if state.store().usages(id).await?.is_empty() {
            state.cache().remove(id);
        }
    }
    Ok(())
}

async fn delete_subject(
    State(state): State<AppState>,
    Path(subject): Path<String>,
    params: Params,
) -> Result<Response, Error> {
    check_subject(&subject)?;
    ensure_writable(&state, &subject).await?;
    let permanent = params.flag("permanent");
    let before = state.store().versions(&subject).await?;
    let deleted = state
        .store()
        .delete(&subject, DeleteTarget::Subject, permanent)
        .await
        .map_err(|err| Error::from_store(err, &subject, None))?;
    if permanent {
        let ids: Vec<i64> = before.iter().map(|r| r.schema_id).collect();
        evict_unused(&state, &ids).await?;
    }
    reply(&deleted)
}

async fn delete_version(
    State(state): State<AppState>,
    Path((subject, version)): Path<(String, String)>,
    params: Params,
) -> Result<Response, Error> {
    check_subject(&subject)?;
    let version = parse_version(&version)?;
    ensure_writable(&state, &subject).await?;
    let permanent = params.flag("permanent");
    let before = state.store().versions(&subject).await?;
    if !before.iter().any(|r| !r.deleted) && !permanent {
        if before.is_empty() {
            return Err(Error::SubjectNotFound(subject));
        }
        if version.is_none() {
            return Err(Error::SubjectSoftDeleted(subject));
        }
    }
    let deleted = state
        .store()
        .delete(&subject, DeleteTarget::Version(version), permanent)
        .await
        .map_err(|err| Error::from_store(err, &subject, version))?;
    if permanent {
        let ids: Vec<i64> = before
            .iter()
            .filter(|r| deleted.contains(&r.version))
            .map(|r| r.schema_id)
            .collect();
        evict_unused(&state, &ids).await?;
    }
    match deleted.first() {
        Some(version) => reply(&Value::from(*version)),
        None => Err(Error::VersionNotFound(
            version.map_or_else(|| "latest".to_owned(), |v| v.to_string()),
        )),
    }
}
