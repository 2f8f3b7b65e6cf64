//! PROTOBUF through the registry's HTTP API, on SQLite and PostgreSQL: `GET /schemas/types`,
//! registration and lookup (identity follows the printed text), references as imports,
//! well-known imports without references, `format=serialized`, payload validation, and
//! hostile schemas refused with 42201 quickly.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use herald_registry::schema::{Schema, SchemaType};
use herald_test_support::{Backend, HeraldServe, ServeSettings, backend_tests};
use serde_json::{Value, json};

const MONEY: &str = "syntax = \"proto3\";\npackage acme;\n\nmessage Money {\n  string currency = 1;\n  int64 units = 2;\n}\n";
const ORDER: &str = "syntax = \"proto3\";\npackage acme;\n\n// Orders.\nimport \"acme/money.proto\";\nimport \"google/protobuf/timestamp.proto\";\nimport \"google/type/date.proto\";\n\n\
message Order {\n    string id = 1; // the id\n    Money total = 2;\n    google.protobuf.Timestamp placed_at = 3;\n    google.type.Date due = 4;\n    repeated Line lines = 5;\n}\n\
message Line { string sku = 1; uint32 quantity = 2; }\n";

fn proto(text: &str) -> Value {
    json!({ "schemaType": "PROTOBUF", "schema": text })
}

async fn schema_types(backend: Backend) {
    let srv = HeraldServe::start(backend).await;
    let (status, types) = srv.get("/schemas/types").await;
    assert_eq!(status, 200);
    assert_eq!(types, json!(["JSON", "PROTOBUF", "AVRO"]));
}

