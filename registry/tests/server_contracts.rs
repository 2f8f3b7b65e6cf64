//! Confluent's data contracts through the HTTP API: `metadata` and `ruleSet` on register and
//! lookup, their inheritance and config merge, schema identity, `compatibilityGroup`,
//! `/subjects/{s}/metadata`, rule validation (42210) and `/config` as a partial update —
//! against SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{assert_error, avro_record};
use herald_test_support::{Backend, HeraldServe, backend_tests};
use serde_json::{Value, json};

fn with_contract(schema: &str, metadata: Value, rule_set: Value) -> Value {
    let mut body = json!({ "schema": schema });
    if !metadata.is_null() {
        body["metadata"] = metadata;
    }
    if !rule_set.is_null() {
        body["ruleSet"] = rule_set;
    }
    body
}

fn rules() -> Value {
    json!({"domainRules": [{"name": "checkId", "kind": "CONDITION", "mode": "WRITE",
        "type": "CEL", "expr": "message.id != ''", "params": {"b": "2", "a": "1"},
        "tags": ["PII"], "onFailure": "ERROR"}]})
}

async fn round_trip(backend: Backend) {
    let srv = HeraldServe::start(backend).await;
    let schema = avro_record("Order", &["id"]);
    let metadata = json!({"properties": {"owner": "sales", "major_version": "1"},
        "tags": {"Order.id": ["PII"]}, "sensitive": ["owner"]});
    let (status, reg) = srv
        .post(
            "/subjects/orders/versions",
            with_contract(&schema, metadata.clone(), rules()),
        )
        .await;
    assert_eq!(status, 200, "{reg}");
    assert_eq!(reg["version"], 1, "{reg}");
    assert_eq!(reg["metadata"], metadata);
    let id = reg["id"].as_i64().unwrap();

    let (_, version) = srv.get("/subjects/orders/versions/1").await;
    assert_eq!(version["metadata"], metadata, "{version}");
    let rule = &version["ruleSet"]["domainRules"][0];
    assert_eq!(rule["name"], "checkId");
    assert_eq!(rule["kind"], "CONDITION");
    assert_eq!(rule["mode"], "WRITE");
    assert_eq!(rule["params"], json!({"a": "1", "b": "2"}));
    let (_, by_id) = srv.get(&format!("/schemas/ids/{id}")).await;
    assert_eq!(by_id["metadata"], metadata, "{by_id}");
    assert_eq!(by_id["ruleSet"], version["ruleSet"]);

    // Lookup: without metadata any version with the text matches; with metadata it must be
    // equal.
    let (status, found) = srv
        .post("/subjects/orders", json!({ "schema": schema }))
        .await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["id"], id);
    assert_eq!(found["metadata"], metadata);
    let (status, found) = srv
        .post(
            "/subjects/orders",
            with_contract(&schema, metadata.clone(), rules()),
        )
        .await;
    assert_eq!(status, 200, "{found}");
    assert_error(
        &srv.post(
            "/subjects/orders",
            with_contract(&schema, json!({"properties": {"owner": "x"}}), Value::Null),
        )
        .await,
        404,
        40403,
    );

    // After a restart (an empty cache) the contract comes back from the database.
    let db = srv.stop();
    let srv = HeraldServe::start_on(db);
    let (_, again) = srv.get(&format!("/schemas/ids/{id}")).await;
    assert_eq!(again["metadata"], metadata);
    assert_eq!(again["ruleSet"], by_id["ruleSet"]);
}

