//! Herald answers as Confluent Schema Registry does, byte for byte where a client can tell:
//! the root resource, `GET /schemas`, error codes and messages, content negotiation, the
//! stored form of schemas and `format`. Every test runs on SQLite and PostgreSQL, over plain
//! HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::avro_record;
use herald_test_support::{Backend, HeraldServe, backend_tests};
use serde_json::{Value, json};

const V1: &str = "application/vnd.schemaregistry.v1+json";
const DEFAULT_JSON: &str = "application/vnd.schemaregistry+json";
const JSON: &str = "application/json";

/// One answer: status, content type and body.
struct Answer {
    status: u16,
    content_type: String,
    body: Value,
    raw: String,
}

impl Answer {
    #[track_caller]
    fn error(&self, status: u16, code: u64, message: &str) {
        assert_eq!(self.status, status, "status, body: {}", self.raw);
        assert_eq!(self.body["error_code"].as_u64(), Some(code), "{}", self.raw);
        assert_eq!(self.body["message"].as_str(), Some(message), "{}", self.raw);
        assert_eq!(self.content_type, V1, "{}", self.raw);
    }

    #[track_caller]
    fn error_code(&self, status: u16, code: u64) {
        assert_eq!(self.status, status, "status, body: {}", self.raw);
        assert_eq!(self.body["error_code"].as_u64(), Some(code), "{}", self.raw);
    }

    #[track_caller]
    fn ok(&self) -> &Value {
        assert_eq!(self.status, 200, "status, body: {}", self.raw);
        assert_eq!(self.content_type, V1, "{}", self.raw);
        &self.body
    }
}

async fn send(request: reqwest::RequestBuilder) -> Answer {
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let raw = response.text().await.expect("body");
    let body = serde_json::from_str(&raw).unwrap_or(Value::Null);
    Answer {
        status,
        content_type,
        body,
        raw,
    }
}

/// A version answer (or a list of them) without when and by whom each was registered
/// (`ts`, `heraldRegisteredBy`, which `server_audit.rs` checks), after checking they are
/// there.
#[track_caller]
fn without_registration(answer: &Value) -> Value {
    let mut answer = answer.clone();
    let versions: Vec<&mut Value> = match &mut answer {
        Value::Array(items) => items.iter_mut().collect(),
        one => vec![one],
    };
    for version in versions {
        let fields = version.as_object_mut().unwrap();
        assert!(fields.remove("ts").is_some_and(|ts| ts.is_i64()));
        assert!(fields.remove("heraldRegisteredBy").is_some());
    }
    answer
}

async fn get(srv: &HeraldServe, path: &str) -> Answer {
    send(srv.http.get(format!("{}{path}", srv.base))).await
}

async fn get_accept(srv: &HeraldServe, path: &str, accept: &str) -> Answer {
    send(
        srv.http
            .get(format!("{}{path}", srv.base))
            .header("accept", accept),
    )
    .await
}

async fn post(srv: &HeraldServe, path: &str, body: &Value) -> Answer {
    post_typed(srv, path, body, Some(V1)).await
}

async fn post_typed(
    srv: &HeraldServe,
    path: &str,
    body: &Value,
    content_type: Option<&str>,
) -> Answer {
    let mut request = srv
        .http
        .post(format!("{}{path}", srv.base))
        .body(body.to_string());
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    send(request).await
}

async fn put(srv: &HeraldServe, path: &str, body: &Value) -> Answer {
    send(
        srv.http
            .put(format!("{}{path}", srv.base))
            .header("content-type", V1)
            .body(body.to_string()),
    )
    .await
}

fn avro(schema: &str) -> Value {
    json!({ "schema": schema })
}

