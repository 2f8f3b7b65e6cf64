//! The Confluent API, endpoint by endpoint with its error codes, against SQLite and
//! PostgreSQL through the same suite.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{assert_error, avro_record};
use herald_test_support::{Backend, HeraldServe, ServeSettings, backend_tests};
use serde_json::{Value, json};

fn avro(schema: &str) -> Value {
    json!({ "schema": schema })
}

fn json_schema(schema: Value) -> Value {
    json!({ "schema": schema.to_string(), "schemaType": "JSON" })
}

async fn schema_types_and_ids(backend: Backend) {
    let srv = HeraldServe::start(backend).await;
    let (status, types) = srv.get("/schemas/types").await;
    assert_eq!(status, 200);
    let types: Vec<&str> = types
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert!(
        types.contains(&"AVRO") && types.contains(&"JSON"),
        "{types:?}"
    );

    let order = avro_record("Order", &["id"]);
    let (status, body) = srv
        .post("/subjects/orders-value/versions", avro(&order))
        .await;
    assert_eq!(status, 200, "{body}");
    let id = body["id"].as_i64().unwrap();
    assert!(id > 0);

    // Same schema, same subject: same id, no new version.
    let (_, again) = srv
        .post("/subjects/orders-value/versions", avro(&order))
        .await;
    assert_eq!(again["id"].as_i64(), Some(id));
    // Same schema, another subject, spelled differently: same global id.
    let respelled =
        serde_json::to_string_pretty(&serde_json::from_str::<Value>(&order).unwrap()).unwrap();
    let (_, other) = srv
        .post("/subjects/archive-value/versions", avro(&respelled))
        .await;
    assert_eq!(other["id"].as_i64(), Some(id));
    let (_, versions) = srv.get("/subjects/orders-value/versions").await;
    assert_eq!(versions, json!([1]));

    let (status, by_id) = srv.get(&format!("/schemas/ids/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(by_id["schema"].as_str(), Some(order.as_str()));
    assert!(
        by_id.get("schemaType").is_none(),
        "AVRO omits schemaType: {by_id}"
    );

    let (status, raw) = srv.get(&format!("/schemas/ids/{id}/schema")).await;
    assert_eq!(status, 200);
    assert_eq!(raw, serde_json::from_str::<Value>(&order).unwrap());

    let (_, subjects) = srv.get(&format!("/schemas/ids/{id}/subjects")).await;
    assert_eq!(subjects, json!(["archive-value", "orders-value"]));
    let (_, versions) = srv.get(&format!("/schemas/ids/{id}/versions")).await;
    assert_eq!(
        versions,
        json!([{"subject": "archive-value", "version": 1}, {"subject": "orders-value", "version": 1}])
    );
    let (status, _) = srv
        .get(&format!("/schemas/ids/{id}?subject=orders-value"))
        .await;
    assert_eq!(status, 200);
    let (status, other_subject) = srv.get(&format!("/schemas/ids/{id}?subject=nope")).await;
    assert_eq!(status, 200);
    assert_eq!(other_subject, by_id);

    assert_error(&srv.get("/schemas/ids/999999").await, 404, 40403);
    assert_error(&srv.get("/schemas/ids/999999/schema").await, 404, 40403);
    assert_error(&srv.get("/schemas/ids/999999/subjects").await, 404, 40403);
    assert_error(&srv.get("/schemas/ids/999999/versions").await, 404, 40403);
}

async fn content_types(backend: Backend) {
    let srv = HeraldServe::start(backend).await;
    // Plain application/json is accepted as well as Confluent's type.
    let response = srv
        .http
        .post(format!("{}/subjects/plain/versions", srv.base))
        .header("content-type", "application/json")
        .body(avro(&avro_record("Plain", &["a"])).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "application/vnd.schemaregistry.v1+json"
    );
    let response = srv
        .http
        .get(format!("{}/subjects/nope/versions", srv.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 404);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "application/vnd.schemaregistry.v1+json"
    );
}

async fn subjects_and_versions(backend: Backend) {
    let srv = HeraldServe::start(backend).await;
    let v1 = avro_record("User", &["id"]);
    let v2 = serde_json::json!({"type": "record", "name": "User", "fields": [
        {"name": "id", "type": "string"},
        {"name": "email", "type": ["null", "string"], "default": null}]})
    .to_string();
    let (_, r1) = srv.post("/subjects/users-value/versions", avro(&v1)).await;
    let (status, r2) = srv.post("/subjects/users-value/versions", avro(&v2)).await;
    assert_eq!(status, 200, "{r2}");
    assert_ne!(r1["id"], r2["id"]);
    srv.post(
        "/subjects/payments-value/versions",
        avro(&avro_record("Pay", &["x"])),
    )
    .await;

    let (_, subjects) = srv.get("/subjects").await;
    assert_eq!(subjects, json!(["payments-value", "users-value"]));
    let (_, subjects) = srv.get("/subjects?subjectPrefix=pay").await;
    assert_eq!(subjects, json!(["payments-value"]));
    let (_, versions) = srv.get("/subjects/users-value/versions").await;
    assert_eq!(versions, json!([1, 2]));

    let (status, latest) = srv.get("/subjects/users-value/versions/latest").await;
    assert_eq!(status, 200);
    assert_eq!(latest["version"], 2);
    assert_eq!(latest["subject"], "users-value");
    assert_eq!(latest["id"], r2["id"]);
    assert_eq!(latest["schema"].as_str(), Some(v2.as_str()));
    let (_, minus_one) = srv.get("/subjects/users-value/versions/-1").await;
    assert_eq!(minus_one, latest);
    let (_, first) = srv.get("/subjects/users-value/versions/1").await;
    assert_eq!(first["id"], r1["id"]);
    let (status, raw) = srv.get("/subjects/users-value/versions/1/schema").await;
    assert_eq!(status, 200);
    assert_eq!(raw, serde_json::from_str::<Value>(&v1).unwrap());

    assert_error(&srv.get("/subjects/nope/versions").await, 404, 40401);
    assert_error(&srv.get("/subjects/nope/versions/1").await, 404, 40401);
    assert_error(
        &srv.get("/subjects/users-value/versions/7").await,
        404,
        40402,
    );
    assert_error(
        &srv.get("/subjects/users-value/versions/zero").await,
        422,
        42202,
    );
    assert_error(
        &srv.get("/subjects/users-value/versions/0").await,
        422,
        42202,
    );
    assert_error(
        &srv.get("/subjects/users-value/versions/7/schema").await,
        404,
        40402,
    );
}

async fn lookup(backend: Backend) {
    let srv = HeraldServe::start(backend).await;
    let v1 = avro_record("Thing", &["a"]);
    let (_, reg) = srv.post("/subjects/things/versions", avro(&v1)).await;
    let (status, found) = srv.post("/subjects/things", avro(&v1)).await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["id"], reg["id"]);
    assert_eq!(found["version"], 1);
    assert_eq!(found["subject"], "things");
    assert_eq!(found["schema"].as_str(), Some(v1.as_str()));
    // A different spelling of the same schema is found too.
    let spaced = v1.replace(',', " , ");
    let (status, _) = srv.post("/subjects/things", avro(&spaced)).await;
    assert_eq!(status, 200);

    assert_error(
        &srv.post("/subjects/things", avro(&avro_record("Other", &["b"])))
            .await,
        404,
        40403,
    );
    assert_error(&srv.post("/subjects/nobody", avro(&v1)).await, 404, 40401);
    assert_error(
        &srv.post("/subjects/things", avro("{not json")).await,
        422,
        42201,
    );
}

async fn register_errors(backend: Backend) {
    let srv = HeraldServe::start(backend).await;
    assert_error(
        &srv.post("/subjects/s/versions", avro("{\"type\": \"recurd\"}"))
            .await,
        422,
        42201,
    );
    assert_error(
        &srv.post("/subjects/s/versions", json!({})).await,
        422,
        42201,
    );
    assert_error(
        &srv.post(
            "/subjects/s/versions",
            json!({"schema": "\"string\"", "schemaType": "PROTOBUF"}),
        )
        .await,
        422,
        42201,
    );
    assert_error(
        &srv.post("/subjects/s/versions", json_schema(json!({"type": 12})))
            .await,
        422,
        42201,
    );
    // Nested too deep.
    let deep = "[".repeat(500) + &"]".repeat(500);
    assert_error(
        &srv.post("/subjects/s/versions", avro(&deep)).await,
        422,
        42201,
    );
    // A control character makes an invalid subject.
    assert_error(
        &srv.post("/subjects/bad%01name/versions", avro("\"string\""))
            .await,
        422,
        42208,
    );
    // Malformed request body.
    let response = srv
        .http
        .post(format!("{}/subjects/s/versions", srv.base))
        .body("{oops")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    // Unknown route: a JSON 404.
    assert_error(&srv.get("/no/such/route").await, 404, 404);
}

async fn schema_too_large(backend: Backend) {
    let srv = ServeSettings::new()
        .env("HERALD_MAX_BODY_BYTES", 4096)
        .start(backend)
        .await;
    // Under the body limit but over the schema limit once the body wraps it? Use a body
    // over the limit: 413 with a JSON error.
    let big = avro_record(
        "Big",
        &(0..400)
            .map(|i| Box::leak(format!("f{i}").into_boxed_str()) as &str)
            .collect::<Vec<_>>(),
    );
    let answer = srv.post("/subjects/big/versions", avro(&big)).await;
    assert_error(&answer, 413, 413);

    // Within the body limit but over the schema limit: 42209.
    let srv = ServeSettings::new()
        .env("HERALD_MAX_SCHEMA_BYTES", 256)
        .start(backend)
        .await;
    let schema = avro_record("Ok", &["a"]);
    let (status, _) = srv.post("/subjects/ok/versions", avro(&schema)).await;
    assert_eq!(status, 200);
    let long = avro_record("Long", &["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"]);
    assert!(long.len() > 256);
    assert_error(
        &srv.post("/subjects/ok/versions", avro(&long)).await,
        422,
        42209,
    );
}

async fn json_schemas(backend: Backend) {
    let srv = HeraldServe::start(backend).await;
    let schema = json!({"type": "object", "properties": {"id": {"type": "string"}}});
    let (status, reg) = srv
        .post("/subjects/js/versions", json_schema(schema.clone()))
        .await;
    assert_eq!(status, 200, "{reg}");
    let (_, by_id) = srv.get(&format!("/schemas/ids/{}", reg["id"])).await;
    assert_eq!(by_id["schemaType"], "JSON");
    let (_, latest) = srv.get("/subjects/js/versions/latest").await;
    assert_eq!(latest["schemaType"], "JSON");
    // Changing the type of a subject is incompatible under BACKWARD.
    let answer = srv
        .post("/subjects/js/versions", avro(&avro_record("X", &["a"])))
        .await;
    assert_error(&answer, 409, 40901);
    assert!(
        answer.1["message"]
            .as_str()
            .unwrap()
            .contains("SCHEMA_TYPE_MISMATCH"),
        "{}",
        answer.1
    );

    // Nothing is stored that `/validate` could not use later: a `$ref` to a remote document
    // (never fetched) and a pattern the regex engine cannot compile are refused at once, on
    // registration as on lookup, and no version is written.
    for (what, schema) in [
        (
            "remote http $ref",
            json!({"type": "object", "properties": {"a": {"$ref": "http://example.com/a.json"}}}),
        ),
        (
            "remote file $ref",
            json!({"properties": {"a": {"$ref": "file:///etc/a.json"}}}),
        ),
        (
            "pattern too large to compile",
            json!({"type": "string", "pattern": "(a{1000}){1000}"}),
        ),
    ] {
        let answer = srv
            .post("/subjects/unusable/versions", json_schema(schema.clone()))
            .await;
        assert_error(&answer, 422, 42201);
        assert!(
            answer.1["message"]
                .as_str()
                .unwrap()
                .contains("cannot validate payloads"),
            "{what}: {}",
            answer.1
        );
        let lookup = srv.post("/subjects/js", json_schema(schema)).await;
        assert_error(&lookup, 422, 42201);
    }
    assert_error(&srv.get("/subjects/unusable/versions").await, 404, 40401);
}

async fn compatibility(backend: Backend) {
    let srv = HeraldServe::start(backend).await;
    let v1 = avro_record("Evt", &["id"]);
    srv.post("/subjects/evt/versions", avro(&v1)).await;
    let json_candidate = json_schema(json!({"type": "object"}));

    let (status, ok) = srv
        .post("/compatibility/subjects/evt/versions/latest", avro(&v1))
        .await;
    assert_eq!(status, 200);
    assert_eq!(ok, json!({"is_compatible": true}));
    let (_, bad) = srv
        .post(
            "/compatibility/subjects/evt/versions/1?verbose=true",
            json_candidate.clone(),
        )
        .await;
    assert_eq!(bad["is_compatible"], false);
    let messages = bad["messages"].as_array().unwrap();
    assert!(!messages.is_empty());
    assert!(
        messages[0]
            .as_str()
            .unwrap()
            .contains("SCHEMA_TYPE_MISMATCH"),
        "{bad}"
    );
    let (_, terse) = srv
        .post(
            "/compatibility/subjects/evt/versions",
            json_candidate.clone(),
        )
        .await;
    assert_eq!(terse, json!({"is_compatible": false}));
    let (_, all) = srv
        .post(
            "/compatibility/subjects/evt/versions?verbose=true",
            json_candidate.clone(),
        )
        .await;
    assert_eq!(all["is_compatible"], false);
    // Under NONE anything goes.
    srv.put("/config/evt", json!({"compatibility": "NONE"}))
        .await;
    let (_, none) = srv
        .post(
            "/compatibility/subjects/evt/versions",
            json_candidate.clone(),
        )
        .await;
    assert_eq!(none["is_compatible"], true);

    // Adding a field without a default breaks BACKWARD (the engine's Avro rules).
    srv.put("/config/evt", json!({"compatibility": "BACKWARD"}))
        .await;
    let v2 = avro_record("Evt", &["id", "extra"]);
    let (_, added) = srv
        .post(
            "/compatibility/subjects/evt/versions/latest?verbose=true",
            avro(&v2),
        )
        .await;
    assert_eq!(added["is_compatible"], false, "{added}");
    let answer = srv.post("/subjects/evt/versions", avro(&v2)).await;
    assert_error(&answer, 409, 40901);
    assert!(
        answer.1["message"]
            .as_str()
            .unwrap()
            .contains("READER_FIELD_MISSING_DEFAULT_VALUE"),
        "{}",
        answer.1
    );

    // As Confluent: a numbered version that is not live is 40402, whether the subject was
    // never registered or its versions were soft-deleted or permanently deleted.
    assert_error(
        &srv.post("/compatibility/subjects/nobody/versions/1", avro(&v1))
            .await,
        404,
        40402,
    );
    srv.post("/subjects/gone/versions", avro(&v1)).await;
    srv.delete("/subjects/gone").await;
    assert_error(
        &srv.post("/compatibility/subjects/gone/versions/1", avro(&v1))
            .await,
        404,
        40402,
    );
    srv.delete("/subjects/gone?permanent=true").await;
    assert_error(
        &srv.post("/compatibility/subjects/gone/versions/1", avro(&v1))
            .await,
        404,
        40402,
    );
    assert_error(
        &srv.post("/compatibility/subjects/evt/versions/9", avro(&v1))
            .await,
        404,
        40402,
    );
    assert_error(
        &srv.post("/compatibility/subjects/evt/versions/x", avro(&v1))
            .await,
        422,
        42202,
    );
    assert_error(
        &srv.post("/compatibility/subjects/evt/versions/1", avro("{"))
            .await,
        422,
        42201,
    );
    // No versions at all: compatible.
    let (_, empty) = srv
        .post("/compatibility/subjects/fresh/versions", avro(&v1))
        .await;
    assert_eq!(empty["is_compatible"], true);
}

async fn config(backend: Backend) {
    let srv = HeraldServe::start(backend).await;
    let (status, global) = srv.get("/config").await;
    assert_eq!(status, 200);
    assert_eq!(global, json!({"compatibilityLevel": "BACKWARD"}));
    let (status, put) = srv.put("/config", json!({"compatibility": "full"})).await;
    assert_eq!(status, 200);
    assert_eq!(put, json!({"compatibility": "FULL"}));
    assert_eq!(
        srv.get("/config").await.1,
        json!({"compatibilityLevel": "FULL"})
    );
    assert_error(
        &srv.put("/config", json!({"compatibility": "SIDEWAYS"}))
            .await,
        422,
        42203,
    );

    assert_error(&srv.get("/config/orders").await, 404, 40408);
    let (_, defaulted) = srv.get("/config/orders?defaultToGlobal=true").await;
    assert_eq!(defaulted, json!({"compatibilityLevel": "FULL"}));
    let (_, put) = srv
        .put("/config/orders", json!({"compatibilityLevel": "NONE"}))
        .await;
    assert_eq!(put, json!({"compatibility": "NONE"}));
    assert_eq!(
        srv.get("/config/orders").await.1,
        json!({"compatibilityLevel": "NONE"})
    );
    assert_error(
        &srv.put("/config/orders", json!({"compatibility": "x"}))
            .await,
        422,
        42203,
    );
    let (status, deleted) = srv.delete("/config/orders").await;
    assert_eq!(status, 200);
    assert_eq!(deleted, json!({"compatibilityLevel": "NONE"}));
    assert_error(&srv.get("/config/orders").await, 404, 40408);
    assert_error(&srv.delete("/config/orders").await, 404, 40408);

    let (_, reset) = srv.delete("/config").await;
    assert_eq!(reset, json!({"compatibilityLevel": "FULL"}));
    assert_eq!(
        srv.get("/config").await.1,
        json!({"compatibilityLevel": "BACKWARD"})
    );

    // A PUT answers the scope's whole config after the update, as Confluent's, always with
    // `compatibility`: the scope's own level, else the one in force for it.
    let (_, put) = srv.put("/config", json!({"normalize": true})).await;
    assert_eq!(put, json!({"compatibility": "BACKWARD", "normalize": true}));
    let (_, put) = srv
        .put("/config/billing", json!({"validateFields": true}))
        .await;
    assert_eq!(
        put,
        json!({"compatibility": "BACKWARD", "validateFields": true})
    );
    let (_, put) = srv
        .put("/config/billing", json!({"compatibility": "FULL"}))
        .await;
    assert_eq!(
        put,
        json!({"compatibility": "FULL", "validateFields": true})
    );
    srv.delete("/config/billing").await;
    srv.delete("/config").await;

    // A subject-level NONE lets an incompatible change in.
    srv.post("/subjects/loose/versions", avro(&avro_record("L", &["a"])))
        .await;
    srv.put("/config/loose", json!({"compatibility": "NONE"}))
        .await;
    let (status, _) = srv
        .post(
            "/subjects/loose/versions",
            json_schema(json!({"type": "string"})),
        )
        .await;
    assert_eq!(status, 200);
}

async fn modes(backend: Backend) {
    let srv = HeraldServe::start(backend).await;
    assert_eq!(srv.get("/mode").await.1, json!({"mode": "READWRITE"}));
    assert_error(&srv.get("/mode/s").await, 404, 40409);
    assert_eq!(
        srv.get("/mode/s?defaultToGlobal=true").await.1,
        json!({"mode": "READWRITE"})
    );
    assert_error(
        &srv.put("/mode", json!({"mode": "WRITEONLY"})).await,
        422,
        42204,
    );

    let (status, body) = srv.put("/mode/s", json!({"mode": "READONLY"})).await;
    assert_eq!((status, body), (200, json!({"mode": "READONLY"})));
    assert_error(
        &srv.post("/subjects/s/versions", avro("\"string\"")).await,
        422,
        42205,
    );
    let (status, _) = srv.post("/subjects/t/versions", avro("\"string\"")).await;
    assert_eq!(status, 200);
    assert_eq!(srv.delete("/mode/s").await.1, json!({"mode": "READONLY"}));
    assert_error(&srv.delete("/mode/s").await, 404, 40409);

    // A given id or version needs IMPORT mode.
    assert_error(
        &srv.post(
            "/subjects/imp/versions",
            json!({"schema": "\"int\"", "id": 500, "version": 3}),
        )
        .await,
        422,
        42205,
    );
    // IMPORT on a non-empty registry needs force.
    assert_error(
        &srv.put("/mode", json!({"mode": "IMPORT"})).await,
        422,
        42205,
    );
    srv.put("/mode/imp", json!({"mode": "IMPORT"})).await;
    // An id that `GET /schemas/ids/{id}` could never serve is refused, not stored.
    for id in [
        json!(9_223_372_036_854_775_807_i64),
        json!(2_147_483_648_i64),
        json!(0),
    ] {
        assert_error(
            &srv.post(
                "/subjects/imp/versions",
                json!({"schema": "\"int\"", "id": id, "version": 3}),
            )
            .await,
            422,
            42205,
        );
    }
    assert_error(&srv.get("/subjects/imp/versions/3").await, 404, 40401);
    let (status, body) = srv
        .post(
            "/subjects/imp/versions",
            json!({"schema": "\"int\"", "id": 500, "version": 3}),
        )
        .await;
    assert_eq!((status, body), (200, json!({"id": 500})));
    let (_, imported) = srv.get("/subjects/imp/versions/3").await;
    assert_eq!(imported["id"], 500);
    // The id now holds "int": another schema cannot take it.
    assert_error(
        &srv.post(
            "/subjects/imp/versions",
            json!({"schema": "\"long\"", "id": 500, "version": 4}),
        )
        .await,
        422,
        42207,
    );
    srv.put("/mode/imp", json!({"mode": "READWRITE"})).await;
    // Ids allocated later never collide with an imported one.
    let (_, next) = srv
        .post("/subjects/after/versions", avro("\"double\""))
        .await;
    assert!(next["id"].as_i64().unwrap() > 500, "{next}");
    let (_, next_version) = srv.post("/subjects/imp/versions", avro("\"int\"")).await;
    assert_eq!(next_version["id"], 500);

    let (_, ro) = srv.put("/mode", json!({"mode": "READONLY"})).await;
    assert_eq!(ro, json!({"mode": "READONLY"}));
    assert_error(
        &srv.post("/subjects/z/versions", avro("\"string\"")).await,
        422,
        42205,
    );
    assert_error(&srv.delete("/subjects/t").await, 422, 42205);
    assert_eq!(srv.delete("/mode").await.1, json!({"mode": "READONLY"}));
}

async fn deletes(backend: Backend) {
    let srv = HeraldServe::start(backend).await;
    let v1 = avro_record("D", &["a"]);
    let v2 = json!({"type": "record", "name": "D", "fields": [
        {"name": "a", "type": "string"}, {"name": "b", "type": "int", "default": 0}]})
    .to_string();
    let (_, r1) = srv.post("/subjects/d/versions", avro(&v1)).await;
    srv.post("/subjects/d/versions", avro(&v2)).await;

    // Permanent first is refused.
    assert_error(
        &srv.delete("/subjects/d/versions/1?permanent=true").await,
        404,
        40407,
    );
    assert_error(&srv.delete("/subjects/d?permanent=true").await, 404, 40405);
    let (status, deleted) = srv.delete("/subjects/d/versions/1").await;
    assert_eq!((status, deleted), (200, json!(1)));
    assert_error(&srv.delete("/subjects/d/versions/1").await, 404, 40406);
    assert_eq!(srv.get("/subjects/d/versions").await.1, json!([2]));
    assert_eq!(
        srv.get("/subjects/d/versions?deleted=true").await.1,
        json!([1, 2])
    );
    assert_error(&srv.get("/subjects/d/versions/1").await, 404, 40402);
    let (status, soft) = srv.get("/subjects/d/versions/1?deleted=true").await;
    assert_eq!(status, 200);
    assert_eq!(soft["id"], r1["id"]);
    // Soft-deleted schemas are still served by id.
    let (status, _) = srv.get(&format!("/schemas/ids/{}", r1["id"])).await;
    assert_eq!(status, 200);
    // Registering the soft-deleted schema again makes a new version.
    let (_, again) = srv.post("/subjects/d/versions", avro(&v1)).await;
    assert_eq!(again["id"], r1["id"]);
    assert_eq!(srv.get("/subjects/d/versions").await.1, json!([2, 3]));

    let (status, hard) = srv.delete("/subjects/d/versions/1?permanent=true").await;
    assert_eq!((status, hard), (200, json!(1)));
    assert_error(
        &srv.get("/subjects/d/versions/1?deleted=true").await,
        404,
        40402,
    );
    assert_error(&srv.delete("/subjects/d/versions/9").await, 404, 40402);
    assert_error(&srv.delete("/subjects/d/versions/abc").await, 422, 42202);

    let (status, deleted) = srv.delete("/subjects/d").await;
    assert_eq!((status, deleted), (200, json!([2, 3])));
    assert_error(&srv.delete("/subjects/d").await, 404, 40404);
    assert_error(&srv.get("/subjects/d/versions").await, 404, 40401);
    assert_eq!(srv.get("/subjects").await.1, json!([]));
    assert_eq!(srv.get("/subjects?deleted=true").await.1, json!(["d"]));
    let (status, hard) = srv.delete("/subjects/d?permanent=true").await;
    assert_eq!((status, hard), (200, json!([2, 3])));
    assert_eq!(srv.get("/subjects?deleted=true").await.1, json!([]));
    assert_error(&srv.delete("/subjects/d").await, 404, 40401);
    // Permanently deleted everywhere: the id is gone.
    assert_error(
        &srv.get(&format!("/schemas/ids/{}", r1["id"])).await,
        404,
        40403,
    );
    // A new registration gets a new id; ids are never reused.
    let (_, fresh) = srv
        .post("/subjects/e/versions", avro(&avro_record("E", &["x"])))
        .await;
    assert!(fresh["id"].as_i64() > r1["id"].as_i64());
}

async fn references(backend: Backend) {
    let srv = HeraldServe::start(backend).await;
    let address = json!({"type": "record", "name": "Address", "namespace": "com.acme",
        "fields": [{"name": "city", "type": "string"}]})
    .to_string();
    let (status, addr) = srv.post("/subjects/address/versions", avro(&address)).await;
    assert_eq!(status, 200);
    let customer = json!({"type": "record", "name": "Customer", "namespace": "com.acme",
        "fields": [{"name": "home", "type": "Address"}, {"name": "work", "type": ["null", "com.acme.Address"], "default": null}]})
    .to_string();
    let refs = json!([{"name": "com.acme.Address", "subject": "address", "version": 1}]);
    // Without references the name is unknown.
    assert_error(
        &srv.post("/subjects/customer/versions", avro(&customer))
            .await,
        422,
        42201,
    );
    let (status, cust) = srv
        .post(
            "/subjects/customer/versions",
            json!({"schema": customer, "references": refs}),
        )
        .await;
    assert_eq!(status, 200, "{cust}");
    assert_ne!(cust["id"], addr["id"]);
    let (_, fetched) = srv.get(&format!("/schemas/ids/{}", cust["id"])).await;
    assert_eq!(fetched["references"], refs);
    assert_eq!(fetched["schema"].as_str(), Some(customer.as_str()));
    let (_, resolved) = srv
        .get(&format!("/schemas/ids/{}?format=resolved", cust["id"]))
        .await;
    assert!(
        resolved["schema"].as_str().unwrap().contains("city"),
        "{resolved}"
    );
    let (_, version) = srv.get("/subjects/customer/versions/1").await;
    assert_eq!(version["references"], refs);
    let (status, found) = srv
        .post(
            "/subjects/customer",
            json!({"schema": customer, "references": refs}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(found["id"], cust["id"]);
    let (_, by) = srv.get("/subjects/address/versions/1/referencedby").await;
    assert_eq!(by, json!([cust["id"]]));
    assert_error(
        &srv.get("/subjects/address/versions/5/referencedby").await,
        404,
        40402,
    );

    // A referenced version cannot be deleted while referenced.
    assert_error(
        &srv.delete("/subjects/address/versions/1").await,
        422,
        42206,
    );
    assert_error(&srv.delete("/subjects/address").await, 422, 42206);
    // A reference to a missing version is an invalid schema.
    let missing = json!([{"name": "com.acme.Address", "subject": "address", "version": 7}]);
    assert_error(
        &srv.post(
            "/subjects/c2/versions",
            json!({"schema": customer, "references": missing}),
        )
        .await,
        422,
        42201,
    );
    // Once the referencing subject is gone, the delete goes through.
    srv.delete("/subjects/customer").await;
    let (status, _) = srv.delete("/subjects/address/versions/1").await;
    assert_eq!(status, 200);

    // JSON Schema $ref across subjects, used by validation.
    let item =
        json!({"type": "object", "properties": {"sku": {"type": "string"}}, "required": ["sku"]});
    srv.post("/subjects/item/versions", json_schema(item)).await;
    let cart = json!({"type": "object", "properties": {"items": {"type": "array", "items": {"$ref": "item.json"}}}});
    let (status, reg) = srv
        .post(
            "/subjects/cart/versions",
            json!({"schema": cart.to_string(), "schemaType": "JSON",
                   "references": [{"name": "item.json", "subject": "item", "version": 1}]}),
        )
        .await;
    assert_eq!(status, 200, "{reg}");
    let (status, result) = srv
        .post(
            "/subjects/cart/versions/1/validate",
            json!({"items": [{"sku": "a"}, {"nope": 1}]}),
        )
        .await;
    assert_eq!(status, 200, "{result}");
    assert_eq!(result["is_valid"], false);
    let errors = result["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{result}");
    assert_eq!(errors[0]["location"], "#/items/1");

    // The referenced schema takes part in the compatibility check: pointing the cart at an
    // item version whose `sku` became an integer breaks BACKWARD.
    srv.put("/config/item", json!({"compatibility": "NONE"}))
        .await;
    let item_v2 =
        json!({"type": "object", "properties": {"sku": {"type": "integer"}}, "required": ["sku"]});
    let (status, _) = srv
        .post("/subjects/item/versions", json_schema(item_v2))
        .await;
    assert_eq!(status, 200);
    let answer = srv
        .post(
            "/subjects/cart/versions",
            json!({"schema": cart.to_string(), "schemaType": "JSON",
                   "references": [{"name": "item.json", "subject": "item", "version": 2}]}),
        )
        .await;
    assert_error(&answer, 409, 40901);
}

async fn validate(backend: Backend) {
    let srv = HeraldServe::start(backend).await;
    let schema = json!({"type": "object", "properties": {"id": {"type": "string"}, "qty": {"type": "integer", "minimum": 1}}, "required": ["id"]});
    srv.post("/subjects/v/versions", json_schema(schema)).await;
    let (status, ok) = srv
        .post(
            "/subjects/v/versions/1/validate",
            json!({"id": "a", "qty": 2}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(ok["is_valid"], true);
    assert_eq!(ok["errors"], json!([]));
    let (_, bad) = srv
        .post("/subjects/v/versions/latest/validate", json!({"qty": 0}))
        .await;
    assert_eq!(bad["is_valid"], false);
    let locations: Vec<&str> = bad["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["location"].as_str().unwrap())
        .collect();
    assert!(
        locations.contains(&"#") && locations.contains(&"#/qty"),
        "{bad}"
    );

    let record = json!({"type": "record", "name": "R", "fields": [
        {"name": "n", "type": "long"}, {"name": "tag", "type": ["null", "string"], "default": null}]})
    .to_string();
    srv.post("/subjects/r/versions", avro(&record)).await;
    let (_, ok) = srv
        .post(
            "/subjects/r/versions/1/validate",
            json!({"n": 5, "tag": {"string": "x"}}),
        )
        .await;
    assert_eq!(ok["is_valid"], true, "{ok}");
    let (_, bad) = srv
        .post("/subjects/r/versions/1/validate", json!({"n": "five"}))
        .await;
    assert_eq!(bad["is_valid"], false);
    assert_eq!(bad["errors"][0]["location"], "#/n");
    assert_error(
        &srv.post("/subjects/r/versions/4/validate", json!({})).await,
        404,
        40402,
    );
}

async fn health_ready_metrics(backend: Backend) {
    let srv = HeraldServe::start(backend).await;
    let (status, health) = srv.get("/health").await;
    assert_eq!((status, health["status"].as_str()), (200, Some("UP")));
    let (status, ready) = srv.get("/ready").await;
    assert_eq!(status, 200);
    assert_eq!(
        ready["backend"],
        if backend == Backend::Sqlite {
            "sqlite"
        } else {
            "postgres"
        }
    );
    srv.post("/subjects/m/versions", avro(&avro_record("M", &["a"])))
        .await;
    srv.get("/subjects/m/versions/1").await;
    srv.get("/subjects/nope/versions/1").await;
    let (status, metrics) = srv.get("/metrics").await;
    assert_eq!(status, 200);
    let text = metrics.as_str().unwrap();
    assert!(
        text.contains(r#"herald_http_requests_total{route="/subjects/{subject}/versions/{version}",method="GET",status="200"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"herald_http_requests_total{route="/subjects/{subject}/versions/{version}",method="GET",status="404"} 1"#),
        "{text}"
    );
    assert!(text.contains("herald_http_request_duration_seconds_bucket{route=\"/subjects/{subject}/versions\",le=\"+Inf\"} 1"), "{text}");
    assert!(text.contains("herald_schemas 1\n"), "{text}");
    assert!(text.contains("herald_subjects 1\n"), "{text}");
}

async fn basic_auth(backend: Backend) {
    let srv = ServeSettings::new()
        .users("reader:rpw:read\nwriter:wpw:write\n")
        .start(backend)
        .await;
    let url = |p: &str| format!("{}{p}", srv.base);
    let body = avro(&avro_record("A", &["a"])).to_string();

    let anonymous = srv.http.get(url("/subjects")).send().await.unwrap();
    assert_eq!(anonymous.status().as_u16(), 401);
    assert!(anonymous.headers().contains_key("www-authenticate"));
    let json: Value = anonymous.json().await.unwrap();
    assert_eq!(json["error_code"], 401);
    let wrong = srv
        .http
        .get(url("/subjects"))
        .basic_auth("reader", Some("x"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status().as_u16(), 401);

    let read = srv
        .http
        .get(url("/subjects"))
        .basic_auth("reader", Some("rpw"))
        .send()
        .await
        .unwrap();
    assert_eq!(read.status().as_u16(), 200);
    let forbidden = srv
        .http
        .post(url("/subjects/a/versions"))
        .basic_auth("reader", Some("rpw"))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(forbidden.status().as_u16(), 403);
    let json: Value = forbidden.json().await.unwrap();
    assert_eq!(json["error_code"], 403);
    let written = srv
        .http
        .post(url("/subjects/a/versions"))
        .basic_auth("writer", Some("wpw"))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(written.status().as_u16(), 200);
    // Readers may look up and check compatibility.
    let lookup = srv
        .http
        .post(url("/subjects/a"))
        .basic_auth("reader", Some("rpw"))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(lookup.status().as_u16(), 200);
    // Probes stay open.
    let health = srv.http.get(url("/health")).send().await.unwrap();
    assert_eq!(health.status().as_u16(), 200);
}

async fn normalize(backend: Backend) {
    let srv = HeraldServe::start(backend).await;
    let pretty = "{\n  \"type\": \"record\",\n  \"name\": \"N\",\n  \"fields\": [ {\"name\": \"a\", \"type\": \"string\"} ]\n}";
    let (status, reg) = srv
        .post("/subjects/n/versions?normalize=true", avro(pretty))
        .await;
    assert_eq!(status, 200);
    let (_, fetched) = srv.get(&format!("/schemas/ids/{}", reg["id"])).await;
    let stored = fetched["schema"].as_str().unwrap();
    assert!(
        !stored.contains('\n'),
        "normalized text is stored: {stored}"
    );
    let (_, again) = srv.post("/subjects/n/versions", avro(pretty)).await;
    assert_eq!(again["id"], reg["id"]);
}

/// After a restart the cache is empty: schemas (with references) load from the database.
async fn restart_loads_from_database(backend: Backend) {
    let srv = HeraldServe::start(backend).await;
    let address = json!({"type": "record", "name": "Address", "namespace": "com.acme",
        "fields": [{"name": "city", "type": "string"}]})
    .to_string();
    srv.post("/subjects/address/versions", avro(&address)).await;
    let customer = json!({"type": "record", "name": "Customer", "namespace": "com.acme",
        "fields": [{"name": "home", "type": "Address"}]})
    .to_string();
    let refs = json!([{"name": "com.acme.Address", "subject": "address", "version": 1}]);
    let (_, reg) = srv
        .post(
            "/subjects/customer/versions",
            json!({"schema": customer, "references": refs}),
        )
        .await;
    let db = srv.stop();

    let srv = HeraldServe::start_on(db);
    let (status, fetched) = srv.get(&format!("/schemas/ids/{}", reg["id"])).await;
    assert_eq!(status, 200, "{fetched}");
    assert_eq!(fetched["schema"].as_str(), Some(customer.as_str()));
    let (status, found) = srv
        .post(
            "/subjects/customer",
            json!({"schema": customer, "references": refs}),
        )
        .await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["id"], reg["id"]);
    // The compatibility check against the reloaded version still runs.
    let (status, again) = srv
        .post(
            "/subjects/customer/versions",
            json!({"schema": customer, "references": refs}),
        )
        .await;
    assert_eq!((status, &again["id"]), (200, &reg["id"]));
    let other = srv
        .post("/subjects/customer/versions", avro("\"string\""))
        .await;
    assert_error(&other, 409, 40901);
}

/// A database that fails under the registry answers 50001.
async fn store_errors(backend: Backend) {
    let srv = HeraldServe::start(backend).await;
    srv.post("/subjects/s/versions", avro("\"string\"")).await;
    srv.database().execute("DROP TABLE subject_versions").await;
    let answer = srv.get("/subjects").await;
    assert_error(&answer, 500, 50001);
    assert_error(
        &srv.post("/subjects/s/versions", avro("\"int\"")).await,
        500,
        50001,
    );
}

/// Version numbers outside [1, 2^31-1] in a request are answered 42202, never clamped.
async fn version_ranges(backend: Backend) {
    let srv = HeraldServe::start(backend).await;
    let v1 = avro_record("R", &["a"]);
    srv.post("/subjects/r/versions", avro(&v1)).await;
    for version in ["4294967296", "2147483648", "0", "-2"] {
        let path = format!("/subjects/r/versions/{version}");
        assert_error(&srv.get(&path).await, 422, 42202);
        assert_error(&srv.get(&format!("{path}/rust")).await, 422, 42202);
        assert_error(&srv.delete(&path).await, 422, 42202);
        let check = format!("/compatibility/subjects/r/versions/{version}");
        assert_error(&srv.post(&check, avro(&v1)).await, 422, 42202);
    }

    // IMPORT: a given version must be a version number too.
    let (status, _) = srv.put("/mode/imp", json!({"mode": "IMPORT"})).await;
    assert_eq!(status, 200);
    let schema = avro_record("Imp", &["a"]);
    for version in [4_294_967_296i64, 2_147_483_648, 0, -1] {
        let body = json!({"schema": schema, "id": 100, "version": version});
        assert_error(&srv.post("/subjects/imp/versions", body).await, 422, 42202);
    }
    // After version 2^31-1 no number is left: 42202, not an overflow.
    let body = json!({"schema": schema, "id": 100, "version": 2_147_483_647});
    let (status, reg) = srv.post("/subjects/imp/versions", body).await;
    assert_eq!((status, &reg["id"]), (200, &json!(100)), "{reg}");
    srv.put("/mode/imp", json!({"mode": "READWRITE"})).await;
    srv.put("/config/imp", json!({"compatibility": "NONE"}))
        .await;
    let next = avro(&avro_record("Imp", &["a", "b"]));
    assert_error(&srv.post("/subjects/imp/versions", next).await, 422, 42202);
    let (status, latest) = srv.get("/subjects/imp/versions/latest").await;
    assert_eq!((status, &latest["version"]), (200, &json!(2_147_483_647)));
}

/// A stored version outside [1, 2^31-1] is a corrupt row: 50001, never clamped.
async fn corrupt_versions(backend: Backend) {
    let srv = HeraldServe::start(backend).await;
    let v1 = avro_record("C", &["a"]);
    srv.post("/subjects/c/versions", avro(&v1)).await;
    srv.database()
        .execute("UPDATE subject_versions SET version = -5 WHERE subject = 'c'")
        .await;
    assert_error(&srv.get("/subjects/c/versions").await, 500, 50001);
    assert_error(
        &srv.post("/compatibility/subjects/c/versions", avro(&v1))
            .await,
        500,
        50001,
    );
    let v2 = avro(&avro_record("C", &["a", "b"]));
    assert_error(&srv.post("/subjects/c/versions", v2).await, 500, 50001);
    let (status, body) = srv.get("/schemas/ids/1/versions").await;
    assert_eq!(status, 500, "{body}");
}

backend_tests!(
    version_ranges,
    corrupt_versions,
    store_errors,
    restart_loads_from_database,
    schema_types_and_ids,
    content_types,
    subjects_and_versions,
    lookup,
    register_errors,
    schema_too_large,
    json_schemas,
    compatibility,
    config,
    modes,
    deletes,
    references,
    validate,
    health_ready_metrics,
    basic_auth,
    normalize,
);
