//! Several `herald serve` processes on one PostgreSQL database answer as one registry: a
//! schema permanently deleted on one is no longer served by another within a second (its
//! cache is told through LISTEN/NOTIFY), never again afterwards, even when the other's
//! listening connection was killed (it drops its whole cache then); config and mode
//! changes are seen at once, and so is a write that changes what a lookup answers (lookups
//! are remembered by their exact request).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::avro_record;
use herald_test_support::{Backend, Client, HeraldServe, TestDatabase};
use serde_json::{Value, json};

/// How soon another instance must see a change.
const WITHIN: Duration = Duration::from_secs(1);

/// How long to keep polling before giving up (to report how late a change was).
const GIVE_UP: Duration = Duration::from_secs(10);

/// Polls `path` on `client` until `done` holds for the answer; returns how long it took.
async fn poll_until(client: &Client, path: &str, done: impl Fn(&(u16, Value)) -> bool) -> Duration {
    let start = Instant::now();
    loop {
        let answer = client.get(path).await;
        if done(&answer) {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < GIVE_UP,
            "{path} still answers {answer:?} after {GIVE_UP:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Whether an answer is a 404 with one of `codes`.
fn not_found(answer: &(u16, Value), codes: &[u64]) -> bool {
    answer.0 == 404
        && answer.1["error_code"]
            .as_u64()
            .is_some_and(|code| codes.contains(&code))
}

/// How many parsed schemas an instance holds (its `/metrics`).
async fn cached_schemas(client: &Client) -> u64 {
    let (status, body) = client.get("/metrics").await;
    assert_eq!(status, 200, "{body}");
    let text = body.as_str().expect("metrics text");
    text.lines()
        .find_map(|line| line.strip_prefix("herald_cached_schemas "))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or_else(|| panic!("no herald_cached_schemas in {text}"))
}

/// Two instances on one fresh PostgreSQL schema.
async fn two_instances() -> (TestDatabase, HeraldServe, HeraldServe) {
    let db = TestDatabase::new(Backend::Postgres).await;
    let a = HeraldServe::spawn(&db.url);
    let b = HeraldServe::spawn(&db.url);
    (db, a, b)
}

/// Registers a schema on `a` and reads it by id and by version on both, so both caches hold
/// it; returns its id.
async fn register_and_read_everywhere(a: &Client, b: &Client, subject: &str, name: &str) -> i64 {
    let (status, body) = a
        .post(
            &format!("/subjects/{subject}/versions"),
            json!({"schema": avro_record(name, &["a"])}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let id = body["id"].as_i64().expect("an id");
    for client in [a, b] {
        let (status, body) = client.get(&format!("/schemas/ids/{id}")).await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = client.get(&format!("/subjects/{subject}/versions/1")).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["id"].as_i64(), Some(id), "{body}");
    }
    id
}

/// Soft then permanent delete of version 1 on `a`.
async fn delete_permanently(a: &Client, subject: &str) {
    let path = format!("/subjects/{subject}/versions/1");
    let (status, body) = a.delete(&path).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = a.delete(&format!("{path}?permanent=true")).await;
    assert_eq!(status, 200, "{body}");
}

/// `b` stops serving the schema within [`WITHIN`], by id and by version, and 50 further
/// reads of each all say 404.
async fn assert_gone(b: &Client, subject: &str, id: i64) {
    let by_id = format!("/schemas/ids/{id}");
    let by_version = format!("/subjects/{subject}/versions/1");
    let took = poll_until(b, &by_id, |answer| not_found(answer, &[40403])).await;
    assert!(
        took < WITHIN,
        "the delete took {took:?} to reach the other instance"
    );
    for _ in 0..50 {
        let answer = b.get(&by_id).await;
        assert!(not_found(&answer, &[40403]), "{by_id}: {answer:?}");
        let answer = b.get(&by_version).await;
        assert!(
            not_found(&answer, &[40401, 40402]),
            "{by_version}: {answer:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permanent_delete_reaches_the_other_instance() {
    let (_db, a, b) = two_instances().await;
    let (a, b) = (a.client(), b.client());
    let id = register_and_read_everywhere(&a, &b, "orders-value", "Order").await;
    delete_permanently(&a, "orders-value").await;
    assert_gone(&b, "orders-value", id).await;
    // And the instance that deleted.
    let answer = a.get(&format!("/schemas/ids/{id}")).await;
    assert!(not_found(&answer, &[40403]), "{answer:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_reach_the_other_instances_lookups() {
    let (_db, a, b) = two_instances().await;
    let (a, b) = (a.client(), b.client());
    register_and_read_everywhere(&a, &b, "lookup-value", "Lookup").await;
    let schema = json!({"schema": avro_record("Lookup", &["a"])});
    let version_of = |answer: &(u16, Value)| answer.0 == 200 && answer.1["version"] == 1;
    // Asked twice, so the second answer comes from what B remembers.
    for _ in 0..2 {
        let answer = b.post("/subjects/lookup-value", schema.clone()).await;
        assert!(version_of(&answer), "{answer:?}");
    }
    // A soft delete on A: B's lookup stops finding the version.
    let (status, body) = a.delete("/subjects/lookup-value/versions/1").await;
    assert_eq!(status, 200, "{body}");
    let start = Instant::now();
    loop {
        let answer = b.post("/subjects/lookup-value", schema.clone()).await;
        if not_found(&answer, &[40401, 40403]) {
            break;
        }
        assert!(start.elapsed() < GIVE_UP, "B still answers {answer:?}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let took = start.elapsed();
    assert!(
        took < WITHIN,
        "the delete took {took:?} to reach B's lookups"
    );
    // Registered again on A: a new version, which B's lookup finds.
    let (status, body) = a
        .post("/subjects/lookup-value/versions", schema.clone())
        .await;
    assert_eq!(status, 200, "{body}");
    let start = Instant::now();
    loop {
        let answer = b.post("/subjects/lookup-value", schema.clone()).await;
        if answer.0 == 200 && answer.1["version"] == 2 {
            break;
        }
        assert!(start.elapsed() < GIVE_UP, "B still answers {answer:?}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let took = start.elapsed();
    assert!(
        took < WITHIN,
        "the registration took {took:?} to reach B's lookups"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_and_mode_changes_reach_the_other_instance() {
    let (_db, a, b) = two_instances().await;
    let (a, b) = (a.client(), b.client());
    register_and_read_everywhere(&a, &b, "users-value", "User").await;

    let (status, body) = b.get("/config/users-value?defaultToGlobal=true").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["compatibilityLevel"], "BACKWARD", "{body}");
    let (status, body) = a
        .put("/config/users-value", json!({"compatibility": "NONE"}))
        .await;
    assert_eq!(status, 200, "{body}");
    let took = poll_until(&b, "/config/users-value", |(status, body)| {
        *status == 200 && body["compatibilityLevel"] == "NONE"
    })
    .await;
    assert!(
        took < WITHIN,
        "the config took {took:?} to reach the other instance"
    );

    let (status, body) = b.get("/mode/users-value?defaultToGlobal=true").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["mode"], "READWRITE", "{body}");
    let (status, body) = a
        .put("/mode/users-value", json!({"mode": "READONLY"}))
        .await;
    assert_eq!(status, 200, "{body}");
    let took = poll_until(&b, "/mode/users-value", |(status, body)| {
        *status == 200 && body["mode"] == "READONLY"
    })
    .await;
    assert!(
        took < WITHIN,
        "the mode took {took:?} to reach the other instance"
    );
    // B enforces it, too.
    let (status, body) = b
        .post(
            "/subjects/users-value/versions",
            json!({"schema": avro_record("User", &["a", "b"])}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error_code"], 42205, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_listener_drops_the_cache() {
    let (db, a, b_process) = two_instances().await;
    let (a, b) = (a.client(), b_process.client());
    let id = register_and_read_everywhere(&a, &b, "audit-value", "Audit").await;
    register_and_read_everywhere(&a, &b, "kept-value", "Kept").await;
    assert_eq!(cached_schemas(&b).await, 2);

    // Soft delete on A; then, in one transaction, the permanent delete and the end of B's
    // listening connection, which the transaction waits for: the notification goes out on
    // commit, when B is not listening (unless it has already listened again).
    let (status, body) = a.delete("/subjects/audit-value/versions/1").await;
    assert_eq!(status, 200, "{body}");
    let admin = sqlx::PgPool::connect(&db.url).await.expect("connect");
    let mut tx = admin.begin().await.expect("begin");
    sqlx::query("DELETE FROM subject_versions WHERE subject = 'audit-value'")
        .execute(&mut *tx)
        .await
        .expect("delete");
    let killed: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity \
         WHERE application_name = $1 AND query LIKE 'LISTEN%'",
    )
    .bind(format!("herald listener {}", b_process.pid()))
    .fetch_all(&mut *tx)
    .await
    .expect("terminate");
    assert_eq!(killed, [true], "B's listener connection was not found");
    tx.commit().await.expect("commit");
    assert_gone(&b, "audit-value", id).await;

    // B listens again and follows later deletes as before.
    let start = Instant::now();
    while !b_process
        .logs()
        .iter()
        .any(|line| line.contains("change listener listening again"))
    {
        assert!(start.elapsed() < GIVE_UP, "{:?}", b_process.logs());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Everything was dropped, the schema nobody deleted too.
    assert_eq!(cached_schemas(&b).await, 0);
    let id = register_and_read_everywhere(&a, &b, "later-value", "Later").await;
    delete_permanently(&a, "later-value").await;
    assert_gone(&b, "later-value", id).await;
    admin.close().await;
}
