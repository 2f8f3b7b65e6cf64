//! Leases: one runner per projection, projection partition and relay across replicas.
//!
//! Every replica of a service runs the same projections and relays; a lease per name, held in
//! the database, decides which replica actually works. A lease is a row of `herald_leases`
//! (name, holder, fencing token, expiry on the database's clock): a replica takes it when it
//! is free or expired (the token goes up by one), renews it every
//! [`LeaseOptions::heartbeat`] and gives it back on shutdown; a replica that dies or stalls
//! stops renewing and another one takes over once [`LeaseOptions::ttl`] has passed.
//!
//! **Fencing.** A holder that stalls (a long pause, a `SIGSTOP`) may wake up after another
//! replica took its lease. Expiry alone cannot stop it, so every checkpoint a leased runner
//! writes is written in a transaction that first reads the lease row under a lock and
//! commits only if the token is still the one it was given ([`LeaseError::Lost`] otherwise).
//! For a SQL read model that same transaction holds the batch's writes, so a stale holder
//! cannot apply an event twice; for the relay it keeps the checkpoint from moving backwards,
//! and JetStream's duplicate window drops what a stale holder re-publishes. On PostgreSQL a
//! fenced transaction also sets `idle_in_transaction_session_timeout` to the TTL, so a
//! holder stalled inside one loses its connection (and its row locks) instead of blocking
//! the replica that took over.
//!
//! Why a lease row and not an advisory lock: the lock would live on one connection, which
//! a pool does not pin, and it says nothing to a holder that already lost it. The row's
//! token is checked by the very transaction that commits, whichever connection it runs on,
//! and the row answers "who runs what" for [`status`](crate::status) on any backend.
//!
//! SQLite: the same rule between processes sharing the file (the expiry is on their common
//! clock). A process stalled inside a write transaction blocks every writer of the file
//! until it resumes, leases included.
//!
//! **Sharing.** A replica holding `n` leases tries for a free one every `(n + 1)` retry
//! periods, and its runners take turns trying, so replicas holding fewer leases take the
//! free ones first. For the partitions of a projection (leases named `<name>#<k>`), a replica
//! that waits for one asks for it (`wanted_by`) when its holder has at least two more of them
//! than the asker; the holder's heartbeat sees the request, its runner ends the batch it is
//! in with [`Ended::Yielded`] and gives the lease back (one lease per replica per TTL), and
//! for one TTL only the asker may take it. So partitions spread over the replicas, including
//! one that joins later.
//!
//! **Cost:** one `UPDATE` per held lease per heartbeat, one `INSERT ... ON CONFLICT` (and for
//! a partition one `UPDATE` asking for it) per waiting lease per [`LeaseOptions::retry`] or
//! longer, and one locked row read per committed batch.
//! Takeover after a crash takes at most `ttl + retry`.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::sql::checkpoints::CheckpointTable;
use crate::sql::leases::LeaseTable;
use crate::store::StoreError;

/// How long a lease lasts and how often it is renewed and tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseOptions {
    /// How long a lease lasts without renewal: how long a dead holder blocks takeover.
    pub ttl: Duration,
    /// How often a holder renews (about a third of `ttl`, so that two renewals may fail).
    pub heartbeat: Duration,
    /// How often a replica without the lease tries to take it.
    pub retry: Duration,
}

impl Default for LeaseOptions {
    fn default() -> Self {
        LeaseOptions::with_ttl(Duration::from_millis(2500))
    }
}

impl LeaseOptions {
    /// Options for `ttl`: a heartbeat every `ttl / 3`, a standby retry every `ttl / 5`.
    pub fn with_ttl(ttl: Duration) -> Self {
        LeaseOptions {
            ttl,
            heartbeat: ttl / 3,
            retry: ttl / 5,
        }
    }
}

