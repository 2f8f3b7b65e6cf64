//! The `herald serve` binary: configuration from the environment, start-up logs, graceful
//! shutdown that finishes in-flight requests, and no acknowledged registration lost when
//! the process is killed with SIGKILL mid-load.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use herald_test_support::{Backend, Client, HeraldServe, TestDatabase, backend_tests};
use serde_json::json;
use tokio::sync::Mutex;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starts_from_environment_and_logs_backend() {
    let db = TestDatabase::new(Backend::Sqlite).await;
    let server = HeraldServe::spawn(&db.url);
    let logs = server.logs().join("\n");
    assert!(logs.contains("migrations applied (sqlite)"), "{logs}");
    assert!(logs.contains("(backend: sqlite)"), "{logs}");
    let (status, _) = server.client().get("/subjects").await;
    assert_eq!(status, 200);

    let memory = HeraldServe::spawn("sqlite::memory:");
    let (status, _) = memory
        .client()
        .post("/subjects/m/versions", json!({"schema": "\"string\""}))
        .await;
    assert_eq!(status, 200);

    let pg = TestDatabase::new(Backend::Postgres).await;
    let server = HeraldServe::spawn(&pg.url);
    let logs = server.logs().join("\n");
    assert!(logs.contains("(backend: postgres)"), "{logs}");
}

/// A request whose body is still arriving when SIGTERM comes is finished and answered, then
/// the process exits with success.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_in_flight_requests() {
    let db = TestDatabase::new(Backend::Sqlite).await;
    let mut server = HeraldServe::spawn(&db.url);
    let address = server.base.trim_start_matches("http://").to_owned();
    let body = json!({"schema": "\"string\""}).to_string();
    let mut stream = TcpStream::connect(&address).unwrap();
    let head = format!(
        "POST /subjects/inflight/versions HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(&body.as_bytes()[..5]).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    server.signal("TERM");
    std::thread::sleep(Duration::from_millis(300));
    stream.write_all(&body.as_bytes()[5..]).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("{\"id\":1}"), "{answer}");
    let status = server
        .wait(Duration::from_secs(10))
        .expect("exits after SIGTERM");
    assert!(status.success(), "{status}");
    assert!(server.logs().join("\n").contains("SIGTERM received"));

    // The registration survived the shutdown.
    let restarted = HeraldServe::spawn(&db.url);
    let (status, version) = restarted
        .client()
        .get("/subjects/inflight/versions/1")
        .await;
    assert_eq!(status, 200);
    assert_eq!(version["id"], 1);
}

/// Registers distinct schemas from several clients until stopped; returns what was
/// acknowledged as (subject, version, id).
async fn load(
    client: Client,
    worker: usize,
    stop: Arc<AtomicBool>,
    acked: Arc<Mutex<Vec<(String, i64, i64)>>>,
) {
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) && n < 5_000 {
        let subject = format!("crash-{worker}");
        let schema = json!({"type": "record", "name": "C", "fields": [
            {"name": format!("f{n}"), "type": ["null", "int"], "default": null}]})
        .to_string();
        let request = client
            .http
            .post(format!("{}/subjects/{subject}/versions", client.base))
            .body(json!({"schema": schema}).to_string())
            .timeout(Duration::from_secs(5))
            .send()
            .await;
        let Ok(response) = request else { break };
        if response.status().as_u16() != 200 {
            break;
        }
        let Ok(body) = response.json::<serde_json::Value>().await else {
            break;
        };
        let id = body["id"].as_i64().unwrap();
        acked.lock().await.push((subject, n + 1, id));
        n += 1;
    }
}

async fn crash_loses_nothing_acknowledged(backend: Backend) {
    let db = TestDatabase::new(backend).await;
    let server = HeraldServe::spawn(&db.url);
    let client = server.client();
    client
        .put("/config", json!({"compatibility": "NONE"}))
        .await;
    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(Mutex::new(Vec::new()));
    let workers: Vec<_> = (0..4)
        .map(|w| tokio::spawn(load(client.clone(), w, stop.clone(), acked.clone())))
        .collect();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.signal("KILL");
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.await.unwrap();
    }
    drop(server);
    let acked = acked.lock().await.clone();
    assert!(
        acked.len() > 20,
        "the load registered too little: {}",
        acked.len()
    );
    eprintln!("{} registrations acknowledged before SIGKILL", acked.len());

    let restarted = HeraldServe::spawn(&db.url);
    let client = restarted.client();
    for (subject, version, id) in &acked {
        let (status, found) = client
            .get(&format!("/subjects/{subject}/versions/{version}"))
            .await;
        assert_eq!(status, 200, "lost {subject} v{version}: {found}");
        assert_eq!(found["id"].as_i64(), Some(*id), "{subject} v{version}");
    }
    // Still consistent: versions 1..n without gaps per subject, and each version that
    // survived has its audit entry (written in the same transaction), and no other.
    let mut stored = Vec::new();
    for w in 0..4 {
        let subject = format!("crash-{w}");
        let (status, versions) = client.get(&format!("/subjects/{subject}/versions")).await;
        if status == 200 {
            let versions: Vec<i64> = serde_json::from_value(versions).unwrap();
            let expected: Vec<i64> = (1..=versions.len() as i64).collect();
            assert_eq!(versions, expected);
            stored.extend(versions.into_iter().map(|v| (subject.clone(), v)));
        }
    }
    let mut audited = Vec::new();
    let mut after = 0;
    loop {
        let (status, page) = client
            .get(&format!("/audit?after={after}&limit=1000"))
            .await;
        assert_eq!(status, 200, "{page}");
        for entry in page["entries"].as_array().unwrap() {
            if entry["action"] == "register" {
                let subject = entry["subject"].as_str().unwrap().to_owned();
                audited.push((subject, entry["version"].as_i64().unwrap()));
            }
        }
        match page["next"].as_i64() {
            Some(next) => after = next,
            None => break,
        }
    }
    stored.sort();
    audited.sort();
    assert_eq!(audited, stored, "registrations and their audit entries");
}

backend_tests!(crash_loses_nothing_acknowledged);
