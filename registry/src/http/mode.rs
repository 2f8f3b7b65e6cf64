//! `/mode`: global and per-subject modes (READWRITE, READONLY, IMPORT).

use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::storage::SettingKind;

use super::answers::ModeAnswer;
use super::body::{Body, Params, Segments, reply};
use super::errors::{InvalidMode, NoSubjectMode};
use super::segments::SubjectPath;
use super::subjects::check_subject;
use crate::server::{AppState, Error, Principal};
use crate::service::Mode;

/// Routes under `/mode`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_global, put_global, delete_global))
        .routes(routes!(get_subject, put_subject, delete_subject))
}

/// The body of a mode update.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct ModeRequest {
    mode: Option<String>,
}

impl ModeRequest {
    fn mode(&self) -> Result<Mode, Error> {
        Ok(self.mode.as_deref().unwrap_or("").parse()?)
    }
}

fn mode_body(mode: Mode) -> Result<Response, Error> {
    reply(&ModeAnswer {
        mode: mode.as_str().to_owned(),
    })
}

#[utoipa::path(
    get,
    path = "/mode",
    tag = "mode",
    responses(
        (status = 200, description = "The mode", body = ModeAnswer),
    ),
)]
async fn get_global(State(state): State<AppState>) -> Result<Response, Error> {
    mode_body(state.registry().effective_mode(None).await?)
}

#[utoipa::path(
    put,
    path = "/mode",
    tag = "mode",
    params(
        ("force" = Option<bool>, Query, description = "IMPORT even with existing subjects"),
    ),
    request_body = ModeRequest,
    responses(
        (status = 200, description = "The mode", body = ModeAnswer),
        InvalidMode,
    ),
)]
async fn put_global(
    State(state): State<AppState>,
    principal: Principal,
    params: Params,
    Body(request): Body<ModeRequest>,
) -> Result<Response, Error> {
    let mode = request.mode()?;
    let force = params.flag("force");
    state
        .registry()
        .set_mode(None, mode, force, &principal.name)
        .await?;
    mode_body(mode)
}

#[utoipa::path(
    delete,
    path = "/mode",
    tag = "mode",
    responses(
        (status = 200, description = "The mode before", body = ModeAnswer),
    ),
)]
async fn delete_global(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Response, Error> {
    let previous = state.registry().effective_mode(None).await?;
    state.registry().delete_mode(None, &principal.name).await?;
    mode_body(previous)
}

#[utoipa::path(
    get,
    path = "/mode/{subject}",
    tag = "mode",
    params(
        SubjectPath,
        ("defaultToGlobal" = Option<bool>, Query, description = "The global mode when the subject has none"),
    ),
    responses(
        (status = 200, description = "The mode", body = ModeAnswer),
        NoSubjectMode,
        InvalidMode,
    ),
)]
async fn get_subject(
    State(state): State<AppState>,
    Segments(SubjectPath { subject }): Segments<SubjectPath>,
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

#[utoipa::path(
    put,
    path = "/mode/{subject}",
    tag = "mode",
    params(
        SubjectPath,
        ("force" = Option<bool>, Query, description = "IMPORT even with existing subjects"),
    ),
    request_body = ModeRequest,
    responses(
        (status = 200, description = "The mode", body = ModeAnswer),
        InvalidMode,
    ),
)]
async fn put_subject(
    State(state): State<AppState>,
    principal: Principal,
    Segments(SubjectPath { subject }): Segments<SubjectPath>,
    params: Params,
    Body(request): Body<ModeRequest>,
) -> Result<Response, Error> {
    check_subject(&subject)?;
    let mode = request.mode()?;
    let force = params.flag("force");
    state
        .registry()
        .set_mode(Some(&subject), mode, force, &principal.name)
        .await?;
    mode_body(mode)
}

#[utoipa::path(
    delete,
    path = "/mode/{subject}",
    tag = "mode",
    params(
        SubjectPath,
    ),
    responses(
        (status = 200, description = "The mode before", body = ModeAnswer),
        NoSubjectMode,
        InvalidMode,
    ),
)]
async fn delete_subject(
    State(state): State<AppState>,
    principal: Principal,
    Segments(SubjectPath { subject }): Segments<SubjectPath>,
) -> Result<Response, Error> {
    check_subject(&subject)?;
    match state
        .registry()
        .delete_mode(Some(&subject), &principal.name)
        .await?
    {
        Some(mode) => mode_body(mode),
        None => Err(Error::SubjectModeNotSet(subject)),
    }
}
