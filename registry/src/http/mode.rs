//! `/mode`: global and per-subject modes (READWRITE, READONLY, IMPORT).

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;
use serde_json::json;

use crate::storage::SettingKind;

use super::AppState;
use super::body::{Body, Params, reply};
use super::error::Error;
use super::subjects::check_subject;
use crate::service::Mode;

/// Routes under `/mode`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/mode",
            get(get_global).put(put_global).delete(delete_global),
        )
        .route(
            "/mode/{subject}",
            get(get_subject).put(put_subject).delete(delete_subject),
        )
}

#[derive(Debug, Deserialize)]
struct ModeRequest {
    mode: Option<String>,
}

impl ModeRequest {
    fn mode(&self) -> Result<Mode, Error> {
        Ok(self.mode.as_deref().unwrap_or("").parse()?)
    }
}

fn mode_body(mode: Mode) -> Result<Response, Error> {
    reply(&json!({ "mode": mode.as_str() }))
}

/// IMPORT needs an empty registry (or subject) unless `force=true`.
async fn check_import(
    state: &AppState,
    mode: Mode,
    subject: Option<&str>,
    params: &Params,
) -> Result<(), Error> {
    if mode != Mode::Import || params.flag("force") {
        return Ok(());
    }
    let occupied = match subject {
        Some(subject) => !state.store().versions(subject).await?.is_empty(),
        None => !state.store().subjects().await?.is_empty(),
    };
    if occupied {
        return Err(Error::OperationNotPermitted(
            "Cannot import since found existing subjects; use force=true to override".to_owned(),
        ));
    }
    Ok(())
}

async fn get_global(State(state): State<AppState>) -> Result<Response, Error> {
    mode_body(state.registry().effective_mode(None).await?)
}

async fn put_global(
    State(state): State<AppState>,
    params: Params,
    Body(request): Body<ModeRequest>,
) -> Result<Response, Error> {
    let mode = request.mode()?;
    check_import(&state, mode, None, &params).await?;
    state
        .store()
        .put_setting(SettingKind::Mode, None, mode.as_str())
        .await?;
    mode_body(mode)
}

async fn delete_global(State(state): State<AppState>) -> Result<Response, Error> {
    let previous = state.registry().effective_mode(None).await?;
    state
        .store()
        .delete_setting(SettingKind::Mode, None)
        .await?;
    mode_body(previous)
}

async fn get_subject(
    State(state): State<AppState>,
    Path(subject): Path<String>,
    params: Params,
) -> Result<Response, Error> {
    check_subject(&subject)?;
    match state
        .store()
        .setting(SettingKind::Mode, Some(&subject))
        .await?
    {
        Some(value) => mode_body(value.parse()?),
        None if params.flag("defaultToGlobal") => {
            mode_body(state.registry().effective_mode(None).await?)
        }
        None => Err(Error::SubjectModeNotSet(subject)),
    }
}

async fn put_subject(
    State(state): State<AppState>,
    Path(subject): Path<String>,
    params: Params,
    Body(request): Body<ModeRequest>,
) -> Result<Response, Error> {
    check_subject(&subject)?;
    let mode = request.mode()?;
    check_import(&state, mode, Some(&subject), &params).await?;
    state
        .store()
        .put_setting(SettingKind::Mode, Some(&subject), mode.as_str())
        .await?;
    mode_body(mode)
}

async fn delete_subject(
    State(state): State<AppState>,
    Path(subject): Path<String>,
) -> Result<Response, Error> {
    check_subject(&subject)?;
    match state
        .store()
        .delete_setting(SettingKind::Mode, Some(&subject))
        .await?
    {
        Some(value) => mode_body(value.parse()?),
        None => Err(Error::SubjectModeNotSet(subject)),
    }
}
