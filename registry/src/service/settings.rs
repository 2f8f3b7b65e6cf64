//! The settings that steer registration: the mode, the compatibility level and the rest of
//! `/config` (compatibility group, default and override data contracts, normalization), per
//! subject with a global fallback.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::schema::CompatibilityLevel;
use crate::storage::SettingKind;

use super::contract::{Metadata, RuleSet, parse_stored, to_stored};
use super::{Registry, ServiceError};

/// Confluent's registry modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Reads and writes.
    #[default]
    ReadWrite,
    /// Reads only.
    ReadOnly,
    /// Registration with given ids and versions, without compatibility checks.
    Import,
}

impl Mode {
    /// The Confluent name.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::ReadWrite => "READWRITE",
            Mode::ReadOnly => "READONLY",
            Mode::Import => "IMPORT",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Mode {
    type Err = ServiceError;

    fn from_str(s: &str) -> Result<Self, ServiceError> {
        match s.to_ascii_uppercase().as_str() {
            "READWRITE" => Ok(Mode::ReadWrite),
            "READONLY" => Ok(Mode::ReadOnly),
            "IMPORT" => Ok(Mode::Import),
            _ => Err(ServiceError::InvalidMode(s.to_owned())),
        }
    }
}

impl Registry {
    /// The subject's compatibility level, else the global one, else BACKWARD.
    pub async fn effective_level(
        &self,
        subject: Option<&str>,
    ) -> Result<CompatibilityLevel, ServiceError> {
        let kind = SettingKind::Compatibility;
        let mut value = None;
        if let Some(subject) = subject {
            value = self.store().setting(kind, Some(subject)).await?;
        }
        if value.is_none() {
            value = self.store().setting(kind, None).await?;
        }
        Ok(value
            .and_then(|v| v.parse().ok())
            .unwrap_or(CompatibilityLevel::Backward))
    }

    /// The subject's mode, else the global one, else READWRITE.
    pub async fn effective_mode(&self, subject: Option<&str>) -> Result<Mode, ServiceError> {
        if let Some(subject) = subject
            && let Some(value) = self
                .store()
                .setting(SettingKind::Mode, Some(subject))
                .await?
        {
            return value.parse();
        }
        match self.store().setting(SettingKind::Mode, None).await? {
            Some(value) => value.parse(),
            None => Ok(Mode::ReadWrite),
        }
    }

    /// Refuses writes to a subject in READONLY mode.
    pub async fn ensure_writable(&self, subject: &str) -> Result<Mode, ServiceError> {
        let mode = self.effective_mode(Some(subject)).await?;
        if mode == Mode::ReadOnly {
            return Err(ServiceError::NotPermitted(format!(
                "Subject {subject} is in read-only mode"
            )));
        }
        Ok(mode)
    }
}

/// A subject's Confluent config record (`/config/{subject}`), or the registry's default for
/// every subject (`/config`): every field optional, as stored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubjectConfig {
    /// The compatibility level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub compatibility_level: Option<CompatibilityLevel>,
    /// The metadata property whose value splits versions into compatibility groups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compatibility_group: Option<String>,
    /// Metadata merged under a registration's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_metadata: Option<Metadata>,
    /// Metadata merged over a registration's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub override_metadata: Option<Metadata>,
    /// A rule set merged under a registration's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_rule_set: Option<RuleSet>,
    /// A rule set merged over a registration's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub override_rule_set: Option<RuleSet>,
    /// Whether schemas are normalized on register and lookup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub normalize: Option<bool>,
    /// Whether field names are validated (stored and returned; not enforced).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validate_fields: Option<bool>,
}

impl SubjectConfig {
    /// Whether no field is set.
    pub fn is_empty(&self) -> bool {
        *self == SubjectConfig::default()
    }

    /// Each field of `self`, else of `fallback`.
    fn or(self, fallback: SubjectConfig) -> SubjectConfig {
        SubjectConfig {
            compatibility_level: self.compatibility_level.or(fallback.compatibility_level),
            compatibility_group: self.compatibility_group.or(fallback.compatibility_group),
            default_metadata: self.default_metadata.or(fallback.default_metadata),
            override_metadata: self.override_metadata.or(fallback.override_metadata),
            default_rule_set: self.default_rule_set.or(fallback.default_rule_set),
            override_rule_set: self.override_rule_set.or(fallback.override_rule_set),
            normalize: self.normalize.or(fallback.normalize),
            validate_fields: self.validate_fields.or(fallback.validate_fields),
        }
    }

