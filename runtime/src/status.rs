//! Who runs what, and how far behind: per projection, projection partition, saga and relay,
//! the lease holder, fencing token, checkpoint and lag, and per saga its instances by state
//! with the age of the oldest unfinished one, as a [`Status`] and as Prometheus text a service
//! serves on its own metrics endpoint.
//!
//! ```no_run
//! # async fn example(store: herald::store::sqlite::SqliteStore) -> Result<(), herald::lease::LeaseError> {
//! use herald::lease::Leases;
//! let leases = Leases::new(store.pool().clone(), "replica-1");
//! let status = herald::status::status(&store, &leases).await?;
//! println!("{}", status.prometheus());
//! # Ok(())
//! # }
//! ```

use std::fmt::Write;

use crate::lease::{LeaseError, LeaseState, Leases};
use crate::projection::{Lag, lag};
use crate::saga::{SagaCounts, SagaStore};

/// One runner (a checkpoint name): its lease and its lag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunnerStatus {
    /// The checkpoint's (and lease's) name: `order_summary`, `order_summary#2`, `relay:ORDERS`.
    pub name: String,
    /// Its lease, if it ever ran leased.
    pub lease: Option<LeaseState>,
    /// Its lag behind the head of the log. For a partition, the age is that of the next
    /// event in the log, which may belong to another partition: an upper bound.
    pub lag: Lag,
}

/// Every runner with a checkpoint or a lease in a database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// The head position of the log.
    pub head: u64,
    /// The runners, by name.
    pub runners: Vec<RunnerStatus>,
    /// The sagas (every runner named `saga-<name>`), by name.
    pub sagas: Vec<SagaCounts>,
}

/// The status of every runner whose checkpoint or lease is in `leases`' database, with lag
/// measured against `store`.
pub async fn status<S: SagaStore>(store: &S, leases: &Leases) -> Result<Status, LeaseError> {
    let mut states = leases.states().await?;
    let mut runners = Vec::new();
    for (name, checkpoint) in leases.checkpoints().await? {
        let lease = states
            .iter()
            .position(|state| state.name == name)
            .map(|index| states.swap_remove(index));
        let lag = lag(store, checkpoint).await?;
        runners.push(RunnerStatus { name, lease, lag });
    }
    for lease in states {
        let lag = lag(store, 0).await?;
        runners.push(RunnerStatus {
            name: lease.name.clone(),
            lease: Some(lease),
            lag,
        });
    }
    runners.sort_by(|a, b| a.name.cmp(&b.name));
    let mut sagas = Vec::new();
    let now = crate::saga::now_micros();
    for runner in &runners {
        let Some(saga) = runner.name.strip_prefix("saga-") else {
            continue;
        };
        let saga = saga.split('#').next().unwrap_or(saga);
        if sagas.iter().all(|counts: &SagaCounts| counts.saga != saga) {
            sagas.push(store.saga_counts(saga, now).await?);
        }
    }
    Ok(Status {
        head: store.head_position().await?,
        runners,
        sagas,
    })
}

impl Status {
    /// The status in the Prometheus text exposition format (version 0.0.4): gauges
    /// `herald_head_position`, `herald_checkpoint_position`, `herald_lag_events`,
    /// `herald_lag_seconds` (0 when caught up), `herald_lease_token` and `herald_lease_held`
    /// (1 while unexpired), labelled with the runner's `name` (and the lease's `holder`).
    pub fn prometheus(&self) -> String {
        let mut out = String::new();
        gauge(
            &mut out,
            "herald_head_position",
            "Head position of the event log.",
        );
        let _ = writeln!(out, "herald_head_position {}", self.head);
        self.per_runner(
            &mut out,
            "herald_checkpoint_position",
            "Last position processed by the runner.",
            |runner| runner.lag.checkpoint.to_string(),
        );
        self.per_runner(
            &mut out,
            "herald_lag_events",
            "Positions between the runner's checkpoint and the head.",
            |runner| runner.lag.positions.to_string(),
        );
        self.per_runner(
            &mut out,
            "herald_lag_seconds",
            "Age of the oldest event the runner has not processed.",
            |runner| {
                let age = runner.lag.oldest_unprocessed_age.unwrap_or_default();
                format!("{:.3}", age.as_secs_f64())
            },
        );
        let leased = || self.runners.iter().filter_map(|r| r.lease.as_ref());
        gauge(
            &mut out,
            "herald_lease_token",
            "Fencing token of the runner's lease.",
        );
        for lease in leased() {
            let _ = writeln!(out, "herald_lease_token{} {}", labels(lease), lease.token);
        }
        gauge(
            &mut out,
            "herald_lease_held",
            "1 while the lease is unexpired.",
        );
        for lease in leased() {
            let held = u8::from(lease.expires_in.is_some());
            let _ = writeln!(out, "herald_lease_held{} {held}", labels(lease));
        }
        out.push_str(&crate::saga::prometheus(&self.sagas));
        out
    }
}

