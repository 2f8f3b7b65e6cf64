//! Prometheus metrics: requests by route, method and status, a latency histogram per route,
//! and the number of schemas and subjects.

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

use crate::storage::Counts;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

#[derive(Debug, Default)]
struct RouteStats {
    /// (method, status, count); a handful of entries, scanned without allocating.
    by_status: Vec<(String, u16, u64)>,
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum_seconds: f64,
}

/// Request counters and latency histograms, by route template.
#[derive(Debug, Default)]
pub struct Metrics {
    routes: Mutex<HashMap<String, RouteStats>>,
}

impl Metrics {
    /// Records one request.
    pub fn record(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        let mut routes = self
            .routes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let stats = match routes.get_mut(route) {
            Some(stats) => stats,
            None => routes.entry(route.to_owned()).or_default(),
        };
        match stats
            .by_status
            .iter_mut()
            .find(|(m, s, _)| m == method && *s == status)
        {
            Some((_, _, count)) => *count += 1,
            None => stats.by_status.push((method.to_owned(), status, 1)),
        }
        for (bound, bucket) in BUCKETS.iter().zip(stats.buckets.iter_mut()) {
            if seconds <= *bound {
                *bucket += 1;
            }
        }
        stats.count += 1;
        stats.sum_seconds += seconds;
    }

    /// The Prometheus text exposition of everything recorded, plus the store's counts.
    pub fn render(&self, counts: Counts, cached: usize) -> String {
        let routes = self
            .routes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut names: Vec<&String> = routes.keys().collect();
        names.sort();
        let mut out = String::new();
        out.push_str(
            "# HELP herald_http_requests_total HTTP requests by route, method and status.\n",
        );
        out.push_str("# TYPE herald_http_requests_total counter\n");
        for name in &names {
            let mut statuses: Vec<_> = routes[*name].by_status.iter().collect();
            statuses.sort();
            for (method, status, count) in statuses {
                let _ = writeln!(
                    out,
                    "herald_http_requests_total{{route=\"{name}\",method=\"{method}\",status=\"{status}\"}} {count}"
                );
            }
        }
        out.push_str(
            "# HELP herald_http_request_duration_seconds HTTP request latency by route.\n",
        );
        out.push_str("# TYPE herald_http_request_duration_seconds histogram\n");
        for name in &names {
            let stats = &routes[*name];
            for (bound, bucket) in BUCKETS.iter().zip(stats.buckets.iter()) {
                let _ = writeln!(
                    out,
                    "herald_http_request_duration_seconds_bucket{{route=\"{name}\",le=\"{bound}\"}} {bucket}"
                );
            }
            let _ = writeln!(
                out,
                "herald_http_request_duration_seconds_bucket{{route=\"{name}\",le=\"+Inf\"}} {}",
                stats.count
            );
            let _ = writeln!(
                out,
                "herald_http_request_duration_seconds_sum{{route=\"{name}\"}} {}",
                stats.sum_seconds
            );
            let _ = writeln!(
                out,
                "herald_http_request_duration_seconds_count{{route=\"{name}\"}} {}",
                stats.count
            );
        }
        let _ = writeln!(
            out,
            "# HELP herald_schemas Distinct schemas registered.\n# TYPE herald_schemas gauge\nherald_schemas {}",
            counts.schemas
        );
        let _ = writeln!(
            out,
            "# HELP herald_subjects Subjects with a live version.\n# TYPE herald_subjects gauge\nherald_subjects {}",
            counts.subjects
        );
        let _ = writeln!(
            out,
            "# HELP herald_cached_schemas Parsed schemas held in memory.\n# TYPE herald_cached_schemas gauge\nherald_cached_schemas {cached}"
        );
        out
    }
}
