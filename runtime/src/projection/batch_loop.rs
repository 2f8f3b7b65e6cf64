//! The one batch loop behind both runners: catch up, rebuild and follow the log.
//!
//! A runner says how to process one batch, read its checkpoint and reset its projection
//! ([`Batches`]); [`Runner`] does the rest the same way for both.

use std::future::Future;
use std::time::Instant;

use crate::projection::{Progress, ProjectionError, RunnerOptions};

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
}

impl<R: Batches> Runner for R {}

/// What the loop needs from a runner. Public in a private module: it seals [`Runner`].
///
/// Every method takes `&mut self`: a projection is `Send` but need not be `Sync`.
pub trait Batches: Send {
    /// The runner's options.
    fn options(&mut self) -> &mut RunnerOptions;

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