/// Why a lease operation failed.
#[derive(Debug, thiserror::Error)]
pub enum LeaseError {
    /// The lease expired or another holder took it: this runner must stop.
    #[error("lease `{name}` lost (fencing token {token} is no longer current)")]
    Lost {
        /// The lease.
        name: String,
        /// The token this runner held.
        token: u64,
    },
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for LeaseError {
    fn from(error: sqlx::Error) -> Self {
        LeaseError::Store(StoreError::Database(error))
    }
}

/// The database holding the leases (and the checkpoints they fence): SQLite or PostgreSQL.
#[derive(Debug, Clone)]
pub enum LeasePool {
    /// A SQLite database.
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::SqlitePool),
    /// A PostgreSQL database.
    #[cfg(feature = "postgres")]
    Postgres(sqlx::PgPool),
}

#[cfg(feature = "sqlite")]
impl From<sqlx::SqlitePool> for LeasePool {
    fn from(pool: sqlx::SqlitePool) -> Self {
        LeasePool::Sqlite(pool)
    }
}

#[cfg(feature = "postgres")]
impl From<sqlx::PgPool> for LeasePool {
    fn from(pool: sqlx::PgPool) -> Self {
        LeasePool::Postgres(pool)
    }
}

/// Runs the same generic call on whichever backend `$pool` is:
/// `on_backend!(&self.pool, |pool| LeaseTable::acquire(pool, …).await)`.
macro_rules! on_backend {
    ($pool:expr, |$p:ident| $call:expr) => {
        match $pool {
            #[cfg(feature = "sqlite")]
            LeasePool::Sqlite($p) => $call,
            #[cfg(feature = "postgres")]
            LeasePool::Postgres($p) => $call,
        }
    };
}

/// A lease as the database holds it, for [`status`](crate::status).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseState {
    /// The lease's name (the runner's checkpoint name).
    pub name: String,
    /// Who holds or last held it.
    pub holder: String,
    /// The fencing token: how many times the lease was taken.
    pub token: u64,
    /// How long it still lasts without renewal (`None`: expired, free to take).
    pub expires_in: Option<Duration>,
}

/// A replica's handle on the lease table of one database; cheap to clone.
///
/// The leases must live in the database of the checkpoints they fence: the store's for a
/// relay or a [`ProjectionRunner`](crate::projection::ProjectionRunner), the read model's
/// for a [`SqlProjectionRunner`](crate::projection::sql::SqlProjectionRunner). Both need
/// Herald's migrations (`herald_leases`).
#[derive(Debug, Clone)]
pub struct Leases {
    pool: LeasePool,
    holder: Arc<str>,
    options: LeaseOptions,
    /// How many leases this replica holds.
    held: Arc<AtomicUsize>,
    /// Taken while trying, so that this replica's runners try one after another.
    turn: Arc<tokio::sync::Mutex<()>>,
    /// When this replica last gave a lease back on request.
    last_yield: Arc<Mutex<Option<Instant>>>,
}

impl Leases {
    /// Leases in `pool`, taken in the name of `holder` (unique per replica, e.g. host and
    /// process id), with default options.
    pub fn new(pool: impl Into<LeasePool>, holder: impl Into<String>) -> Self {
        Leases {
            pool: pool.into(),
            holder: holder.into().into(),
            options: LeaseOptions::default(),
            held: Arc::default(),
            turn: Arc::default(),
            last_yield: Arc::default(),
        }
    }

    /// Sets the options.
    pub fn with_options(mut self, options: LeaseOptions) -> Self {
        self.options = options;
        self
    }

    /// This replica's name as a holder.
    pub fn holder(&self) -> &str {
        &self.holder
    }

    /// The options.
    pub fn options(&self) -> LeaseOptions {
        self.options
    }

    /// The database.
    pub fn pool(&self) -> &LeasePool {
        &self.pool
    }

    /// Takes lease `name` if it is free or expired, and creates the checkpoint `name` at 0
    /// if it does not exist (so two first runs lock the same row). The returned [`Lease`]
    /// renews itself in a background task until dropped or released.
    pub async fn try_acquire(&self, name: &str) -> Result<Option<Lease>, LeaseError> {
        let ttl = micros(self.options.ttl);
        let asked = Instant::now();
        let token = on_backend!(&self.pool, |pool| {
            LeaseTable::acquire(pool, name, &self.holder, ttl).await?
        });
        Ok(token.map(|token| Lease::start(self.clone(), name, token, asked)))
    }