async fn root(backend: Backend) {
    let srv = HeraldServe::start(backend).await;
    // A browser (`Accept: text/html`) is sent to the web UI; every API client gets `{}`.
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let browser = no_redirects
        .get(format!("{}/", srv.base))
        .header("accept", "text/html,application/xhtml+xml,*/*;q=0.8")
        .send()
        .await
        .unwrap();
    assert_eq!(browser.status(), 303);
    assert_eq!(browser.headers()["location"], "/ui");
    for accept in [None, Some("*/*"), Some(JSON)] {
        let mut request = srv.http.get(format!("{}/", srv.base));
        if let Some(accept) = accept {
            request = request.header("accept", accept);
        }
        let answer = send(request).await;
        assert_eq!(answer.status, 200, "{accept:?}: {}", answer.raw);
        assert_eq!(answer.body, json!({}), "{accept:?}");
    }
    let answer = send(
        srv.http
            .post(format!("{}/", srv.base))
            .header("content-type", "text/plain")
            .body("{}"),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.raw);
    assert_eq!(answer.body, json!({}));
}

async fn list_schemas(backend: Backend) {
    let srv = HeraldServe::start(backend).await;
    assert_eq!(get(&srv, "/schemas").await.ok(), &json!([]));
    let a1 = avro_record("A", &["a"]);
    let a2 = avro_record("A", &["a", "b"]);
    let b1 = avro_record("B", &["b"]);
    let c1 = json!({"type": "object", "properties": {"c": {"type": "string"}}}).to_string();
    let put_none = put(&srv, "/config", &json!({"compatibility": "NONE"})).await;
    put_none.ok();
    let id_a1 = post(&srv, "/subjects/app-a/versions", &avro(&a1))
        .await
        .ok()["id"]
        .clone();
    let id_a2 = post(&srv, "/subjects/app-a/versions", &avro(&a2))
        .await
        .ok()["id"]
        .clone();
    let id_b1 = post(&srv, "/subjects/app-b/versions", &avro(&b1))
        .await
        .ok()["id"]
        .clone();
    let id_c1 = post(
        &srv,
        "/subjects/other-c/versions",
        &json!({"schema": c1, "schemaType": "JSON"}),
    )
    .await
    .ok()["id"]
        .clone();

    let all = get(&srv, "/schemas").await;
    assert_eq!(
        &without_registration(all.ok()),
        &json!([
            {"subject": "app-a", "version": 1, "id": id_a1, "schema": a1},
            {"subject": "app-a", "version": 2, "id": id_a2, "schema": a2},
            {"subject": "app-b", "version": 1, "id": id_b1, "schema": b1},
            {"subject": "other-c", "version": 1, "id": id_c1, "schemaType": "JSON", "schema": c1},
        ])
    );
    let prefixed = get(&srv, "/schemas?subjectPrefix=app-").await;
    let subjects: Vec<(&str, i64)> = prefixed
        .ok()
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["subject"].as_str().unwrap(),
                s["version"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(subjects, [("app-a", 1), ("app-a", 2), ("app-b", 1)]);

    let latest = get(&srv, "/schemas?subjectPrefix=app-&latestOnly=true").await;
    let versions: Vec<(&str, i64)> = latest
        .ok()
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["subject"].as_str().unwrap(),
                s["version"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(versions, [("app-a", 2), ("app-b", 1)]);

    // Soft-deleted versions appear only with deleted=true; latestOnly then counts them.
    post(&srv, "/subjects/app-a/versions", &avro(&a1))
        .await
        .ok();
    let deleted = send(
        srv.http
            .delete(format!("{}/subjects/app-a/versions/2", srv.base)),
    )
    .await;
    assert_eq!(deleted.ok(), &json!(2));
    let live: Vec<i64> = get(&srv, "/schemas?subjectPrefix=app-a")
        .await
        .ok()
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["version"].as_i64().unwrap())
        .collect();
    assert_eq!(live, [1]);
    let with_deleted: Vec<i64> = get(&srv, "/schemas?subjectPrefix=app-a&deleted=true")
        .await
        .ok()
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["version"].as_i64().unwrap())
        .collect();
    assert_eq!(with_deleted, [1, 2]);
    let latest_live = get(&srv, "/schemas?subjectPrefix=app-a&latestOnly=true").await;
    assert_eq!(latest_live.ok()[0]["version"], 1);
    let latest_any = get(
        &srv,
        "/schemas?subjectPrefix=app-a&latestOnly=true&deleted=true",
    )
    .await;
    assert_eq!(latest_any.ok()[0]["version"], 2);

    // offset and limit page through the same order; a limit <= 0 or over 1000 is 1000.
    let page = get(&srv, "/schemas?offset=1&limit=2").await;
    let page: Vec<(&str, i64)> = page
        .ok()
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["subject"].as_str().unwrap(),
                s["version"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(page, [("app-b", 1), ("other-c", 1)]);
    for limit in ["0", "-5", "5000"] {
        let answer = get(&srv, &format!("/schemas?limit={limit}")).await;
        assert_eq!(answer.ok().as_array().unwrap().len(), 3, "limit={limit}");
    }
    assert_eq!(get(&srv, "/schemas?offset=10").await.ok(), &json!([]));

    // ruleType keeps the versions with a rule of that type.
    let rules = json!({"encodingRules": [{"name": "enc", "kind": "TRANSFORM", "mode": "WRITEREAD",
        "type": "ENCRYPT"}]});
    post(
        &srv,
        "/subjects/ruled/versions",
        &json!({"schema": avro_record("R", &["r"]), "ruleSet": rules}),
    )
    .await
    .ok();
    let ruled = get(&srv, "/schemas?ruleType=ENCRYPT").await;
    let subjects: Vec<&str> = ruled
        .ok()
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["subject"].as_str().unwrap())
        .collect();
    assert_eq!(subjects, ["ruled"]);
    assert_eq!(ruled.body[0]["ruleSet"], rules);
    assert_eq!(get(&srv, "/schemas?ruleType=CEL").await.ok(), &json!([]));
}