async fn inheritance_and_identity(backend: Backend) {
    let srv = HeraldServe::start(backend).await;
    let v1 = avro_record("User", &["id"]);
    let metadata = json!({"properties": {"owner": "team-a"}});
    let (_, first) = srv
        .post(
            "/subjects/users/versions",
            with_contract(&v1, metadata.clone(), rules()),
        )
        .await;
    // Same text, no metadata: inherits the latest version's, so it is the same version.
    let (_, same) = srv
        .post("/subjects/users/versions", json!({ "schema": v1 }))
        .await;
    assert_eq!(same["id"], first["id"]);
    assert_eq!(srv.get("/subjects/users/versions").await.1, json!([1]));

    // A new schema without metadata inherits both metadata and rule set.
    let v2 = json!({"type": "record", "name": "User", "fields": [
        {"name": "id", "type": "string"},
        {"name": "email", "type": ["null", "string"], "default": null}]})
    .to_string();
    let (status, second) = srv
        .post("/subjects/users/versions", json!({ "schema": v2 }))
        .await;
    assert_eq!(status, 200, "{second}");
    let (_, latest) = srv.get("/subjects/users/versions/latest").await;
    assert_eq!(latest["version"], 2);
    assert_eq!(latest["metadata"], metadata);
    assert_eq!(latest["ruleSet"]["domainRules"][0]["name"], "checkId");

    // Same text, new metadata: a new version with a new id.
    let other = json!({"properties": {"owner": "team-b"}});
    let (_, third) = srv
        .post(
            "/subjects/users/versions",
            with_contract(&v2, other.clone(), Value::Null),
        )
        .await;
    assert_ne!(third["id"], second["id"]);
    assert_eq!(third["version"], 3);
    // The same combination under another subject: the same id.
    let (_, elsewhere) = srv
        .post(
            "/subjects/users-copy/versions",
            with_contract(&v2, other, rules()),
        )
        .await;
    assert_eq!(elsewhere["id"], third["id"], "{elsewhere}");

    // A doc-only change is a new version with a new id, and the doc is kept.
    let documented = json!({"type": "record", "name": "User", "doc": "A user", "fields": [
        {"name": "id", "type": "string", "doc": "The id"},
        {"name": "email", "type": ["null", "string"], "default": null}]})
    .to_string();
    let (status, fourth) = srv
        .post("/subjects/users/versions", json!({ "schema": documented }))
        .await;
    assert_eq!(status, 200, "{fourth}");
    assert_ne!(fourth["id"], third["id"]);
    let (_, latest) = srv.get("/subjects/users/versions/latest").await;
    assert_eq!(latest["version"], 4);
    assert!(latest["schema"].as_str().unwrap().contains("A user"));

    // normalize=true keeps documentation and matches the same schema spelled otherwise.
    let pretty = serde_json::to_string_pretty(&json!({"type": "record", "name": "N",
        "namespace": "acme", "doc": "kept", "fields": [{"name": "a", "type": {"type": "string"}}]}))
    .unwrap();
    let (_, normalized) = srv
        .post(
            "/subjects/n/versions?normalize=true",
            json!({ "schema": pretty }),
        )
        .await;
    let (_, stored) = srv.get(&format!("/schemas/ids/{}", normalized["id"])).await;
    let text = stored["schema"].as_str().unwrap();
    assert!(text.contains("kept") && text.contains("acme.N"), "{text}");
    let spelled = json!({"type": "record", "name": "acme.N", "doc": "kept", "fields": [{"name": "a", "type": "string"}]});
    let (_, again) = srv
        .post(
            "/subjects/n/versions",
            json!({ "schema": spelled.to_string() }),
        )
        .await;
    assert_eq!(again["id"], normalized["id"]);
    // JSON Schema: a description-only change is a new version.
    let json_v1 = json!({"type": "object", "properties": {"a": {"type": "string"}}});
    let json_v2 = json!({"type": "object", "description": "now documented",
        "properties": {"a": {"type": "string"}}});
    let (_, j1) = srv
        .post(
            "/subjects/j/versions",
            json!({"schema": json_v1.to_string(), "schemaType": "JSON"}),
        )
        .await;
    let (_, j2) = srv
        .post(
            "/subjects/j/versions",
            json!({"schema": json_v2.to_string(), "schemaType": "JSON"}),
        )
        .await;
    assert_ne!(j1["id"], j2["id"]);
}