    /// How many leases this replica (this `Leases` and its clones) holds.
    pub fn held(&self) -> usize {
        self.held.load(Ordering::Relaxed)
    }

    /// Waits for lease `name`, trying every [`LeaseOptions::retry`] while this replica
    /// holds no lease and every `n + 1` retries while it holds `n`; `None` if `shutdown`
    /// completes first.
    pub async fn acquire(
        &self,
        name: &str,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<Option<Lease>, LeaseError> {
        tokio::pin!(shutdown);
        let retries = |held: usize| u32::try_from(held).unwrap_or(u32::MAX);
        let mut due: Option<Instant> = None;
        loop {
            {
                let _turn = self.turn.lock().await;
                let held = self.held();
                let now = Instant::now();
                let next = *due.get_or_insert_with(|| now + self.options.retry * retries(held));
                if held == 0 || now >= next {
                    if let Some(lease) = self.try_acquire(name).await? {
                        return Ok(Some(lease));
                    }
                    on_backend!(&self.pool, |pool| {
                        LeaseTable::request(pool, name, &self.holder).await?
                    });
                    due = Some(now + self.options.retry * retries(held + 1));
                }
            }
            tokio::select! {
                () = &mut shutdown => return Ok(None),
                () = tokio::time::sleep(self.options.retry) => {}
            }
        }
    }

    /// Every lease in the database, by name.
    pub async fn states(&self) -> Result<Vec<LeaseState>, LeaseError> {
        on_backend!(&self.pool, |pool| LeaseTable::states(pool).await)
    }

    /// Every checkpoint in the database (name, position), by name.
    pub async fn checkpoints(&self) -> Result<Vec<(String, u64)>, LeaseError> {
        Ok(on_backend!(&self.pool, |pool| CheckpointTable::all(pool).await)?)
    }
}

/// What a fenced transaction checks: lease `name` still has token `token`.
#[derive(Debug, Clone)]
pub struct Fence {
    pub(crate) leases: Leases,
    pub(crate) name: Arc<str>,
    pub(crate) token: u64,
}

impl Fence {
    /// The lease's (and checkpoint's) name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The fencing token.
    pub fn token(&self) -> u64 {
        self.token
    }

    /// The error for a fence that no longer holds.
    pub(crate) fn lost(&self) -> LeaseError {
        LeaseError::Lost {
            name: self.name.to_string(),
            token: self.token,
        }
    }

    /// Writes checkpoint `position` in a transaction that commits only if the lease still
    /// has this token.
    pub async fn save_checkpoint(&self, position: u64) -> Result<(), LeaseError> {
        let ttl = self.leases.options.ttl;
        on_backend!(&self.leases.pool, |pool| {
            LeaseTable::save_checkpoint(pool, self, position, ttl).await
        })
    }
}

/// A lease this replica holds: renewed in the background until released or dropped.
#[derive(Debug)]
pub struct Lease {
    fence: Fence,
    valid_until: Arc<Mutex<Instant>>,
    wanted: Arc<AtomicBool>,
    heartbeat: tokio::task::JoinHandle<()>,
}

impl Lease {
    fn start(leases: Leases, name: &str, token: u64, asked: Instant) -> Lease {
        let options = leases.options;
        let fence = Fence {
            leases,
            name: name.into(),
            token,
        };
        let valid_until = Arc::new(Mutex::new(asked + options.ttl));
        let wanted = Arc::new(AtomicBool::new(false));
        let heartbeat = tokio::spawn(renew(fence.clone(), valid_until.clone(), wanted.clone()));
        fence.leases.held.fetch_add(1, Ordering::Relaxed);
        Lease {
            fence,
            valid_until,
            wanted,
            heartbeat,
        }
    }

