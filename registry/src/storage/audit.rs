//! The audit trail as stored: what each write records ([`AuditEntry`], written by the
//! transaction that makes the change) and when and by whom a version was registered
//! ([`Registration`]). Times are milliseconds since the Unix epoch, UTC.

use std::fmt;
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

use super::{SettingKind, StorageError};

/// What a write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    /// A new version was registered.
    Register,
    /// A version was deleted by a version delete (`detail`: soft or permanent).
    DeleteVersion,
    /// A version was deleted by a subject delete (`detail`: soft or permanent).
    DeleteSubject,
    /// Config fields were set (`detail`: which, and their values).
    SetConfig,
    /// Config fields were removed (`detail`: which, and the values they had).
    DeleteConfig,
    /// A mode was set (`detail`: the mode).
    SetMode,
    /// A mode was removed (`detail`: the mode it was).
    DeleteMode,
    /// A KEK was created (`detail`: its name, KMS type and whether it is shared).
    CreateKek,
    /// A KEK was changed (`detail`: its name and whether it is shared).
    UpdateKek,
    /// A KEK was deleted (`detail`: its name, soft or permanent).
    DeleteKek,
    /// A soft-deleted KEK was restored (`detail`: its name).
    UndeleteKek,
    /// A DEK was created (`subject`; `detail`: its KEK, algorithm and version).
    CreateDek,
    /// DEKs were deleted (`subject`; `detail`: their KEK, algorithm, version, soft or
    /// permanent).
    DeleteDek,
    /// Soft-deleted DEKs were restored (`subject`; `detail`: their KEK, algorithm, version).
    UndeleteDek,
}

impl AuditAction {
    /// Every action, in the order above.
    pub const ALL: [AuditAction; 14] = [
        AuditAction::Register,
        AuditAction::DeleteVersion,
        AuditAction::DeleteSubject,
        AuditAction::SetConfig,
        AuditAction::DeleteConfig,
        AuditAction::SetMode,
        AuditAction::DeleteMode,
        AuditAction::CreateKek,
        AuditAction::UpdateKek,
        AuditAction::DeleteKek,
        AuditAction::UndeleteKek,
        AuditAction::CreateDek,
        AuditAction::DeleteDek,
        AuditAction::UndeleteDek,
    ];

    /// The name stored and answered.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::Register => "register",
            AuditAction::DeleteVersion => "delete-version",
            AuditAction::DeleteSubject => "delete-subject",
            AuditAction::SetConfig => "set-config",
            AuditAction::DeleteConfig => "delete-config",
            AuditAction::SetMode => "set-mode",
            AuditAction::DeleteMode => "delete-mode",
            AuditAction::CreateKek => "create-kek",
            AuditAction::UpdateKek => "update-kek",
            AuditAction::DeleteKek => "delete-kek",
            AuditAction::UndeleteKek => "undelete-kek",
            AuditAction::CreateDek => "create-dek",
            AuditAction::DeleteDek => "delete-dek",
            AuditAction::UndeleteDek => "undelete-dek",
        }
    }

    /// The action that sets (`set`) or removes settings of these kinds: a mode's own when
    /// every kind is the mode, else the config's.
    pub(crate) fn for_settings(kinds: impl IntoIterator<Item = SettingKind>, set: bool) -> Self {
        let mode = kinds.into_iter().all(|kind| kind == SettingKind::Mode);
        match (mode, set) {
            (true, true) => AuditAction::SetMode,
            (true, false) => AuditAction::DeleteMode,
            (false, true) => AuditAction::SetConfig,
            (false, false) => AuditAction::DeleteConfig,
        }
    }
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AuditAction {
    type Err = StorageError;

    fn from_str(s: &str) -> Result<Self, StorageError> {
        AuditAction::ALL
            .into_iter()
            .find(|action| action.as_str() == s)
            .ok_or_else(|| StorageError::Corrupt(format!("unknown audit action `{s}`")))
    }
}

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// Its place in the log: ids grow in the order entries were written.
    pub id: i64,
    /// When, in milliseconds since the Unix epoch (UTC).
    pub at: i64,
    /// Who: the principal's name.
    pub principal: String,
    /// What.
    pub action: AuditAction,
    /// The subject, unless the write was to a global setting.
    pub subject: Option<String>,
    /// The version registered or deleted.
    pub version: Option<i32>,
    /// The schema id of that version.
    pub schema_id: Option<i64>,
    /// A short detail: the settings and their values, `soft` or `permanent`, the schema type.
    pub detail: Option<String>,
}

/// When and by whom a version was registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    /// When, in milliseconds since the Unix epoch (UTC).
    pub at: i64,
    /// Who: the principal's name.
    pub by: String,
}

/// Now, in milliseconds since the Unix epoch (0 for a clock set before 1970).
pub(crate) fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The detail of a settings write: `kind=value` for short values, the kind alone for the
/// JSON ones (metadata and rule sets), comma-separated.
pub(crate) fn settings_detail(values: &[(SettingKind, String)]) -> String {
    values
        .iter()
        .map(|(kind, value)| match kind {
            SettingKind::DefaultMetadata
            | SettingKind::OverrideMetadata
            | SettingKind::DefaultRuleSet
            | SettingKind::OverrideRuleSet => kind.as_str().to_owned(),
            _ => format!("{}={value}", kind.as_str()),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn actions_read_back_and_settings_pick_theirs() {
        for action in AuditAction::ALL {
            assert_eq!(action.as_str().parse::<AuditAction>().unwrap(), action);
        }
        assert!("drop-table".parse::<AuditAction>().is_err());
        assert_eq!(
            AuditAction::for_settings([SettingKind::Mode], true),
            AuditAction::SetMode
        );
        assert_eq!(
            AuditAction::for_settings([SettingKind::Compatibility], false),
            AuditAction::DeleteConfig
        );
    }

    #[test]
    fn settings_detail_leaves_json_values_out() {
        let detail = settings_detail(&[
            (SettingKind::Compatibility, "FULL".to_owned()),
            (
                SettingKind::DefaultMetadata,
                "{\"properties\":{}}".to_owned(),
            ),
        ]);
        assert_eq!(detail, "compatibility=FULL, defaultMetadata");
    }
}