async fn compatibility_versions(backend: Backend) {
    let srv = HeraldServe::start(backend).await;
    let v1 = avro(&avro_record("C", &["a"]));
    post(&srv, "/subjects/c/versions", &v1).await.ok();
    post(&srv, "/subjects/gone/versions", &v1).await.ok();
    send(srv.http.delete(format!("{}/subjects/gone", srv.base)))
        .await
        .ok();

    post(&srv, "/compatibility/subjects/c/versions/7", &v1)
        .await
        .error(404, 40402, "Version 7 not found.");
    // Every version soft-deleted: the subject exists, the version does not.
    post(&srv, "/compatibility/subjects/gone/versions/1", &v1)
        .await
        .error(404, 40402, "Version 1 not found.");
    post(&srv, "/compatibility/subjects/c/versions/seven", &v1)
        .await
        .error(
            422,
            42202,
            "The specified version 'seven' is not a valid version id. Allowed values are between [1, 2^31-1] and the string \"latest\"",
        );
    // `latest` with no live version: nothing to be incompatible with.
    let latest = post(&srv, "/compatibility/subjects/gone/versions/latest", &v1).await;
    assert_eq!(latest.ok(), &json!({"is_compatible": true}));
    let fresh = post(&srv, "/compatibility/subjects/fresh/versions/latest", &v1).await;
    assert_eq!(fresh.ok(), &json!({"is_compatible": true}));
    // verbose: an unparsable schema is incompatible with the parser's message.
    let verbose = post(
        &srv,
        "/compatibility/subjects/c/versions/latest?verbose=true",
        &avro("{\"type\": \"nope\"}"),
    )
    .await;
    assert_eq!(verbose.ok()["is_compatible"], false);
    assert_eq!(verbose.body["messages"].as_array().unwrap().len(), 1);
}

