//! `GET /openapi.json`: the document parses as OpenAPI 3.1, describes every route the router
//! serves (and only those), and declares Confluent's error body for every error answer.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;

use herald_protocol::CONTENT_TYPE;
use herald_test_support::{Backend, HeraldServe};
use serde_json::Value;

const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

/// The served document, checked to be the one the library builds.
async fn served(srv: &HeraldServe) -> Value {
    let (status, doc) = srv.get("/openapi.json").await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc, herald_registry::http::openapi_document());
    doc
}

/// `path` with its parameters filled in.
fn concrete(path: &str) -> String {
    path.replace("{subject}", "openapi-probe")
        .replace("{version}", "1")
        .replace("{id}", "1")
}

#[tokio::test]
async fn document_parses_as_openapi_3_1() {
    let srv = HeraldServe::start(Backend::Sqlite).await;
    let doc = served(&srv).await;
    let version = doc["openapi"].as_str().unwrap();
    assert!(version.starts_with("3.1."), "{version}");
    // The OpenAPI Initiative's JSON Schema of 3.1 documents (schemas/v3.1/schema.yaml at
    // 2022-10-07, as JSON).
    let spec: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/openapi-3.1.schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&spec).expect("the OpenAPI 3.1 schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .map(|err| format!("{} at {}", err, err.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "not an OpenAPI 3.1 document: {errors:#?}"
    );
    let mut broken = doc.clone();
    broken["paths"]["/schemas/types"]["get"]["responses"]["200"] = Value::from(1);
    assert!(
        !validator.is_valid(&broken),
        "the check rejects a broken document"
    );
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());

    // Every reference points at a component, operation ids are unique, and every error
    // answer carries Confluent's error body.
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    assert!(schemas.contains_key("ErrorBody"));
    let text = doc.to_string();
    for piece in text.split("\"#/components/schemas/").skip(1) {
        let name = piece.split('"').next().unwrap();
        assert!(schemas.contains_key(name), "dangling $ref to {name}");
    }
    let mut ids = std::collections::BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let id = operation["operationId"].as_str().unwrap();
            assert!(ids.insert(id.to_owned()), "duplicate operationId {id}");
            let responses = operation["responses"].as_object().unwrap();
            // Success is 200, or 204 for the DEK registry's deletes and undeletes.
            assert!(
                responses.contains_key("200") || responses.contains_key("204"),
                "{method} {path} lacks 200 and 204"
            );
            for status in ["400", "401", "403", "406", "500"] {
                assert!(
                    responses.contains_key(status),
                    "{method} {path} lacks {status}"
                );
            }
            for (status, response) in responses {
                if status.as_str() < "400" {
                    continue;
                }
                let content = response["content"].as_object().unwrap();
                let schema = &content[CONTENT_TYPE]["schema"]["$ref"];
                assert_eq!(
                    schema, "#/components/schemas/ErrorBody",
                    "{method} {path} {status}"
                );
            }
        }
    }
}

#[tokio::test]
async fn every_route_is_documented_and_every_documented_route_is_served() {
    let srv = HeraldServe::start(Backend::Sqlite).await;
    let doc = served(&srv).await;
    let paths = doc["paths"].as_object().unwrap();
    let http = reqwest::Client::new();
    let mut operations = 0;
    for (path, item) in paths {
        let item = item.as_object().unwrap();
        let url = format!("{}{}", srv.base, concrete(path));
        for method in METHODS {
            let request = http
                .request(method.to_uppercase().parse().unwrap(), &url)
                .header("content-type", CONTENT_TYPE)
                .body("{}");
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let body = response.text().await.unwrap();
            let unrouted = status == 405 || (status == 404 && body.contains("HTTP 404 Not Found"));
            if item.contains_key(method) {
                operations += 1;
                assert!(
                    !unrouted,
                    "{method} {path} is documented but not served: {status} {body}"
                );
            } else {
                assert_eq!(
                    status, 405,
                    "{method} {path} is served but not documented: {body}"
                );
            }
        }
    }
    assert!(operations >= 38, "only {operations} operations");

    // The router has no other routes: every module registers its handlers only through
    // `utoipa_axum::routes!`, which documents them, never with a bare `.route(`.
    let mut files = Vec::new();
    let mut dirs = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    assert!(files.iter().any(|file| file.ends_with("dek/deks.rs")));
    for file in files {
        let source = std::fs::read_to_string(&file).unwrap();
        assert!(
            !source.contains(".route(") && !source.contains(".nest("),
            "{} registers a route outside utoipa_axum::routes!",
            file.display()
        );
    }
}

#[tokio::test]
async fn the_id_lookup_is_unchanged() {
    let srv = HeraldServe::start(Backend::Sqlite).await;
    let schema = common::avro_record("Probe", &["id"]);
    let (status, body) = srv
        .post(
            "/subjects/probe-value/versions",
            serde_json::json!({ "schema": schema }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let id = body["id"].as_i64().unwrap();
    let (status, by_id) = srv.get(&format!("/schemas/ids/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(by_id, serde_json::json!({ "schema": schema }));
}

/// Found by the fuzzer's kind of input: a path segment that is not UTF-8 once decoded was
/// axum's plain-text 400, which no client of a Confluent API can read.
#[tokio::test]
async fn an_undecodable_path_segment_is_a_json_error() {
    let srv = HeraldServe::start(Backend::Sqlite).await;
    for path in [
        "/subjects/%FF/versions",
        "/config/%FF",
        "/mode/%C3",
        "/subjects/a/versions/%FF/schema",
        "/schemas/ids/%FF",
    ] {
        let response = srv
            .http
            .get(format!("{}{path}", srv.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 400, "{path}");
        assert_eq!(response.headers()["content-type"], CONTENT_TYPE, "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error_code"], 400, "{path}: {body}");
    }
}