impl Status {
    /// One gauge with a sample per runner, labelled with its name.
    fn per_runner(
        &self,
        out: &mut String,
        metric: &str,
        help: &str,
        value: impl Fn(&RunnerStatus) -> String,
    ) {
        gauge(out, metric, help);
        for runner in &self.runners {
            let name = escape(&runner.name);
            let _ = writeln!(out, "{metric}{{name=\"{name}\"}} {}", value(runner));
        }
    }
}

fn gauge(out: &mut String, metric: &str, help: &str) {
    let _ = writeln!(out, "# HELP {metric} {help}\n# TYPE {metric} gauge");
}

fn labels(lease: &LeaseState) -> String {
    format!(
        "{{name=\"{}\",holder=\"{}\"}}",
        escape(&lease.name),
        escape(&lease.holder)
    )
}

/// A label value escaped as the exposition format asks: `\`, `"` and newlines.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn prometheus_text_names_every_runner_and_escapes_labels() {
        let status = Status {
            head: 10,
            runners: vec![RunnerStatus {
                name: "relay:\"x\"".into(),
                lease: Some(LeaseState {
                    name: "relay:\"x\"".into(),
                    holder: "a\\b\nc".into(),
                    token: 3,
                    expires_in: Some(Duration::from_secs(1)),
                }),
                lag: Lag {
                    head: 10,
                    checkpoint: 7,
                    positions: 3,
                    oldest_unprocessed_age: Some(Duration::from_millis(1500)),
                },
            }],
            sagas: vec![SagaCounts {
                saga: "fulfil\"ment".into(),
                per_state: vec![
                    (crate::saga::SagaState::Running, 2),
                    (crate::saga::SagaState::Stuck, 1),
                ],
                oldest_running: Some(Duration::from_millis(2500)),
            }],
        };
        let text = status.prometheus();
        assert!(text.contains("herald_head_position 10\n"), "{text}");
        assert!(text.contains("herald_checkpoint_position{name=\"relay:\\\"x\\\"\"} 7\n"));
        assert!(text.contains("herald_lag_events{name=\"relay:\\\"x\\\"\"} 3\n"));
        assert!(text.contains("herald_lag_seconds{name=\"relay:\\\"x\\\"\"} 1.500\n"));
        assert!(
            text.contains("herald_lease_token{name=\"relay:\\\"x\\\"\",holder=\"a\\\\b\\nc\"} 3\n")
        );
        assert!(
            text.contains("herald_lease_held{name=\"relay:\\\"x\\\"\",holder=\"a\\\\b\\nc\"} 1\n")
        );
        assert!(text.contains("herald_sagas{saga=\"fulfil\\\"ment\",state=\"running\"} 2\n"));
        assert!(text.contains("herald_sagas{saga=\"fulfil\\\"ment\",state=\"stuck\"} 1\n"));
        assert!(
            text.contains("herald_saga_oldest_running_seconds{saga=\"fulfil\\\"ment\"} 2.500\n")
        );
        assert_eq!(text.matches("# TYPE ").count(), 8);
    }
}
