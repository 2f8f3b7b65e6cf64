//! Benchmark of the web UI's subject list: seeds a SQLite registry with 10,000 subjects
//! through the registry service, serves it, and times `GET /ui` pages (first, middle, last,
//! and a search) beside the JSON API's `GET /subjects`, in one run.
//!
//! ```text
//! cargo run --release -p herald-registry --example ui_list [SUBJECTS] [REQUESTS]
//! ```
//! Target: the list page answers in under 100 ms (median) with 10,000 subjects.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use herald_registry::schema::Limits;
use herald_registry::server::{AppState, Settings, serve};
use herald_registry::service::{Options, SchemaRequest};
use herald_registry::storage;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let subjects: usize = args.next().map_or(10_000, |a| a.parse().expect("SUBJECTS"));
    let requests: usize = args.next().map_or(50, |a| a.parse().expect("REQUESTS"));
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let store = storage::connect(&url, 8).await.expect("open SQLite");
    let state = AppState::new(
        store,
        Settings {
            max_body_bytes: 1 << 20,
            limits: Limits::default(),
        },
        None,
    );
    let started = Instant::now();
    for i in 0..subjects {
        let schema = format!(
            r#"{{"type":"record","name":"Event{i}","namespace":"bench","fields":[{{"name":"id","type":"string"}},{{"name":"n{i}","type":"long","default":0}}]}}"#
        );
        let request = SchemaRequest {
            schema: Some(schema),
            ..SchemaRequest::default()
        };
        state
            .registry()
            .register(
                &format!("subject-{i:05}-value"),
                &request,
                Options::default(),
                "ui_list",
            )
            .await
            .expect("register");
    }
    println!(
        "seeded {subjects} subjects through the registry service in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(serve(listener, state, std::future::pending()));
    let client = reqwest::Client::new();
    let last = subjects.div_ceil(50);
    let pages = [
        ("GET /ui (page 1)", "/ui".to_owned()),
        ("GET /ui?page=middle", format!("/ui?page={}", last / 2 + 1)),
        ("GET /ui?page=last", format!("/ui?page={last}")),
        ("GET /ui?q=00042 (search)", "/ui?q=00042".to_owned()),
        ("GET /subjects (JSON API, all)", "/subjects".to_owned()),
    ];
    println!("{requests} requests each, sequential, one client on the same machine:");
    let mut worst_median = Duration::ZERO;
    for (name, path) in &pages {
        let mut times = Vec::with_capacity(requests);
        for _ in 0..requests {
            let start = Instant::now();
            let answer = client
                .get(format!("{base}{path}"))
                .send()
                .await
                .expect("GET");
            assert!(answer.status().is_success(), "{path}: {}", answer.status());
            let body = answer.bytes().await.expect("body");
            times.push(start.elapsed());
            assert!(!body.is_empty());
        }
        times.sort();
        let median = percentile(&times, 0.5);
        if path.starts_with("/ui") {
            worst_median = worst_median.max(median);
        }
        println!(
            "  {name:32} median {:7.2} ms   p95 {:7.2} ms   max {:7.2} ms",
            median.as_secs_f64() * 1e3,
            percentile(&times, 0.95).as_secs_f64() * 1e3,
            times[times.len() - 1].as_secs_f64() * 1e3,
        );
    }
    let verdict = if worst_median < Duration::from_millis(100) {
        "meets"
    } else {
        "MISSES"
    };
    println!(
        "slowest list page median {:.2} ms: {verdict} the 100 ms target",
        worst_median.as_secs_f64() * 1e3
    );
}
