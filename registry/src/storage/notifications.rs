//! Changes committed by other registry processes on the same PostgreSQL database, so each
//! process can drop what it caches about them.
//!
//! Writers do nothing themselves: a trigger on `subject_versions` (migration
//! `0003_change_notifications.sql`) calls `pg_notify` in the deleting transaction, so a
//! rolled-back delete sends nothing, and any writer is covered. Each process holds one
//! `LISTEN` connection of its own ([`ChangeListener`]); reads never touch it.
//!
//! Notifications are not queued for a listener that is disconnected, so a lost connection
//! is reported as [`Notice::Lost`] (stop trusting the cache) and the next successful
//! `LISTEN` as [`Notice::Listening`] (drop everything cached, it may be stale).
//!
//! Only what is cached needs a notice: parsed schemas by id, and the answers of lookups,
//! which depend on subject versions and configs (`0005_write_notifications.sql` notifies
//! every write of either). Everything else is read from the database on every request.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgListener, PgPool, PgPoolOptions};
use sqlx::query_scalar;

use super::StorageError;

/// The channel the trigger notifies.
pub const CHANNEL: &str = "herald_registry";

/// The longest pause between attempts to listen again.
const MAX_RETRY: Duration = Duration::from_secs(5);

/// A change another process (or this one) committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// A version holding this schema id was permanently deleted: the id may no longer be
    /// served.
    SchemaDeleted(i64),
    /// Subject versions or settings were written (`0005_write_notifications.sql`): lookup
    /// answers may have changed.
    Written,
}

/// What a [`ChangeListener`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// Listening from now on. Changes made before may have been missed.
    Listening,
    /// Not listening any more: changes are being missed until the next `Listening`.
    Lost,
    /// A committed change.
    Changed(Change),
}

/// The change a notification payload (`schema:<id>:<table schema>`) describes, if it is
/// about the registry in `namespace`.
pub fn parse_payload(payload: &str, namespace: &str) -> Option<Change> {
    let mut parts = payload.splitn(3, ':');
    let (kind, id, schema) = (parts.next()?, parts.next()?, parts.next()?);
    if schema != namespace {
        return None;
    }
    match kind {
        "schema" => id.parse().ok().map(Change::SchemaDeleted),
        "write" => Some(Change::Written),
        _ => None,
    }
}

/// One process's `LISTEN` connection to the registry's PostgreSQL database.
#[derive(Debug)]
pub struct ChangeListener {
    pool: PgPool,
    namespace: String,
    listener: PgListener,
}

impl ChangeListener {
    /// Connects to `url` on a connection of its own (application name
    /// `herald listener <pid>`) and listens: once this returns, no change is missed until
    /// [`Notice::Lost`] is reported.
    pub async fn connect(url: &str) -> Result<Self, StorageError> {
        let options = PgConnectOptions::from_str(url)?
            .application_name(&format!("herald listener {}", std::process::id()));
        // Two: a dropped listener's connection may take a while to come back.
        let pool = PgPoolOptions::new()
            .max_connections(2)
            .min_connections(0)
            .max_lifetime(None)
            .idle_timeout(None)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        let mut listener = PgListener::connect_with(&pool).await?;
        let namespace: Option<String> = query_scalar("SELECT current_schema()")
            .fetch_one(&mut listener)
            .await?;
        let namespace = namespace.ok_or(StorageError::NoSchemaSelected)?;
        let listener = listen(listener).await?;
        Ok(ChangeListener {
            pool,
            namespace,
            listener,
        })
    }

    /// Reports every notice to `on`, forever: changes as they arrive, and `Lost` then
    /// `Listening` whenever the connection fails and is made again.
    pub async fn run(self, mut on: impl FnMut(Notice) + Send) {
        let ChangeListener {
            pool,
            namespace,
            mut listener,
        } = self;
        loop {
            match listener.try_recv().await {
                Ok(Some(notification)) => {
                    if let Some(change) = parse_payload(notification.payload(), &namespace) {
                        on(Notice::Changed(change));
                    }
                    continue;
                }
                Ok(None) => tracing::warn!("change listener lost its connection"),
                Err(err) => tracing::warn!(error = %err, "change listener failed"),
            }
            on(Notice::Lost);
            // Its connection goes back to the pool, which tests it before handing it out.
            drop(listener);
            listener = resubscribe(&pool).await;
            tracing::info!("change listener listening again; cache dropped");
            on(Notice::Listening);
        }
    }
}

/// A listener on [`CHANNEL`] over a connection of the pool.
async fn subscribe(pool: &PgPool) -> Result<PgListener, sqlx::Error> {
    listen(PgListener::connect_with(pool).await?).await
}

/// `listener`, listening on [`CHANNEL`].
async fn listen(mut listener: PgListener) -> Result<PgListener, sqlx::Error> {
    listener.ignore_pool_close_event(true);
    // A lost connection is reported at once; `resubscribe` makes the next one.
    listener.eager_reconnect(false);
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

/// [`subscribe`], retried with a growing pause until it succeeds.
async fn resubscribe(pool: &PgPool) -> PgListener {
    let mut pause = Duration::from_millis(50);
    loop {
        match subscribe(pool).await {
            Ok(listener) => return listener,
            Err(err) => tracing::warn!(error = %err, "change listener cannot listen yet"),
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(MAX_RETRY);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_of_this_namespace_only() {
        assert_eq!(
            parse_payload("schema:42:public", "public"),
            Some(Change::SchemaDeleted(42))
        );
        assert_eq!(
            parse_payload("schema:42:odd:name", "odd:name"),
            Some(Change::SchemaDeleted(42))
        );
        assert_eq!(parse_payload("schema:42:other", "public"), None);
        assert_eq!(parse_payload("schema:x:public", "public"), None);
        assert_eq!(parse_payload("config:42:public", "public"), None);
        assert_eq!(parse_payload("garbage", "public"), None);
        assert_eq!(
            parse_payload("write:0:public", "public"),
            Some(Change::Written)
        );
        assert_eq!(parse_payload("write:0:other", "public"), None);
    }
}
