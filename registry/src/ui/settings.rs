//! Config and mode: shown to everyone, changed by a form POST that needs the `write` role
//! when authentication is on (a reader sees the form disabled). Levels and modes go through the
//! service's `put_config`, `delete_config`, `set_mode` and `delete_mode`, as `/config` and
//! `/mode` do, so the audit log records them the same way; IMPORT mode, which has its own
//! checks, is only set through the API.

use axum::Form;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use crate::schema::CompatibilityLevel;
use crate::server::{AppState, Error, Principal, Role};
use crate::service::{Mode, SubjectConfig};
use crate::storage::SettingKind;

use super::layout::{page, read_only_note, subject_url};
use super::segments::SubjectPath;
use super::{Failure, allow_write};

/// The modes the form offers (IMPORT is set through the API, with its own checks).
const MODES: [Mode; 2] = [Mode::ReadWrite, Mode::ReadOnly];

/// The settings form: empty fields fall back to the global value (or the default).
#[derive(Debug, Deserialize)]
pub(crate) struct SettingsForm {
    compatibility: String,
    mode: String,
}

/// The query of a page a form redirected to.
#[derive(Debug, Deserialize)]
pub(crate) struct Saved {
    saved: Option<String>,
}

/// The form for a subject (`Some`) or the global settings, with the current values selected.
fn form(
    action: &str,
    own_level: Option<&str>,
    own_mode: Option<&str>,
    inherited: (&str, &str),
    read_only_user: bool,
) -> Markup {
    html! {
        form.stack method="post" action=(action) {
            div {
                label for="compatibility" { "Compatibility level" } br;
                select #compatibility name="compatibility" {
                    option value="" selected[own_level.is_none()] { "Not set (" (inherited.0) ")" }
                    @for level in CompatibilityLevel::ALL {
                        option value=(level.as_str()) selected[own_level == Some(level.as_str())] { (level.as_str()) }
                    }
                }
            }
            div {
                label for="mode" { "Mode" } br;
                select #mode name="mode" {
                    option value="" selected[own_mode.is_none()] { "Not set (" (inherited.1) ")" }
                    @for mode in MODES {
                        option value=(mode.as_str()) selected[own_mode == Some(mode.as_str())] { (mode.as_str()) }
                    }
                    @if own_mode == Some(Mode::Import.as_str()) {
                        option value="IMPORT" selected { "IMPORT" }
                    }
                }
            }
            div { button type="submit" disabled[read_only_user] { "Save settings" } }
        }
    }
}

/// The settings section of a subject's page.
pub(crate) fn subject_form(
    subject: &str,
    own: &SubjectConfig,
    own_mode: Option<&str>,
    role: Role,
    global: (&str, &str),
    saved: bool,
) -> Markup {
    html! {
        section aria-labelledby="settings-title" {
            h2 #settings-title { "Config and mode" }
            @if saved { p.notice.ok role="status" { "Settings saved." } }
            (form(
                &format!("{}/settings", subject_url(subject)),
                own.compatibility_level.map(CompatibilityLevel::as_str),
                own_mode,
                global,
                role == Role::Read,
            ))
        }
    }
}

/// `GET /ui/settings`: the global config and mode.
pub(crate) async fn global(
    State(state): State<AppState>,
    principal: Principal,
    Query(query): Query<Saved>,
) -> Result<Response, Failure> {
    let own = state.registry().config(None).await?;
    let own_mode = state.store().setting(SettingKind::Mode, None).await?;
    let config = serde_json::to_string_pretty(&own).unwrap_or_default();
    let main = html! {
        h1 { "Config and mode" }
        @if query.saved.is_some() { p.notice.ok role="status" { "Settings saved." } }
        p { "The global settings; a subject's own settings override them." }
        @if principal.role == Role::Read { (read_only_note()) }
        (form(
            "/ui/settings",
            own.compatibility_level.map(CompatibilityLevel::as_str),
            own_mode.as_deref(),
            ("BACKWARD", "READWRITE"),
            principal.role == Role::Read,
        ))
        h2 { "Global config as stored" }
        pre.code.plain { code { (config) } }
    };
    Ok(page(
        "Config and mode",
        &[
            ("Subjects", Some("/ui".to_owned())),
            ("Config and mode", None),
        ],
        main,
    ))
}

/// `POST /ui/settings`.
pub(crate) async fn save_global(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Form(form): Form<SettingsForm>,
) -> Result<Response, Failure> {
    allow_write(&principal, &headers)?;
    save(&state, None, &form, &principal.name).await?;
    Ok(Redirect::to("/ui/settings?saved=1").into_response())
}

/// `POST /ui/subjects/{subject}/settings`.
pub(crate) async fn save_subject(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    SubjectPath(subject): SubjectPath,
    Form(form): Form<SettingsForm>,
) -> Result<Response, Failure> {
    allow_write(&principal, &headers)?;
    crate::service::check_subject(&subject)?;
    save(&state, Some(&subject), &form, &principal.name).await?;
    Ok(Redirect::to(&format!("{}?saved=1", subject_url(&subject))).into_response())
}

/// Applies the form for the principal `by`: an empty field removes the setting.
async fn save(
    state: &AppState,
    subject: Option<&str>,
    form: &SettingsForm,
    by: &str,
) -> Result<(), Failure> {
    let registry = state.registry();
    match form.compatibility.as_str() {
        "" => {
            registry
                .delete_config(subject, &[SettingKind::Compatibility], by)
                .await?;
        }
        text => {
            let level = text
                .parse::<CompatibilityLevel>()
                .map_err(|_| Error::InvalidCompatibilityLevel)?;
            let update = SubjectConfig {
                compatibility_level: Some(level),
                ..SubjectConfig::default()
            };
            registry.put_config(subject, &update, by).await?;
        }
    }
    let current = state.store().setting(SettingKind::Mode, subject).await?;
    match form.mode.as_str() {
        "" => {
            registry.delete_mode(subject, by).await?;
        }
        text => {
            let mode: Mode = text.parse()?;
            if mode == Mode::Import && current.as_deref() != Some(Mode::Import.as_str()) {
                return Err(Error::Forbidden(
                    "IMPORT mode is set through the API (PUT /mode), which checks it".to_owned(),
                )
                .into());
            }
            // IMPORT only stays IMPORT here: the API checked it when it was set.
            registry.set_mode(subject, mode, true, by).await?;
        }
    }
    Ok(())
}