    /// The stored text of each field that is set, by kind.
    fn stored(&self) -> Vec<(SettingKind, String)> {
        let mut out = Vec::new();
        let mut push = |kind, value: Option<String>| {
            if let Some(value) = value {
                out.push((kind, value));
            }
        };
        push(
            SettingKind::Compatibility,
            self.compatibility_level.map(|l| l.as_str().to_owned()),
        );
        push(
            SettingKind::CompatibilityGroup,
            self.compatibility_group.clone(),
        );
        push(
            SettingKind::DefaultMetadata,
            to_stored(self.default_metadata.as_ref()),
        );
        push(
            SettingKind::OverrideMetadata,
            to_stored(self.override_metadata.as_ref()),
        );
        push(
            SettingKind::DefaultRuleSet,
            to_stored(self.default_rule_set.as_ref()),
        );
        push(
            SettingKind::OverrideRuleSet,
            to_stored(self.override_rule_set.as_ref()),
        );
        push(
            SettingKind::Normalize,
            self.normalize.map(|b| b.to_string()),
        );
        push(
            SettingKind::ValidateFields,
            self.validate_fields.map(|b| b.to_string()),
        );
        out
    }

    /// Sets the field of `kind` from its stored text; unreadable values count as unset.
    fn load(&mut self, kind: SettingKind, text: &str) -> Result<(), ServiceError> {
        match kind {
            SettingKind::Compatibility => self.compatibility_level = text.parse().ok(),
            SettingKind::Mode => {}
            SettingKind::CompatibilityGroup => self.compatibility_group = Some(text.to_owned()),
            SettingKind::DefaultMetadata => self.default_metadata = parse_stored(Some(text))?,
            SettingKind::OverrideMetadata => self.override_metadata = parse_stored(Some(text))?,
            SettingKind::DefaultRuleSet => self.default_rule_set = parse_stored(Some(text))?,
            SettingKind::OverrideRuleSet => self.override_rule_set = parse_stored(Some(text))?,
            SettingKind::Normalize => self.normalize = text.parse().ok(),
            SettingKind::ValidateFields => self.validate_fields = text.parse().ok(),
        }
        Ok(())
    }
}

impl Registry {
    /// The config stored for `subject` (the global one for `None`), without fallback.
    pub async fn config(&self, subject: Option<&str>) -> Result<SubjectConfig, ServiceError> {
        let mut config = SubjectConfig::default();
        for kind in SettingKind::CONFIG {
            if let Some(text) = self.store().setting(kind, subject).await? {
                config.load(kind, &text)?;
            }
        }
        Ok(config)
    }

    /// The config in force for `subject`: each field from the subject, else the global one.
    pub async fn effective_config(&self, subject: &str) -> Result<SubjectConfig, ServiceError> {
        let own = self.config(Some(subject)).await?;
        Ok(own.or(self.config(None).await?))
    }

    /// Sets the fields `update` gives (a partial update; the others keep their value) in one
    /// audited write by the principal `by`.
    pub async fn put_config(
        &self,
        subject: Option<&str>,
        update: &SubjectConfig,
        by: &str,
    ) -> Result<(), ServiceError> {
        for rule_set in [&update.default_rule_set, &update.override_rule_set]
            .into_iter()
            .flatten()
        {
            rule_set.validate()?;
        }
        let values = update.stored();
        if !values.is_empty() {
            let written = self.store().put_settings(subject, &values, by).await;
            // The config decides whether lookups normalize.
            self.cache().forget_lookups();
            written?;
        }
        Ok(())
    }

    /// Removes the config fields of these kinds (every one: [`SettingKind::CONFIG`]) of
    /// `subject` (the global ones for `None`) in one write by the principal `by`, audited
    /// when some was set; returns those that were set.
    pub async fn delete_config(
        &self,
        subject: Option<&str>,
        kinds: &[SettingKind],
        by: &str,
    ) -> Result<SubjectConfig, ServiceError> {
        let mut previous = SubjectConfig::default();
        let removed = self.store().delete_settings(subject, kinds, by).await;
        self.cache().forget_lookups();
        for (kind, text) in removed? {
            previous.load(kind, &text)?;
        }
        Ok(previous)
    }

    /// Sets the mode of `subject` (the global one for `None`) for the principal `by`.
    /// IMPORT needs a subject (or registry) without versions unless `force`, as Confluent's.
    pub async fn set_mode(
        &self,
        subject: Option<&str>,
        mode: Mode,
        force: bool,
        by: &str,
    ) -> Result<(), ServiceError> {
        if mode == Mode::Import && !force {
            let occupied = match subject {
                Some(subject) => !self.store().versions(subject).await?.is_empty(),
                None => !self.store().subjects().await?.is_empty(),
            };
            if occupied {
                return Err(ServiceError::NotPermitted(
                    "Cannot import since found existing subjects; use force=true to override"
                        .to_owned(),
                ));
            }
        }
        let values = [(SettingKind::Mode, mode.as_str().to_owned())];
        self.store().put_settings(subject, &values, by).await?;
        Ok(())
    }

    /// Removes the mode of `subject` (the global one for `None`) for the principal `by`;
    /// returns the mode it had, if it had one.
    pub async fn delete_mode(
        &self,
        subject: Option<&str>,
        by: &str,
    ) -> Result<Option<Mode>, ServiceError> {
        let removed = self
            .store()
            .delete_settings(subject, &[SettingKind::Mode], by)
            .await?;
        removed.first().map(|(_, text)| text.parse()).transpose()
    }
}
