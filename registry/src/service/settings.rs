//! The settings that steer registration: the mode and the compatibility level, per subject
//! with a global fallback.

use std::fmt;
use std::str::FromStr;

use crate::schema::CompatibilityLevel;
use crate::storage::SettingKind;

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