async fn schema_ids(backend: Backend) {
    let srv = HeraldServe::start(backend).await;
    for path in [
        "/schemas/ids/abc",
        "/schemas/ids/1.5",
        "/schemas/ids/99999999999",
        "/schemas/ids/abc/schema",
        "/schemas/ids/abc/subjects",
        "/schemas/ids/abc/versions",
    ] {
        get(&srv, path).await.error(404, 404, "HTTP 404 Not Found");
    }
    get(&srv, "/schemas/ids/12345")
        .await
        .error(404, 40403, "Schema 12345 not found");
    // A known route with another method: the framework's 405, as a JSON error.
    send(srv.http.delete(format!("{}/schemas/types", srv.base)))
        .await
        .error(405, 405, "HTTP 405 Method Not Allowed");
}

async fn empty_schema(backend: Backend) {
    let srv = HeraldServe::start(backend).await;
    for body in [json!({}), json!({"schema": ""}), json!({"schema": "  "})] {
        post(&srv, "/subjects/e/versions", &body)
            .await
            .error(422, 42201, "Empty schema");
    }
    let text = avro_record("E", &["a"]);
    let first = post(&srv, "/subjects/e/versions", &avro(&text)).await;
    let id = first.ok()["id"].as_i64().unwrap();
    // An empty schema now takes the latest's, so metadata attaches without resending it.
    let metadata = json!({"properties": {"owner": "team-e"}});
    let second = post(
        &srv,
        "/subjects/e/versions",
        &json!({"schema": "", "metadata": metadata}),
    )
    .await;
    let body = second.ok().clone();
    assert_eq!(body["version"], 2, "{body}");
    assert_eq!(body["metadata"], metadata);
    assert_ne!(body["id"].as_i64(), Some(id), "{body}");
    let latest = get(&srv, "/subjects/e/versions/latest").await;
    assert_eq!(latest.ok()["schema"].as_str(), Some(text.as_str()));
    assert_eq!(latest.body["metadata"], metadata);
    // A soft-deleted subject has no live version to take it from.
    send(srv.http.delete(format!("{}/subjects/e", srv.base)))
        .await
        .ok();
    post(&srv, "/subjects/e/versions", &json!({"schema": ""}))
        .await
        .error(422, 42201, "Empty schema");
}

async fn compatibility_levels(backend: Backend) {
    let srv = HeraldServe::start(backend).await;
    let message = "Invalid compatibility level. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive";
    put(&srv, "/config", &json!({"compatibility": "SIDEWAYS"}))
        .await
        .error(422, 42203, message);
    put(&srv, "/config/s", &json!({"compatibility": "sideways"}))
        .await
        .error(422, 42203, message);
    let lower = put(
        &srv,
        "/config",
        &json!({"compatibility": "forward_transitive"}),
    )
    .await;
    assert_eq!(lower.ok()["compatibility"], "FORWARD_TRANSITIVE");
    let mixed = put(&srv, "/config/s", &json!({"compatibility": "Full"})).await;
    assert_eq!(mixed.ok()["compatibility"], "FULL");
    assert_eq!(
        get(&srv, "/config/s").await.ok()["compatibilityLevel"],
        "FULL"
    );
}