async fn config_merge_and_group(backend: Backend) {
    let srv = HeraldServe::start(backend).await;
    // Partial updates keep the other fields.
    let (status, put) = srv
        .put(
            "/config/events",
            json!({"compatibilityGroup": "major_version",
                "defaultMetadata": {"properties": {"owner": "default", "tier": "gold"}},
                "overrideMetadata": {"properties": {"owner": "platform"}}}),
        )
        .await;
    assert_eq!(status, 200, "{put}");
    assert_eq!(put["compatibilityGroup"], "major_version");
    srv.put(
        "/config/events",
        json!({"compatibility": "FULL", "normalize": true}),
    )
    .await;
    let (_, config) = srv.get("/config/events").await;
    assert_eq!(config["compatibilityGroup"], "major_version", "{config}");
    assert_eq!(config["compatibilityLevel"], "FULL");
    assert_eq!(config["normalize"], true);
    assert_eq!(
        config["overrideMetadata"],
        json!({"properties": {"owner": "platform"}})
    );
    srv.put("/config/events", json!({"compatibility": "BACKWARD"}))
        .await;
    let (_, config) = srv.get("/config/events").await;
    assert_eq!(config["compatibilityGroup"], "major_version", "{config}");
    assert_eq!(config["compatibilityLevel"], "BACKWARD");
    srv.put("/config", json!({"validateFields": false})).await;
    let (_, global) = srv.get("/config").await;
    assert_eq!(
        global,
        json!({"compatibilityLevel": "BACKWARD", "validateFields": false})
    );

    // Merge order: default, then the request's, then override.
    let v1 = avro_record("Event", &["id"]);
    let (status, reg) = srv
        .post(
            "/subjects/events/versions",
            with_contract(
                &v1,
                json!({"properties": {"owner": "mine", "major_version": "1"}}),
                Value::Null,
            ),
        )
        .await;
    assert_eq!(status, 200, "{reg}");
    assert_eq!(
        reg["metadata"]["properties"],
        json!({"owner": "platform", "tier": "gold", "major_version": "1"})
    );

    // An incompatible schema (a new required field) is refused within major 1 ...
    let breaking = avro_record("Event", &["id", "kind"]);
    let answer = srv
        .post(
            "/subjects/events/versions",
            with_contract(
                &breaking,
                json!({"properties": {"major_version": "1"}}),
                Value::Null,
            ),
        )
        .await;
    assert_error(&answer, 409, 40901);
    // ... and let in as major 2.
    let (status, major) = srv
        .post(
            "/subjects/events/versions",
            with_contract(
                &breaking,
                json!({"properties": {"major_version": "2"}}),
                Value::Null,
            ),
        )
        .await;
    assert_eq!(status, 200, "{major}");
    // Within major 2 the check runs again.
    let worse = avro_record("Event", &["id", "kind", "more"]);
    assert_error(
        &srv.post(
            "/subjects/events/versions",
            with_contract(
                &worse,
                json!({"properties": {"major_version": "2"}}),
                Value::Null,
            ),
        )
        .await,
        409,
        40901,
    );

    // /subjects/{s}/metadata: the latest version holding every pair.
    let (status, found) = srv
        .get("/subjects/events/metadata?key=major_version&value=1")
        .await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["version"], 1);
    assert_eq!(found["subject"], "events");
    let (_, found) = srv
        .get("/subjects/events/metadata?key=major_version&value=2&key=tier&value=gold")
        .await;
    assert_eq!(found["version"], 2);
    assert_error(
        &srv.get("/subjects/events/metadata?key=major_version&value=3")
            .await,
        404,
        40403,
    );
    assert_error(
        &srv.get("/subjects/nope/metadata?key=a&value=b").await,
        404,
        40401,
    );
    srv.delete("/subjects/events/versions/2").await;
    let (_, found) = srv
        .get("/subjects/events/metadata?key=major_version&value=2")
        .await;
    assert_eq!(found["error_code"], 40403);
    let (status, found) = srv
        .get("/subjects/events/metadata?key=major_version&value=2&deleted=true")
        .await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["version"], 2);

    // Deleting the subject's config removes every field.
    let (status, _) = srv.delete("/config/events").await;
    assert_eq!(status, 200);
    assert_error(&srv.get("/config/events").await, 404, 40408);
}

async fn rule_validation(backend: Backend) {
    let srv = HeraldServe::start(backend).await;
    let schema = avro_record("R", &["a"]);
    let cases = [
        (json!({"type": "CEL"}), "Missing rule name"),
        (
            json!({"name": "bad name", "type": "CEL"}),
            "Illegal character in rule name: bad name",
        ),
        (json!({"name": "noType"}), "Missing rule type"),
        (
            json!({"name": "twice", "type": "CEL", "mode": "WRITE", "onFailure": "ERROR,NONE"}),
            "Multiple actions only valid with WRITEREAD and UPDOWN",
        ),
    ];
    for (rule, message) in cases {
        let body = with_contract(&schema, Value::Null, json!({ "domainRules": [rule] }));
        let answer = srv.post("/subjects/r/versions", body).await;
        assert_error(&answer, 422, 42210);
        assert_eq!(answer.1["message"], message);
    }
    // Two actions are fine for WRITEREAD; a migration rule in the domain list is not.
    let ok = json!({"name": "both", "type": "CEL", "onFailure": "ERROR,NONE"});
    let (status, body) = srv
        .post(
            "/subjects/r/versions",
            with_contract(&schema, Value::Null, json!({ "domainRules": [ok] })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let migration = json!({"name": "up", "type": "JSONATA", "mode": "UPGRADE"});
    assert_error(
        &srv.post(
            "/subjects/r/versions",
            with_contract(&schema, Value::Null, json!({ "domainRules": [migration] })),
        )
        .await,
        422,
        42210,
    );
    // Config rule sets are validated too.
    assert_error(
        &srv.put(
            "/config/r",
            json!({"defaultRuleSet": {"domainRules": [{"name": "x"}]}}),
        )
        .await,
        422,
        42210,
    );
}

/// A schema stored before the identity kept docs is rekeyed at start-up: registering it
/// again finds its id instead of adding a version.
async fn upgrade_rekeys(backend: Backend) {
    let srv = HeraldServe::start(backend).await;
    let schema = json!({"type": "record", "name": "Old", "doc": "d",
        "fields": [{"name": "a", "type": "string"}]})
    .to_string();
    let (_, first) = srv
        .post("/subjects/old/versions", json!({ "schema": schema }))
        .await;
    let db = srv.stop();
    db.execute("UPDATE schemas SET schema_key = 'fingerprint-of-old', key_version = 1")
        .await;
    let srv = HeraldServe::start_on(db);
    let (_, again) = srv
        .post("/subjects/old/versions", json!({ "schema": schema }))
        .await;
    assert_eq!(again["id"], first["id"]);
    assert_eq!(srv.get("/subjects/old/versions").await.1, json!([1]));
}

backend_tests!(
    upgrade_rekeys,
    round_trip,
    inheritance_and_identity,
    config_merge_and_group,
    rule_validation,
);
