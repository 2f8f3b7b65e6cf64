//! The one batch loop behind both runners: catch up, rebuild and follow the log.
//!
//! A runner says how to process one batch, read its checkpoint and reset its projection
//! ([`Batches`]); [`Runner`] does the rest the same way for both.

use std::future::Future;
use std::time::Instant;

#[cfg(any(feature = "sqlite", feature = "postgres"))]
use crate::lease::{Ended, Fence, Lease, LeaseError, Leases};
use crate::projection::{Partition, Progress, ProjectionError, RunnerOptions};

/// The batch loop of [`ProjectionRunner`](crate::projection::ProjectionRunner) and
/// [`SqlProjectionRunner`](crate::projection::sql::SqlProjectionRunner), written once.
///
/// Implemented by those two runners only.
pub trait Runner: Batches {
    /// Sets the options (default: [`RunnerOptions::default`]).
    fn with_options(mut self, options: RunnerOptions) -> Self
    where
        Self: Sized,
    {
        *self.options() = options;
        self
    }

    /// Handles only `partition` of the log, with its own checkpoint (and lease) named
    /// `<projection>#<index>` (default: [`Partition::ALL`]).
    fn with_partition(mut self, partition: Partition) -> Self
    where
        Self: Sized,
    {
        self.set_partition(partition);
        self
    }

    /// Processes batches until caught up with the head as it was at the start, reporting
    /// progress after each (committed) batch; returns the checkpoint reached.
    fn catch_up(
        &mut self,
        progress: impl FnMut(&Progress) + Send,
    ) -> impl Future<Output = Result<u64, ProjectionError>> + Send
    where
        Self: Sized,
    {
        catch_up(self, progress)
    }

    /// Resets the projection and its checkpoint, then replays from position 1.
    fn rebuild(
        &mut self,
        progress: impl FnMut(&Progress) + Send,
    ) -> impl Future<Output = Result<u64, ProjectionError>> + Send
    where
        Self: Sized,
    {
        rebuild(self, progress)
    }

    /// Follows the log until `shutdown` completes, polling every
    /// [`RunnerOptions::poll_interval`] when caught up.
    fn run(
        &mut self,
        shutdown: impl Future<Output = ()> + Send,
    ) -> impl Future<Output = Result<(), ProjectionError>> + Send
    where
        Self: Sized,
    {
        run(self, shutdown)
    }

    /// Follows the log while `lease` (this runner's checkpoint name) is held, every checkpoint
    /// fenced by it; returns [`Ended::Lost`] once the lease is lost (the uncommitted batch is
    /// rolled back), [`Ended::Yielded`] when another replica asked for it (release it),
    /// [`Ended::Shutdown`] when `shutdown` completes. A batch the database
    /// rolled back for a deadlock or a serialization failure (partitions updating the same
    /// rows) is retried with jittered backoff as long as it takes; any other failure up to
    /// [`RunnerOptions::max_attempts`] times with backoff, then returned.
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    fn run_held(
        &mut self,
        lease: &Lease,
        shutdown: impl Future<Output = ()> + Send,
    ) -> impl Future<Output = Result<Ended, ProjectionError>> + Send
    where
        Self: Sized,
    {
        run_held(self, lease, shutdown)
    }

    /// Runs on this replica whenever it holds the lease named after the runner's checkpoint
    /// (waiting for it, following the log with [`Runner::run_held`], waiting again once it
    /// is lost), until `shutdown` completes; then gives the lease back.
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    fn run_leased(
        &mut self,
        leases: &Leases,
        shutdown: impl Future<Output = ()> + Send,
    ) -> impl Future<Output = Result<(), ProjectionError>> + Send
    where
        Self: Sized,
    {
        run_leased(self, leases, shutdown)
    }
}

impl<R: Batches> Runner for R {}

/// What the loop needs from a runner. Public in a private module: it seals [`Runner`].
///
/// Every method takes `&mut self`: a projection is `Send` but need not be `Sync`.
pub trait Batches: Send {
    /// The runner's options.
    fn options(&mut self) -> &mut RunnerOptions;

    /// The name of its checkpoint (and lease): the projection's, `#k` for a partition.
    fn checkpoint_name(&self) -> String;

    /// Sets the partition it handles.
    fn set_partition(&mut self, partition: Partition);

    /// Fences every checkpoint the runner writes from now on (`None`: unfenced).
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    fn set_fence(&mut self, fence: Option<Fence>);

    /// The projection's committed checkpoint and the store's head position.
    fn checkpoint_and_head(
        &mut self,
    ) -> impl Future<Output = Result<(u64, u64), ProjectionError>> + Send;

    /// Processes one batch after the checkpoint; returns how many events were read (0:
    /// caught up) and the checkpoint reached.
    fn next_batch(&mut self) -> impl Future<Output = Result<(usize, u64), ProjectionError>> + Send;

    /// Clears the projection and sets its checkpoint to 0.
    fn reset(&mut self) -> impl Future<Output = Result<(), ProjectionError>> + Send;
}

async fn catch_up<R: Batches>(
    runner: &mut R,
    mut progress: impl FnMut(&Progress) + Send,
) -> Result<u64, ProjectionError> {
    let (start, head) = runner.checkpoint_and_head().await?;
    let tracker = ProgressTracker::new(start, head);
    loop {
        let (read, checkpoint) = runner.next_batch().await?;
        progress(&tracker.at(checkpoint));
        if read == 0 || checkpoint >= head {
            return Ok(checkpoint);
        }
    }
}

