//! `/config`: global and per-subject compatibility levels and the rest of Confluent's config
//! (compatibility group, default and override metadata and rule sets, normalize,
//! validateFields). A PUT is a partial update: fields absent from the body keep their value.

use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::schema::CompatibilityLevel;
use crate::service::{Metadata, RuleSet, SubjectConfig};
use crate::storage::SettingKind;

use super::answers::ConfigUpdateAnswer;
use super::body::{Body, Params, Segments, reply};
use super::errors::{InvalidSubject, NoSubjectConfig};
use super::segments::SubjectPath;
use super::subjects::check_subject;
use crate::server::{AppState, Error, ErrorBody, Principal};

/// Routes under `/config`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_global, put_global, delete_global))
        .routes(routes!(get_subject, put_subject, delete_subject))
}

/// The body of a config update: every field optional.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct ConfigRequest {
    compatibility: Option<String>,
    compatibility_level: Option<String>,
    compatibility_group: Option<String>,
    default_metadata: Option<Metadata>,
    override_metadata: Option<Metadata>,
    default_rule_set: Option<RuleSet>,
    override_rule_set: Option<RuleSet>,
    normalize: Option<bool>,
    validate_fields: Option<bool>,
}

impl ConfigRequest {
    /// The fields to update; a level that does not parse, or a body with no field, is 42203.
    fn update(self) -> Result<SubjectConfig, Error> {
        let text = self.compatibility.or(self.compatibility_level);
        let compatibility_level = match text {
            Some(text) => Some(
                text.parse::<CompatibilityLevel>()
                    .map_err(|_| Error::InvalidCompatibilityLevel)?,
            ),
            None => None,
        };
        let update = SubjectConfig {
            compatibility_level,
            compatibility_group: self.compatibility_group,
            default_metadata: self.default_metadata,
            override_metadata: self.override_metadata,
            default_rule_set: self.default_rule_set,
            override_rule_set: self.override_rule_set,
            normalize: self.normalize,
            validate_fields: self.validate_fields,
        };
        if update.is_empty() {
            return Err(Error::InvalidCompatibilityLevel);
        }
        Ok(update)
    }
}

/// A config as Confluent answers a GET: `compatibilityLevel` and the fields that are set.
fn config_body(config: &SubjectConfig) -> Result<Response, Error> {
    reply(config)
}

/// A PUT's answer, as Confluent's: the scope's whole config after the update (the fields set
/// before and now), the level under `compatibility`. The level is there in every case: the
/// scope's own, else the one in force for it, as `GET /config` answers the default.
async fn update_body(state: &AppState, subject: Option<&str>) -> Result<Response, Error> {
    let mut rest = state.registry().config(subject).await?;
    let compatibility = match rest.compatibility_level.take() {
        Some(level) => level,
        None => state.registry().effective_level(subject).await?,
    };
    reply(&ConfigUpdateAnswer {
        compatibility: Some(compatibility),
        rest,
    })
}

#[utoipa::path(
    get,
    path = "/config",
    tag = "config",
    responses(
        (status = 200, description = "The config", body = SubjectConfig),
    ),
)]
async fn get_global(State(state): State<AppState>) -> Result<Response, Error> {
    let mut config = state.registry().config(None).await?;
    config.compatibility_level = Some(state.registry().effective_level(None).await?);
    config_body(&config)
}

#[utoipa::path(
    put,
    path = "/config",
    tag = "config",
    request_body = ConfigRequest,
    responses(
        (status = 200, description = "The config after the update", body = ConfigUpdateAnswer),
        (status = 422, description = "Invalid compatibility level, or no field (42203)", body = ErrorBody),
    ),
)]
async fn put_global(
    State(state): State<AppState>,
    principal: Principal,
    Body(request): Body<ConfigRequest>,
) -> Result<Response, Error> {
    let update = request.update()?;
    state
        .registry()
        .put_config(None, &update, &principal.name)
        .await?;
    update_body(&state, None).await
}

#[utoipa::path(
    delete,
    path = "/config",
    tag = "config",
    responses(
        (status = 200, description = "The config before", body = SubjectConfig),
    ),
)]
async fn delete_global(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Response, Error> {
    let level = state.registry().effective_level(None).await?;
    let mut previous = state
        .registry()
        .delete_config(None, &SettingKind::CONFIG, &principal.name)
        .await?;
    previous.compatibility_level = Some(level);
    config_body(&previous)
}

#[utoipa::path(
    get,
    path = "/config/{subject}",
    tag = "config",
    params(
        SubjectPath,
        ("defaultToGlobal" = Option<bool>, Query, description = "The global config when the subject has none"),
    ),
    responses(
        (status = 200, description = "The config", body = SubjectConfig),
        NoSubjectConfig,
        InvalidSubject,
    ),
)]
async fn get_subject(
    State(state): State<AppState>,
    Segments(SubjectPath { subject }): Segments<SubjectPath>,
    params: Params,
) -> Result<Response, Error> {
    check_subject(&subject)?;
    let config = state.registry().config(Some(&subject)).await?;
    if !config.is_empty() {
        return config_body(&config);
    }
    if params.flag("defaultToGlobal") {
        return get_global(State(state)).await;
    }
    Err(Error::SubjectConfigNotSet(subject))
}

#[utoipa::path(
    put,
    path = "/config/{subject}",
    tag = "config",
    params(
        SubjectPath,
    ),
    request_body = ConfigRequest,
    responses(
        (status = 200, description = "The config after the update", body = ConfigUpdateAnswer),
        (status = 422, description = "Invalid subject (42208), invalid compatibility level or no field (42203)", body = ErrorBody),
    ),
)]
async fn put_subject(
    State(state): State<AppState>,
    principal: Principal,
    Segments(SubjectPath { subject }): Segments<SubjectPath>,
    Body(request): Body<ConfigRequest>,
) -> Result<Response, Error> {
    check_subject(&subject)?;
    let update = request.update()?;
    state
        .registry()
        .put_config(Some(&subject), &update, &principal.name)
        .await?;
    update_body(&state, Some(&subject)).await
}

#[utoipa::path(
    delete,
    path = "/config/{subject}",
    tag = "config",
    params(
        SubjectPath,
    ),
    responses(
        (status = 200, description = "The config before", body = SubjectConfig),
        NoSubjectConfig,
        InvalidSubject,
    ),
)]
async fn delete_subject(
    State(state): State<AppState>,
    principal: Principal,
    Segments(SubjectPath { subject }): Segments<SubjectPath>,
) -> Result<Response, Error> {
    check_subject(&subject)?;
    let previous = state
        .registry()
        .delete_config(Some(&subject), &SettingKind::CONFIG, &principal.name)
        .await?;
    if previous.is_empty() {
        return Err(Error::SubjectConfigNotSet(subject));
    }
    config_body(&previous)
}