async fn content_negotiation(backend: Backend) {
    let srv = HeraldServe::start(backend).await;
    for (accept, expected) in [
        (JSON, JSON),
        (V1, V1),
        (DEFAULT_JSON, DEFAULT_JSON),
        ("*/*", V1),
        ("application/*", V1),
        ("text/html, application/json;q=0.8", JSON),
        (
            "application/vnd.schemaregistry.v1+json;q=0.5, application/json",
            JSON,
        ),
        (
            "application/json;q=0.5, application/vnd.schemaregistry+json;q=0.9",
            DEFAULT_JSON,
        ),
        ("text/html, */*;q=0.1", V1),
        // Ranges Confluent's server reads as `*/*`: a bare `*`, `*/<anything>`, and a
        // browser's default with `*; q=.2` (no leading zero).
        ("*", V1),
        ("*/does_not_matter", V1),
        ("text/html, application/xhtml+xml, image/jxr, *; q=.2", V1),
    ] {
        let answer = get_accept(&srv, "/subjects", accept).await;
        assert_eq!(answer.status, 200, "{accept}: {}", answer.raw);
        assert_eq!(answer.content_type, expected, "Accept: {accept}");
        assert_eq!(answer.body, json!([]));
    }
    let none = get(&srv, "/subjects").await;
    assert_eq!(none.ok(), &json!([]));
    // Errors are negotiated too.
    let missing = get_accept(&srv, "/subjects/nope/versions", JSON).await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.content_type, JSON);
    assert_eq!(missing.body["error_code"], 40401);

    for accept in [
        "text/html",
        "application/xml",
        "application/json;q=0",
        "text/html, *;q=0",
    ] {
        let refused = get_accept(&srv, "/subjects", accept).await;
        assert_eq!(refused.status, 406, "{accept}: {}", refused.raw);
        assert_eq!(refused.body["error_code"], 406);
        assert_eq!(refused.body["message"], "HTTP 406 Not Acceptable");
        assert_eq!(refused.content_type, V1);
    }

    let schema = avro(&avro_record("N", &["a"]));
    for content_type in [
        Some(V1),
        Some(DEFAULT_JSON),
        Some(JSON),
        Some("application/octet-stream"),
        Some("application/json; charset=UTF-8"),
        None,
    ] {
        let answer = post_typed(&srv, "/subjects/n/versions", &schema, content_type).await;
        assert_eq!(answer.status, 200, "{content_type:?}: {}", answer.raw);
        assert_eq!(answer.content_type, V1);
    }
    for content_type in ["text/plain", "application/xml", "multipart/form-data"] {
        post_typed(&srv, "/subjects/n/versions", &schema, Some(content_type))
            .await
            .error(415, 415, "HTTP 415 Unsupported Media Type");
    }
    post_typed(
        &srv,
        "/subjects/n/versions",
        &schema,
        Some("application/json; charset=ISO-8859-1"),
    )
    .await
    .error(
        415,
        415,
        "Unsupported charset 'ISO-8859-1': request bodies must be UTF-8",
    );
    // The hot path answers with the negotiated type too.
    let by_id = get_accept(&srv, "/schemas/ids/1", JSON).await;
    assert_eq!(by_id.status, 200, "{}", by_id.raw);
    assert_eq!(by_id.content_type, JSON);
}

async fn stored_form(backend: Backend) {
    let srv = HeraldServe::start(backend).await;
    let pretty = r#"{
  "type": "record",
  "name": "Stored",
  "doc": "kept",
  "x-owner": "team",
  "fields": [ { "name": "a", "type": "string", "doc": "a  field" } ]
}"#;
    let compact = r#"{"type":"record","name":"Stored","doc":"kept","x-owner":"team","fields":[{"name":"a","type":"string","doc":"a  field"}]}"#;
    let first = post(&srv, "/subjects/s/versions", &avro(pretty)).await;
    let id = first.ok()["id"].as_i64().unwrap();
    let second = post(&srv, "/subjects/t/versions", &avro(compact)).await;
    assert_eq!(second.ok()["id"].as_i64(), Some(id));
    let by_id = get(&srv, &format!("/schemas/ids/{id}")).await;
    assert_eq!(by_id.raw, json!({ "schema": compact }).to_string());
    let s = get(&srv, "/subjects/s/versions/1").await;
    let t = get(&srv, "/subjects/t/versions/1").await;
    assert_eq!(s.ok()["schema"], compact);
    let s_as_t: Value = serde_json::from_str(&s.raw.replace("\"s\"", "\"t\"")).unwrap();
    assert_eq!(without_registration(&s_as_t), without_registration(&t.body));

    let json_pretty = "{ \"type\": \"object\",\n \"description\": \"d\", \"properties\": { \"b\": {\"type\": \"string\"} } }";
    let json_compact =
        r#"{"type":"object","description":"d","properties":{"b":{"type":"string"}}}"#;
    let registered = post(
        &srv,
        "/subjects/j/versions",
        &json!({"schema": json_pretty, "schemaType": "JSON"}),
    )
    .await;
    let json_id = registered.ok()["id"].as_i64().unwrap();
    let j = get(&srv, &format!("/schemas/ids/{json_id}")).await;
    assert_eq!(j.ok()["schema"], json_compact);
    // JSON Schema ignores every format, as Confluent's provider does.
    let resolved = get(&srv, "/subjects/j/versions/1?format=resolved").await;
    assert_eq!(resolved.ok()["schema"], json_compact);
    let raw = get(&srv, "/subjects/j/versions/1/schema?format=resolved").await;
    assert_eq!(raw.raw, json_compact);
}

