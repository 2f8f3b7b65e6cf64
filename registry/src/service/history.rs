//! A subject's history as its readers see it: for each version, the verdict the
//! compatibility engine gives it against the live versions before it, under the subject's
//! current level and compatibility group.

use std::sync::Arc;

use crate::schema::{CompatibilityLevel, Report};
use crate::storage::VersionRow;

use super::register::{Grouped, compare};
use super::{CachedSchema, Registry, ServiceError};

/// One version of a subject with its schema and its verdict.
#[derive(Debug, Clone)]
pub struct VersionVerdict {
    /// The version row.
    pub row: VersionRow,
    /// Its schema.
    pub schema: Arc<CachedSchema>,
    /// The engine's verdict against the live versions before it in its compatibility group
    /// (compatible, with no violations, for the first).
    pub report: Report,
}

/// A subject's versions, oldest first, with their verdicts.
#[derive(Debug, Clone)]
pub struct History {
    /// The level the verdicts were given under.
    pub level: CompatibilityLevel,
    /// The config's compatibility group, when versions are split by one.
    pub group: Option<String>,
    /// Every version, soft-deleted ones included.
    pub versions: Vec<VersionVerdict>,
}

impl Registry {
    /// The subject's versions (soft-deleted ones included), each judged against the live
    /// versions registered before it, as registering it now would be.
    pub async fn history(&self, subject: &str) -> Result<History, ServiceError> {
        let rows = self.versions(subject, true).await?;
        let level = self.effective_level(Some(subject)).await?;
        let group = self.effective_config(subject).await?.compatibility_group;
        let mut schemas = Vec::with_capacity(rows.len());
        for row in &rows {
            schemas.push(self.schema_by_id(row.schema_id).await?);
        }
        let mut versions = Vec::with_capacity(rows.len());
        for (index, (row, schema)) in rows.iter().zip(&schemas).enumerate() {
            let grouped = Grouped {
                key: group.as_deref(),
                metadata: schema.metadata.as_ref(),
            };
            let previous: Vec<(i32, Arc<CachedSchema>)> = rows[..index]
                .iter()
                .zip(&schemas)
                .filter(|(r, s)| !r.deleted && grouped.includes(s.metadata.as_ref()))
                .map(|(r, s)| (r.version, Arc::clone(s)))
                .collect();
            let report = compare(level, &schema.schema, &previous)?;
            versions.push(VersionVerdict {
                row: row.clone(),
                schema: Arc::clone(schema),
                report,
            });
        }
        Ok(History {
            level,
            group,
            versions,
        })
    }
}
