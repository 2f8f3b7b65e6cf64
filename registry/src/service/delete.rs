//! Deleting subjects and versions: the mode check, Confluent's soft-then-permanent rules
//! (see [`plan_delete`](crate::storage::plan_delete)) and forgetting cached schemas no
//! version holds any more.

use crate::storage::{DeleteTarget, StorageError};

use super::{Registry, ServiceError, check_subject, version_not_found};

impl Registry {
    /// Deletes `target` of `subject`, softly or permanently, for the principal `by` (each
    /// version deleted is audited); returns the versions deleted.
    pub async fn delete(
        &self,
        subject: &str,
        target: DeleteTarget,
        permanent: bool,
        by: &str,
    ) -> Result<Vec<i32>, ServiceError> {
        check_subject(subject)?;
        self.ensure_writable(subject).await?;
        let before = self.store().versions(subject).await?;
        if let DeleteTarget::Version(version) = target
            && !permanent
            && !before.iter().any(|r| !r.deleted)
        {
            if before.is_empty() {
                return Err(ServiceError::SubjectNotFound(subject.to_owned()));
            }
            if version.is_none() {
                return Err(ServiceError::SubjectSoftDeleted(subject.to_owned()));
            }
        }
        let deleted = self.store().delete(subject, target, permanent, by).await;
        self.cache().forget_lookups();
        let deleted = deleted.map_err(|err| deleting(err, subject, target))?;
        if permanent {
            let gone = before.iter().filter(|r| deleted.contains(&r.version));
            for row in gone {
                if self.store().usages(row.schema_id).await?.is_empty() {
                    self.cache().remove(row.schema_id);
                }
            }
        }
        Ok(deleted)
    }
}

/// A store error of a delete, with the subject and version named.
fn deleting(err: StorageError, subject: &str, target: DeleteTarget) -> ServiceError {
    let subject = subject.to_owned();
    let version = match target {
        DeleteTarget::Version(version) => version,
        DeleteTarget::Subject => None,
    };
    // Confluent names the latest version -1.
    let number = version.unwrap_or(-1);
    match err {
        StorageError::SubjectNotFound => ServiceError::SubjectNotFound(subject),
        StorageError::VersionNotFound => version_not_found(version),
        StorageError::SubjectSoftDeleted => ServiceError::SubjectSoftDeleted(subject),
        StorageError::SubjectNotSoftDeleted => ServiceError::SubjectNotSoftDeleted(subject),
        StorageError::VersionSoftDeleted => ServiceError::VersionSoftDeleted(subject, number),
        StorageError::VersionNotSoftDeleted => ServiceError::VersionNotSoftDeleted(subject, number),
        StorageError::ReferenceExists { version, by } => ServiceError::ReferenceExists {
            subject,
            version,
            by,
        },
        other => ServiceError::Store(other),
    }
}