async fn resolved_format(backend: Backend) {
    let srv = HeraldServe::start(backend).await;
    let address = r#"{"type":"record","name":"Address","namespace":"x","fields":[{"name":"street","type":"string"}]}"#;
    post(&srv, "/subjects/address/versions", &avro(address))
        .await
        .ok();
    let person = r#"{"type":"record","name":"Person","namespace":"x","fields":[{"name":"home","type":"x.Address"}]}"#;
    let references = json!([{"name": "x.Address", "subject": "address", "version": 1}]);
    let registered = post(
        &srv,
        "/subjects/person/versions",
        &json!({"schema": person, "references": references}),
    )
    .await;
    registered.ok();
    let plain = get(&srv, "/subjects/person/versions/1").await;
    assert_eq!(plain.ok()["schema"], person);
    assert_eq!(plain.body["references"], references);
    for format in ["resolved", "RESOLVED"] {
        let resolved = get(
            &srv,
            &format!("/subjects/person/versions/1?format={format}"),
        )
        .await;
        let text = resolved.ok()["schema"].as_str().unwrap();
        assert!(text.contains("\"street\""), "{text}");
        // The version keeps its references, as Confluent's answer does.
        assert_eq!(resolved.body["references"], references);
        let raw = get(
            &srv,
            &format!("/subjects/person/versions/1/schema?format={format}"),
        )
        .await;
        assert!(raw.raw.contains("\"street\""), "{}", raw.raw);
    }
    let looked_up = post(
        &srv,
        "/subjects/person?format=resolved",
        &json!({"schema": person, "references": references}),
    )
    .await;
    assert!(
        looked_up.ok()["schema"]
            .as_str()
            .unwrap()
            .contains("\"street\""),
        "{}",
        looked_up.raw
    );
    let by_id = get(
        &srv,
        &format!("/schemas/ids/{}?format=resolved", looked_up.body["id"]),
    )
    .await;
    assert!(
        by_id.ok()["schema"]
            .as_str()
            .unwrap()
            .contains("\"street\"")
    );
    assert_eq!(by_id.body["references"], references);
    // An unknown format is the stored text, never an error.
    let unknown = get(&srv, "/subjects/person/versions/1?format=serialized").await;
    assert_eq!(unknown.ok()["schema"], person);
}

