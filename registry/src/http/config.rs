//! `/config`: global and per-subject compatibility levels.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;
use serde_json::json;

use crate::schema::CompatibilityLevel;
use crate::storage::SettingKind;

use super::AppState;
use super::body::{Body, Params, reply};
use super::error::Error;
use super::subjects::check_subject;

/// Routes under `/config`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/config",
            get(get_global).put(put_global).delete(delete_global),
        )
        .route(
            "/config/{subject}",
            get(get_subject).put(put_subject).delete(delete_subject),
        )
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConfigRequest {
    compatibility: Option<String>,
    compatibility_level: Option<String>,
}

impl ConfigRequest {
    fn level(&self) -> Result<CompatibilityLevel, Error> {
        let text = self
            .compatibility
            .as_deref()
            .or(self.compatibility_level.as_deref())
            .unwrap_or("");
        text.parse()
            .map_err(|_| Error::InvalidCompatibilityLevel(text.to_owned()))
    }
}

fn level_body(level: CompatibilityLevel) -> Result<Response, Error> {
    reply(&json!({ "compatibilityLevel": level.as_str() }))
}

async fn get_global(State(state): State<AppState>) -> Result<Response, Error> {
    level_body(state.registry().effective_level(None).await?)
}

async fn put_global(
    State(state): State<AppState>,
    Body(request): Body<ConfigRequest>,
) -> Result<Response, Error> {
    let level = request.level()?;
    state
        .store()
        .put_setting(SettingKind::Compatibility, None, level.as_str())
        .await?;
    reply(&json!({ "compatibility": level.as_str() }))
}

async fn delete_global(State(state): State<AppState>) -> Result<Response, Error> {
    let previous = state.registry().effective_level(None).await?;
    state
        .store()
        .delete_setting(SettingKind::Compatibility, None)
        .await?;
    level_body(previous)
}

async fn get_subject(
    State(state): State<AppState>,
    Path(subject): Path<String>,
    params: Params,
) -> Result<Response, Error> {
    check_subject(&subject)?;
    let value = state
        .store()
        .setting(SettingKind::Compatibility, Some(&subject))
        .await?;
    match value.and_then(|v| v.parse::<CompatibilityLevel>().ok()) {
        Some(level) => level_body(level),
        None if params.flag("defaultToGlobal") => {
            level_body(state.registry().effective_level(None).await?)
        }
        None => Err(Error::SubjectConfigNotSet(subject)),
    }
}

async fn put_subject(
    State(state): State<AppState>,
    Path(subject): Path<String>,
    Body(request): Body<ConfigRequest>,
) -> Result<Response, Error> {
    check_subject(&subject)?;
    let level = request.level()?;
    state
        .store()
        .put_setting(SettingKind::Compatibility, Some(&subject), level.as_str())
        .await?;
    reply(&json!({ "compatibility": level.as_str() }))
}

async fn delete_subject(
    State(state): State<AppState>,
    Path(subject): Path<String>,
) -> Result<Response, Error> {
    check_subject(&subject)?;
    let previous = state
        .store()
        .delete_setting(SettingKind::Compatibility, Some(&subject))
        .await?;
    match previous.and_then(|v| v.parse::<CompatibilityLevel>().ok()) {
        Some(level) => level_body(level),
        None => Err(Error::SubjectConfigNotSet(subject)),
    }
}