async fn rebuild<R: Batches>(
    runner: &mut R,
    progress: impl FnMut(&Progress) + Send,
) -> Result<u64, ProjectionError> {
    runner.reset().await?;
    catch_up(runner, progress).await
}

async fn run<R: Batches>(
    runner: &mut R,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), ProjectionError> {
    tokio::pin!(shutdown);
    let poll_interval = runner.options().poll_interval;
    loop {
        let (read, _) = runner.next_batch().await?;
        if read == 0 {
            tokio::select! {
                () = &mut shutdown => return Ok(()),
                () = tokio::time::sleep(poll_interval) => {}
            }
        }
    }
}

#[cfg(any(feature = "sqlite", feature = "postgres"))]
async fn run_held<R: Batches>(
    runner: &mut R,
    lease: &Lease,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<Ended, ProjectionError> {
    runner.set_fence(Some(lease.fence().clone()));
    let ended = follow_held(runner, lease, shutdown).await;
    runner.set_fence(None);
    ended
}

#[cfg(any(feature = "sqlite", feature = "postgres"))]
async fn follow_held<R: Batches>(
    runner: &mut R,
    lease: &Lease,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<Ended, ProjectionError> {
    tokio::pin!(shutdown);
    let options = *runner.options();
    let (mut failures, mut transient) = (0, 0_u32);
    loop {
        if !lease.is_valid() {
            return Ok(Ended::Lost);
        }
        if lease.should_yield() {
            return Ok(Ended::Yielded);
        }
        let wait = match runner.next_batch().await {
            Ok((read, _)) => {
                (failures, transient) = (0, 0);
                if read == 0 {
                    options.poll_interval
                } else {
                    std::time::Duration::ZERO
                }
            }
            Err(ProjectionError::Lease(LeaseError::Lost { .. })) => return Ok(Ended::Lost),
            Err(error) if is_transient(&error) => {
                transient = transient.saturating_add(1);
                tracing::warn!(runner = lease.name(), %error, "batch rolled back; retrying");
                jittered(options.backoff(transient))
            }
            Err(error) if failures + 1 < options.max_attempts => {
                failures += 1;
                tracing::warn!(runner = lease.name(), failures, %error, "batch failed; retrying");
                options.backoff(failures)
            }
            Err(error) => return Err(error),
        };
        tokio::select! {
            biased;
            () = &mut shutdown => return Ok(Ended::Shutdown),
            () = tokio::time::sleep(wait) => {}
        }
    }
}

/// Whether the database rolled the batch back only because of another transaction (a
/// deadlock or a serialization failure): retrying it is always right, and one of the
/// transactions involved always went through.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
fn is_transient(error: &ProjectionError) -> bool {
    let mut cause = std::error::Error::source(error);
    while let Some(error) = cause {
        if let Some(database) = error
            .downcast_ref::<sqlx::Error>()
            .and_then(sqlx::Error::as_database_error)
        {
            return matches!(database.code().as_deref(), Some("40P01" | "40001"));
        }
        cause = error.source();
    }
    false
}

/// `wait` scaled by a random factor in [0.5, 1.5), so that two runners that collided do
/// not retry in step.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
fn jittered(wait: std::time::Duration) -> std::time::Duration {
    let random = uuid::Uuid::now_v7().as_bytes()[15];
    wait.mul_f64(0.5 + f64::from(random) / 256.0)
}

#[cfg(any(feature = "sqlite", feature = "postgres"))]
async fn run_leased<R: Batches>(
    runner: &mut R,
    leases: &Leases,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), ProjectionError> {
    tokio::pin!(shutdown);
    let name = runner.checkpoint_name();
    loop {
        let Some(lease) = leases.acquire(&name, &mut shutdown).await? else {
            return Ok(());
        };
        tracing::info!(runner = %name, token = lease.token(), "lease taken");
        match run_held(runner, &lease, &mut shutdown).await {
            Ok(Ended::Lost) => tracing::warn!(runner = %name, "lease lost"),
            Ok(Ended::Yielded) => {
                tracing::info!(runner = %name, "lease given back on request");
                lease.release().await?;
            }
            Ok(Ended::Shutdown) => return Ok(lease.release().await?),
            Err(error) => {
                if let Err(release) = lease.release().await {
                    tracing::warn!(runner = %name, error = %release, "releasing the lease failed");
                }
                return Err(error);
            }
        }
    }
}

/// Tracks [`Progress`] through a run.
#[derive(Debug, Clone, Copy)]
struct ProgressTracker {
    start_position: u64,
    total: u64,
    started: Instant,
}

impl ProgressTracker {
    fn new(checkpoint: u64, head: u64) -> Self {
        ProgressTracker {
            start_position: checkpoint,
            total: head.saturating_sub(checkpoint),
            started: Instant::now(),
        }
    }

    fn at(&self, checkpoint: u64) -> Progress {
        Progress {
            done: checkpoint
                .saturating_sub(self.start_position)
                .min(self.total),
            total: self.total,
            elapsed: self.started.elapsed(),
        }
    }
}