async fn register_and_look_up(backend: Backend) {
    let srv = HeraldServe::start(backend).await;
    let (status, money) = srv.post("/subjects/money/versions", proto(MONEY)).await;
    assert_eq!(status, 200, "{money}");
    let mut order = proto(ORDER);
    order["references"] = json!([{"name": "acme/money.proto", "subject": "money", "version": 1}]);
    let (status, created) = srv.post("/subjects/orders/versions", order.clone()).await;
    assert_eq!(status, 200, "{created}");
    let id = created["id"].as_i64().unwrap();
    assert_ne!(Some(id), money["id"].as_i64());

    let (status, by_id) = srv.get(&format!("/schemas/ids/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(by_id["schemaType"], "PROTOBUF");
    assert_eq!(by_id["references"][0]["name"], "acme/money.proto");
    let stored = by_id["schema"].as_str().unwrap();
    assert!(
        stored.starts_with("syntax = \"proto3\";\npackage acme;\n\nimport \"acme/money.proto\";"),
        "{stored}"
    );
    assert!(
        stored.contains("message Order {\n  string id = 1;\n  Money total = 2;"),
        "{stored}"
    );
    assert!(!stored.contains("//"), "comments are dropped: {stored}");

    // The same schema spelled differently is the same schema.
    let mut respelled = order.clone();
    respelled["schema"] = json!(ORDER.replace("    ", "\t").replace("// the id", ""));
    let (status, again) = srv
        .post("/subjects/orders/versions", respelled.clone())
        .await;
    assert_eq!((status, again["id"].as_i64()), (200, Some(id)), "{again}");
    let (status, found) = srv.post("/subjects/orders", respelled).await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(
        (found["id"].as_i64(), found["version"].as_i64()),
        (Some(id), Some(1))
    );
    let (_, versions) = srv.get("/subjects/orders/versions").await;
    assert_eq!(versions, json!([1]));
    let (_, version) = srv.get("/subjects/orders/versions/latest").await;
    assert_eq!(version["schema"], by_id["schema"]);

    // Without its reference the import does not resolve.
    let (status, missing) = srv.post("/subjects/orders2/versions", proto(ORDER)).await;
    common::assert_error(&(status, missing.clone()), 422, 42201);
    assert!(
        missing["message"]
            .as_str()
            .unwrap()
            .contains("acme/money.proto"),
        "{missing}"
    );

    // `format=serialized`: the base64 FileDescriptorProto, which registers as the same schema.
    let (status, serialized) = srv
        .get(&format!("/schemas/ids/{id}?format=serialized"))
        .await;
    assert_eq!(status, 200);
    let encoded = serialized["schema"].as_str().unwrap();
    assert!(!encoded.contains(' ') && encoded != stored);
    let (_, version_serialized) = srv
        .get("/subjects/orders/versions/1?format=serialized")
        .await;
    assert_eq!(version_serialized["schema"].as_str(), Some(encoded));
    let mut as_descriptor = order.clone();
    as_descriptor["schema"] = json!(encoded);
    let (status, same) = srv.post("/subjects/orders", as_descriptor).await;
    assert_eq!((status, same["id"].as_i64()), (200, Some(id)), "{same}");

    // normalize=true stores the normalized form.
    let (status, normalized) = srv
        .post("/subjects/norm/versions?normalize=true", proto(MONEY))
        .await;
    assert_eq!(status, 200, "{normalized}");
    let (_, fetched) = srv.get(&format!("/schemas/ids/{}", normalized["id"])).await;
    let canonical = Schema::parse(SchemaType::Protobuf, MONEY).unwrap();
    assert_eq!(fetched["schema"].as_str(), Some(canonical.canonical()));
}

async fn validate_payloads(backend: Backend) {
    let srv = HeraldServe::start(backend).await;
    srv.post("/subjects/money/versions", proto(MONEY)).await;
    let mut order = proto(ORDER);
    order["references"] = json!([{"name": "acme/money.proto", "subject": "money", "version": 1}]);
    let (status, _) = srv.post("/subjects/orders/versions", order).await;
    assert_eq!(status, 200);
    let good = json!({"id": "o-1", "total": {"currency": "EUR", "units": "12"},
        "placedAt": "2024-05-01T10:00:00Z", "due": {"year": 2024, "month": 6, "day": 1},
        "lines": [{"sku": "a", "quantity": 2}]});
    let (status, answer) = srv.post("/subjects/orders/versions/1/validate", good).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["is_valid"], true, "{answer}");
    let bad = json!({"id": 7, "total": {"units": "many"}, "lines": [{"sku": "a"}, {"qty": 1}]});
    let (_, answer) = srv
        .post(
            "/subjects/orders/versions/1/validate?message=acme.Order",
            bad,
        )
        .await;
    assert_eq!(answer["is_valid"], false, "{answer}");
    let locations: Vec<&str> = answer["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["location"].as_str().unwrap())
        .collect();
    assert_eq!(
        locations,
        ["#/id", "#/lines/1/qty", "#/total/units"],
        "{answer}"
    );
    let (status, line) = srv
        .post(
            "/subjects/orders/versions/1/validate?message=Line",
            json!({"sku": "b"}),
        )
        .await;
    assert_eq!((status, &line["is_valid"]), (200, &json!(true)), "{line}");
    let (status, _) = srv
        .post(
            "/subjects/orders/versions/1/validate?message=Nope",
            json!({}),
        )
        .await;
    assert_eq!(status, 400);
}

async fn hostile_schemas(backend: Backend) {
    // A body limit above the 5 MB schema, so the schema limit (1 MiB) answers.
    let srv = ServeSettings::new()
        .env("HERALD_MAX_BODY_BYTES", 16 << 20)
        .start(backend)
        .await;
    let deep =
        "syntax = \"proto3\";\n".to_owned() + &"message A {".repeat(10_000) + &"}".repeat(10_000);
    let mut big = String::from("syntax = \"proto3\";\nmessage Big {\n");
    let mut number = 1;
    while big.len() < 5 << 20 {
        big.push_str(&format!(
            "  string field_with_a_long_name_{number} = {number};\n"
        ));
        number += 1;
    }
    big.push_str("}\n");
    let cases: [(&str, String); 5] = [
        (
            "unterminated block",
            "syntax = \"proto3\";\nmessage A {\n  int32 a = 1;\n".to_owned(),
        ),
        ("10,000-deep nesting", deep),
        (
            "import cycle",
            "syntax = \"proto3\";\nimport \"default\";\nmessage A {}\n".to_owned(),
        ),
        (
            "unknown import",
            "syntax = \"proto3\";\nimport \"nowhere/else.proto\";\nmessage A {}\n".to_owned(),
        ),
        ("5 MB file", big),
    ];
    for (label, text) in cases {
        let started = Instant::now();
        let (status, body) = srv.post("/subjects/hostile/versions", proto(&text)).await;
        let took = started.elapsed();
        assert_eq!(status, 422, "{label}: {body}");
        let code = body["error_code"].as_u64();
        // Oversized schemas have their own code, as for the other formats.
        let expected = if label == "5 MB file" { 42209 } else { 42201 };
        assert_eq!(code, Some(expected), "{label}: {body}");
        assert!(
            !body["message"].as_str().unwrap_or("").is_empty(),
            "{label}"
        );
        assert!(took < Duration::from_secs(5), "{label} took {took:?}");
        eprintln!("{label}: {status} {code:?} in {took:?}");
    }
    // A file of comments and whitespace only is the empty schema, refused as `""` is.
    for text in ["// nothing here\n", "/* a block */\n  \n// and a line\n"] {
        let (status, body) = srv.post("/subjects/hostile/versions", proto(text)).await;
        assert_eq!(
            (status, body["error_code"].as_u64()),
            (422, Some(42201)),
            "{body}"
        );
        assert_eq!(body["message"], "Empty schema", "{text:?}");
    }
    assert_eq!(srv.get("/subjects").await.1, serde_json::json!([]));
}

backend_tests!(
    schema_types,
    register_and_look_up,
    validate_payloads,
    hostile_schemas
);
