//! Correctness under concurrency on both backends: the same schema registered at once gets
//! one id and version; different schemas get distinct consecutive versions, each checked
//! against the version it follows; two server processes on one PostgreSQL behave as one.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};

use herald_test_support::{Backend, Client, HeraldServe, TestDatabase, backend_tests};
use serde_json::{Value, json};

const CLIENTS: usize = 16;

fn with_optional_field(field: &str, x_type: &str) -> Value {
    json!({"schema": json!({"type": "record", "name": "Evt", "fields": [
        {"name": "x", "type": x_type},
        {"name": field, "type": ["null", "string"], "default": null}]})
    .to_string()})
}

/// Registers the same schema from every client at once under one subject.
async fn same_schema(clients: &[Client], subject: &str) {
    let body = with_optional_field("same", "int");
    let mut tasks = Vec::new();
    for i in 0..CLIENTS {
        let client = clients[i % clients.len()].clone();
        let body = body.clone();
        let path = format!("/subjects/{subject}/versions");
        tasks.push(tokio::spawn(async move { client.post(&path, body).await }));
    }
    let mut ids = BTreeSet::new();
    for task in tasks {
        let (status, answer) = task.await.unwrap();
        assert_eq!(status, 200, "{answer}");
        ids.insert(answer["id"].as_i64().unwrap());
    }
    assert_eq!(ids.len(), 1, "one id for one schema: {ids:?}");
    let (_, versions) = clients[0]
        .get(&format!("/subjects/{subject}/versions"))
        .await;
    assert_eq!(versions, json!([1]));
}

/// Registers different, mutually compatible schemas at once: distinct ids, versions 1..=N.
async fn different_schemas(clients: &[Client], subject: &str) {
    let mut tasks = Vec::new();
    for i in 0..CLIENTS {
        let client = clients[i % clients.len()].clone();
        let body = with_optional_field(&format!("f{i}"), "int");
        let path = format!("/subjects/{subject}/versions");
        tasks.push(tokio::spawn(async move { client.post(&path, body).await }));
    }
    let mut ids = BTreeSet::new();
    for task in tasks {
        let (status, answer) = task.await.unwrap();
        assert_eq!(status, 200, "{answer}");
        ids.insert(answer["id"].as_i64().unwrap());
    }
    assert_eq!(ids.len(), CLIENTS);
    let (_, versions) = clients[0]
        .get(&format!("/subjects/{subject}/versions"))
        .await;
    let expected: Vec<usize> = (1..=CLIENTS).collect();
    assert_eq!(
        versions,
        json!(expected),
        "consecutive versions without gaps"
    );
    let mut by_version = BTreeSet::new();
    for version in 1..=CLIENTS {
        let (_, v) = clients[0]
            .get(&format!("/subjects/{subject}/versions/{version}"))
            .await;
        by_version.insert(v["id"].as_i64().unwrap());
    }
    assert_eq!(by_version, ids, "every acknowledged id holds one version");
}

/// Half the clients register schemas whose `x` is an int, half whose `x` is a string: the
/// two kinds are incompatible, so whichever lands first, every later version must be of the
/// same kind. A lost update would let the other kind in.
async fn no_lost_update(clients: &[Client], subject: &str) {
    let mut tasks = Vec::new();
    for i in 0..CLIENTS {
        let client = clients[i % clients.len()].clone();
        let x_type = if i % 2 == 0 { "int" } else { "string" };
        let body = with_optional_field(&format!("g{i}"), x_type);
        let path = format!("/subjects/{subject}/versions");
        tasks.push(tokio::spawn(async move {
            (x_type, client.post(&path, body).await)
        }));
    }
    let mut accepted: BTreeMap<&str, usize> = BTreeMap::new();
    let mut rejected = 0;
    for task in tasks {
        let (x_type, (status, answer)) = task.await.unwrap();
        match status {
            200 => *accepted.entry(x_type).or_default() += 1,
            409 => {
                assert_eq!(answer["error_code"], 40901);
                rejected += 1;
            }
            other => panic!("unexpected {other}: {answer}"),
        }
    }
    assert_eq!(
        accepted.len(),
        1,
        "only one kind may be accepted: {accepted:?}"
    );
    assert_eq!(accepted.values().sum::<usize>(), CLIENTS / 2);
    assert_eq!(rejected, CLIENTS / 2);
    let (_, versions) = clients[0]
        .get(&format!("/subjects/{subject}/versions"))
        .await;
    let expected: Vec<usize> = (1..=CLIENTS / 2).collect();
    assert_eq!(versions, json!(expected));
    let kind = *accepted.keys().next().unwrap();
    for version in 1..=CLIENTS / 2 {
        let (_, v) = clients[0]
            .get(&format!("/subjects/{subject}/versions/{version}"))
            .await;
        let schema: Value = serde_json::from_str(v["schema"].as_str().unwrap()).unwrap();
        assert_eq!(schema["fields"][0]["type"], kind, "version {version}");
    }
}

/// The same schema registered under many subjects at once gets one global id.
async fn same_schema_across_subjects(clients: &[Client], prefix: &str) {
    let body = with_optional_field("shared", "long");
    let mut tasks = Vec::new();
    for i in 0..CLIENTS {
        let client = clients[i % clients.len()].clone();
        let body = body.clone();
        let path = format!("/subjects/{prefix}-{i}/versions");
        tasks.push(tokio::spawn(async move { client.post(&path, body).await }));
    }
    let mut ids = BTreeSet::new();
    for task in tasks {
        let (status, answer) = task.await.unwrap();
        assert_eq!(status, 200, "{answer}");
        ids.insert(answer["id"].as_i64().unwrap());
    }
    assert_eq!(ids.len(), 1, "{ids:?}");
}

async fn suite(clients: &[Client]) {
    same_schema(clients, "same").await;
    different_schemas(clients, "different").await;
    no_lost_update(clients, "mixed").await;
    same_schema_across_subjects(clients, "across").await;
}

async fn concurrent_registrations(backend: Backend) {
    let srv = HeraldServe::start(backend).await;
    suite(&[srv.client()]).await;
}

backend_tests!(concurrent_registrations);

/// Two `herald serve` processes on one PostgreSQL database behave as one registry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_on_one_postgres() {
    let db = TestDatabase::new(Backend::Postgres).await;
    let first = HeraldServe::spawn(&db.url);
    let second = HeraldServe::spawn(&db.url);
    let clients = [first.client(), second.client()];
    suite(&clients).await;
    // Both see the same registry.
    let (_, a) = clients[0].get("/subjects").await;
    let (_, b) = clients[1].get("/subjects").await;
    assert_eq!(a, b);
    assert_eq!(a.as_array().unwrap().len(), 3 + CLIENTS);
}