async fn listing_parameters(backend: Backend) {
    let srv = HeraldServe::start(backend).await;
    put(&srv, "/config", &json!({"compatibility": "BACKWARD"}))
        .await
        .ok();
    for subject in ["l-a", "l-b", "l-c"] {
        post(
            &srv,
            &format!("/subjects/{subject}/versions"),
            &avro(&avro_record("L", &["a"])),
        )
        .await
        .ok();
    }
    send(srv.http.delete(format!("{}/subjects/l-b", srv.base)))
        .await
        .ok();
    assert_eq!(
        get(&srv, "/subjects?deletedOnly=true").await.ok(),
        &json!(["l-b"])
    );
    assert_eq!(
        get(&srv, "/subjects?deleted=true&offset=1&limit=1")
            .await
            .ok(),
        &json!(["l-b"])
    );
    assert_eq!(get(&srv, "/subjects?offset=1").await.ok(), &json!(["l-c"]));
    get(&srv, "/subjects?limit=many")
        .await
        .error(404, 404, "HTTP 404 Not Found");

    // `force` registers what the level would refuse.
    let incompatible = avro(&avro_record("L", &["a", "b"]));
    post(&srv, "/subjects/l-a/versions", &incompatible)
        .await
        .error_code(409, 40901);
    let forced = post(&srv, "/subjects/l-a/versions?force=true", &incompatible).await;
    assert!(forced.ok()["id"].is_i64());
    let third = avro(&avro_record("L", &["c"]));
    post(&srv, "/subjects/l-a/versions?force=true", &third)
        .await
        .ok();
    send(
        srv.http
            .delete(format!("{}/subjects/l-a/versions/2", srv.base)),
    )
    .await
    .ok();
    let versions = |query: &'static str| {
        let srv = &srv;
        async move {
            get(srv, &format!("/subjects/l-a/versions{query}"))
                .await
                .ok()
                .clone()
        }
    };
    assert_eq!(versions("").await, json!([1, 3]));
    assert_eq!(versions("?deleted=true").await, json!([1, 2, 3]));
    assert_eq!(versions("?deletedOnly=true").await, json!([2]));
    assert_eq!(versions("?deletedAsNegative=true").await, json!([1, -2, 3]));
    assert_eq!(versions("?deleted=true&offset=1&limit=1").await, json!([2]));
}

/// A subject whose name holds a `/` (sent encoded, `%2F`) works the same for registration,
/// lookup, listing and compatibility, as Confluent's clients send it.
async fn encoded_slash_in_subject(backend: Backend) {
    let srv = HeraldServe::start(backend).await;
    let schema = avro(&avro_record("Money", &["amount"]));
    let (status, registered) = srv
        .post("/subjects/acme%2Fmoney-value/versions", schema.clone())
        .await;
    assert_eq!(status, 200, "{registered}");
    let (status, found) = srv
        .post("/subjects/acme%2Fmoney-value", schema.clone())
        .await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["id"], registered["id"]);
    assert_eq!(found["subject"], "acme/money-value");
    assert_eq!(found["version"], 1);
    assert_eq!(srv.get("/subjects").await.1, json!(["acme/money-value"]));
    assert_eq!(
        srv.get("/subjects/acme%2Fmoney-value/versions").await.1,
        json!([1])
    );
    let (status, verdict) = srv
        .post(
            "/compatibility/subjects/acme%2Fmoney-value/versions/latest",
            schema,
        )
        .await;
    assert_eq!(status, 200, "{verdict}");
    assert_eq!(verdict["is_compatible"], true);
    let (status, version) = srv.get("/subjects/acme%2Fmoney-value/versions/1").await;
    assert_eq!(status, 200, "{version}");
    assert_eq!(version["subject"], "acme/money-value");
    let (status, latest) = srv
        .get("/subjects/acme%2Fmoney-value/versions/latest/schema")
        .await;
    assert_eq!(status, 200, "{latest}");
    let (status, config) = srv
        .put(
            "/config/acme%2Fmoney-value",
            json!({"compatibility": "NONE"}),
        )
        .await;
    assert_eq!(status, 200, "{config}");
    assert_eq!(
        srv.get("/config/acme%2Fmoney-value").await.1,
        json!({"compatibilityLevel": "NONE"})
    );
    let (status, deleted) = srv.delete("/subjects/acme%2Fmoney-value/versions/1").await;
    assert_eq!((status, deleted), (200, json!(1)));
    let (status, versions) = srv
        .get("/subjects/acme%2Fmoney-value/versions?deleted=true")
        .await;
    assert_eq!((status, versions), (200, json!([1])));
}

backend_tests!(
    encoded_slash_in_subject,
    listing_parameters,
    root,
    list_schemas,
    compatibility_versions,
    schema_ids,
    empty_schema,
    compatibility_levels,
    content_negotiation,
    stored_form,
    resolved_format,
);
