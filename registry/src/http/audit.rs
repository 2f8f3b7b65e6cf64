//! `GET /audit`: the audit log, for the `admin` role only (everyone is an admin on a server
//! without credentials). Oldest first, paged by id: `after` the last id seen, `next` the id to
//! ask after for the following page.

use axum::extract::State;
use axum::response::Response;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::server::{AppState, Error, ErrorBody, Principal, Role};
use crate::service::utc_text;
use crate::storage::AuditEntry;

use super::body::{Params, reply};

/// Entries a page holds when `limit` does not say.
pub const DEFAULT_LIMIT: i64 = 100;
/// The most entries a page holds.
pub const MAX_LIMIT: i64 = 1000;

/// The audit route.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(audit))
}

/// One write, as the audit log answers it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditAnswer {
    /// Its place in the log; ids grow in the order written.
    pub id: i64,
    /// When, as an RFC 3339 UTC timestamp.
    pub at: String,
    /// When, in milliseconds since the Unix epoch.
    pub ts: i64,
    /// Who: the principal's name (`anonymous` on a server without credentials).
    pub principal: String,
    /// What: register, delete-version, delete-subject, set-config, delete-config, set-mode,
    /// delete-mode, or for the DEK registry create-kek, update-kek, delete-kek, undelete-kek,
    /// create-dek, delete-dek or undelete-dek.
    pub action: String,
    /// The subject; null for a global setting or a KEK.
    pub subject: Option<String>,
    /// The version registered or deleted.
    pub version: Option<i32>,
    /// That version's schema id.
    pub schema_id: Option<i64>,
    /// A short detail: the settings and values, `soft` or `permanent`, the schema type.
    pub detail: Option<String>,
}

impl From<AuditEntry> for AuditAnswer {
    fn from(entry: AuditEntry) -> Self {
        AuditAnswer {
            id: entry.id,
            at: utc_text(entry.at),
            ts: entry.at,
            principal: entry.principal,
            action: entry.action.as_str().to_owned(),
            subject: entry.subject,
            version: entry.version,
            schema_id: entry.schema_id,
            detail: entry.detail,
        }
    }
}

/// A page of the audit log.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    /// The entries, oldest first.
    pub entries: Vec<AuditAnswer>,
    /// The `after` of the next page; null when this one is the last so far.
    pub next: Option<i64>,
}

/// Refuses a principal that is not an admin.
pub(crate) fn require_admin(principal: &Principal) -> Result<(), Error> {
    if principal.role == Role::Admin {
        Ok(())
    } else {
        Err(Error::Forbidden(
            "the audit log needs the admin role".to_owned(),
        ))
    }
}

/// `after` and `limit` of an audit page: `after` at least 0, `limit` in [1, MAX_LIMIT] (out
/// of range means the nearest bound); a value that is not an integer is 400.
pub(crate) fn audit_paging(params: &Params) -> Result<(i64, i64), Error> {
    let int = |name: &str, default: i64| -> Result<i64, Error> {
        match params.get(name) {
            None => Ok(default),
            Some(text) => text
                .trim()
                .parse()
                .map_err(|_| Error::BadRequest(format!("`{name}` must be an integer"))),
        }
    };
    let after = int("after", 0)?.max(0);
    let limit = int("limit", DEFAULT_LIMIT)?.clamp(1, MAX_LIMIT);
    Ok((after, limit))
}

/// A page of entries after `after`, and the cursor of the next one (when the page is full).
pub(crate) async fn audit_page(
    state: &AppState,
    after: i64,
    limit: i64,
) -> Result<AuditPage, Error> {
    let entries = state.store().audit_log(after, limit).await?;
    let full = i64::try_from(entries.len()).is_ok_and(|len| len >= limit);
    let next = full.then(|| entries.last().map(|e| e.id)).flatten();
    Ok(AuditPage {
        entries: entries.into_iter().map(AuditAnswer::from).collect(),
        next,
    })
}

#[utoipa::path(
    get,
    path = "/audit",
    tag = "audit",
    params(
        ("after" = Option<i64>, Query, description = "Only entries with a greater id (the `next` of the previous page); 0 by default"),
        ("limit" = Option<i64>, Query, description = "At most this many entries (1 to 1000, 100 by default)"),
    ),
    responses(
        (status = 200, description = "Entries of the audit log, oldest first, and the cursor of the next page", body = AuditPage),
        (status = 403, description = "The credentials' role is not admin", body = ErrorBody),
    ),
)]
async fn audit(
    State(state): State<AppState>,
    principal: Principal,
    params: Params,
) -> Result<Response, Error> {
    require_admin(&principal)?;
    let (after, limit) = audit_paging(&params)?;
    reply(&audit_page(&state, after, limit).await?)
}