    /// The lease's name (also its runner's checkpoint name).
    pub fn name(&self) -> &str {
        self.fence.name()
    }

    /// The fencing token.
    pub fn token(&self) -> u64 {
        self.fence.token
    }

    /// What a fenced transaction of this lease checks.
    pub fn fence(&self) -> &Fence {
        &self.fence
    }

    /// Whether the lease is still held as far as this replica knows: the last renewal that
    /// succeeded was less than a TTL ago (on the local monotonic clock, which a `SIGSTOP`
    /// does not stop). A fenced commit is still checked against the database.
    pub fn is_valid(&self) -> bool {
        Instant::now()
            < *self
                .valid_until
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
    }

    /// [`LeaseError::Lost`] unless [`Lease::is_valid`].
    pub fn check(&self) -> Result<(), LeaseError> {
        if self.is_valid() {
            Ok(())
        } else {
            Err(self.fence.lost())
        }
    }

    /// [`LeaseError::Lost`] unless the lease stays valid for at least `needed` more: what a
    /// runner checks before work that may take effect up to `needed` later (a relay's sends
    /// in flight), so that it cannot take effect after another replica took over.
    pub fn check_for(&self, needed: Duration) -> Result<(), LeaseError> {
        let valid_until = *self
            .valid_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if Instant::now() + needed < valid_until {
            Ok(())
        } else {
            Err(self.fence.lost())
        }
    }

    /// Whether to give the lease back now ([`Ended::Yielded`]): a replica holding at least two
    /// fewer partitions of the same projection asked for it, and this replica has not given
    /// one back within the last TTL. Answers `true` once per such request.
    pub fn should_yield(&self) -> bool {
        if !self.wanted.load(Ordering::Relaxed) {
            return false;
        }
        let ttl = self.fence.leases.options.ttl;
        let mut last = self
            .fence
            .leases
            .last_yield
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        if last.is_some_and(|at| now.duration_since(at) < ttl) {
            return false;
        }
        *last = Some(now);
        self.wanted.store(false, Ordering::Relaxed);
        true
    }

    /// Stops renewing and expires the lease now, so another replica takes over at once (the
    /// replica that asked for it, if one did).
    pub async fn release(self) -> Result<(), LeaseError> {
        self.heartbeat.abort();
        on_backend!(&self.fence.leases.pool, |pool| {
            LeaseTable::release(pool, &self.fence).await
        })
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.heartbeat.abort();
        self.fence.leases.held.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The heartbeat: renews every `heartbeat`, extending the local deadline from the moment
/// each renewal was sent; stops (and expires the deadline) once the token is gone.
async fn renew(fence: Fence, valid_until: Arc<Mutex<Instant>>, wanted: Arc<AtomicBool>) {
    let options = fence.leases.options;
    loop {
        tokio::time::sleep(options.heartbeat).await;
        let asked = Instant::now();
        let renewed = on_backend!(&fence.leases.pool, |pool| {
            LeaseTable::renew(pool, &fence, micros(options.ttl)).await
        });
        let mut deadline = valid_until.lock().unwrap_or_else(PoisonError::into_inner);
        match renewed {
            Ok(Some(asked_for)) => {
                *deadline = asked + options.ttl;
                wanted.store(asked_for, Ordering::Relaxed);
            }
            Ok(None) => {
                *deadline = asked;
                tracing::warn!(lease = %fence.name, token = fence.token, "lease lost");
                return;
            }
            Err(error) => {
                tracing::warn!(lease = %fence.name, %error, "renewing the lease failed; retrying");
            }
        }
    }
}

/// How a leased run ended without an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The shutdown future completed.
    Shutdown,
    /// The lease was lost (expired or taken over): go back to waiting for it.
    Lost,
    /// Another replica asked for the lease ([`Lease::should_yield`]): release it, then go
    /// back to waiting for it.
    Yielded,
}

/// `duration` in microseconds, as the lease table counts.
fn micros(duration: Duration) -> i64 {
    i64::try_from(duration.as_micros()).unwrap_or(i64::MAX)
}
