//! End to end: `herald serve` in a child process, `herald push` twice, `herald check
//! --registry` for a compatible and an incompatible change, and a refused push.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Command;

use herald_test_support::HeraldServe;
use serde_json::{Value, json};

const SCHEMAS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../schemas");

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn herald(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_herald"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn get(base: &str, path: &str) -> Value {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let text = reqwest::get(format!("{base}{path}"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        serde_json::from_str(&text).unwrap()
    })
}

fn customer_v3(dir: &Path, field: Value) {
    let path = dir.join("schemas/customer/v2.avsc");
    let mut schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    schema["fields"].as_array_mut().unwrap().push(field);
    std::fs::write(
        dir.join("schemas/customer/v3.avsc"),
        serde_json::to_string_pretty(&schema).unwrap(),
    )
    .unwrap();
}

#[test]
fn push_is_idempotent_and_check_registry_predicts_the_registry() {
    let work = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", work.path().join("registry.db").display());
    let server = HeraldServe::spawn(&database);
    let base = server.base.clone();
    let dir = work.path().join("project");
    copy_dir(Path::new(SCHEMAS), &dir.join("schemas"));

    // First push: every Avro snapshot, levels from herald.toml, and on every subject the
    // compatibility group that keeps the registry's checks within a major. Order's versions 2
    // and 3 are declared breaking: the registry (BACKWARD by default) accepts them because
    // each opens a new major.
    let (code, stdout, stderr) = herald(&dir, &["push", "--registry", &base]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(!stdout.contains("order-value: level set"), "{stdout}");
    assert!(
        stdout.contains("order-value: compatibility group set to herald.major"),
        "{stdout}"
    );
    assert!(
        stdout.contains("customer-value: level set to BACKWARD"),
        "{stdout}"
    );
    assert!(
        stdout.contains("order-value: v3 (schemas/order/v3.avsc) registered, schema id 4, major 3"),
        "{stdout}"
    );
    assert!(
        stdout.ends_with(
            "herald push: 4 version(s) registered, 0 already registered, 1 level(s) set, 2 compatibility group(s) set\n"
        ),
        "{stdout}"
    );
    assert_eq!(
        get(&base, "/subjects/order-value/versions"),
        json!([1, 2, 3])
    );
    assert_eq!(get(&base, "/subjects/customer-value/versions"), json!([1]));
    assert_eq!(
        get(&base, "/config/order-value"),
        json!({"compatibilityGroup": "herald.major"})
    );
    assert_eq!(
        get(&base, "/config/customer-value"),
        json!({"compatibilityLevel": "BACKWARD", "compatibilityGroup": "herald.major"})
    );
    for (version, major) in [(1, "1"), (2, "2"), (3, "3")] {
        assert_eq!(
            get(&base, &format!("/subjects/order-value/versions/{version}"))["metadata"],
            json!({"properties": {"herald.major": major}}),
            "order-value version {version}"
        );
    }
    let v3: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("schemas/order/v3.avsc")).unwrap())
            .unwrap();
    let registered: Value = serde_json::from_str(
        get(&base, "/subjects/order-value/versions/3")["schema"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(registered[0]["name"], v3[0]["name"]);

    // Second push: nothing changes, and it says so.
    let (code, stdout, _) = herald(&dir, &["push", "--registry", &base]);
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.ends_with("herald push: nothing to push, the registry is up to date (0 version(s) registered, 4 already registered, 0 level(s) set, 0 compatibility group(s) set)\n"),
        "{stdout}"
    );
    assert_eq!(
        get(&base, "/subjects/order-value/versions"),
        json!([1, 2, 3])
    );

    // Everything registered: check --registry passes and lists no new version.
    let (code, stdout, _) = herald(&dir, &["check", "--registry", &base]);
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.contains("order-value: v1 registered (version 1), v2 registered (version 2), v3 registered (version 3)"),
        "{stdout}"
    );
    assert!(
        stdout.ends_with(", 0 new version(s) for the registry\n"),
        "{stdout}"
    );

    // An order v4 that breaks everything: accepted when declared breaking (a new major in
    // versions.json, sent as the version's metadata), rejected when it is not.
    let order = dir.join("schemas/order");
    std::fs::copy(dir.join("schemas/customer/v2.avsc"), order.join("v4.avsc")).unwrap();
    let versions_path = order.join("versions.json");
    let published = std::fs::read_to_string(&versions_path).unwrap();
    let mut versions: Value = serde_json::from_str(&published).unwrap();
    versions["4"] = json!({"major": 4, "breaking": "a different event", "event_types": ["order"]});
    std::fs::write(&versions_path, versions.to_string()).unwrap();
    let (code, stdout, _) = herald(&dir, &["check", "--registry", &base]);
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.contains("v3 registered (version 3), v4 new, accepted"),
        "{stdout}"
    );
    versions["4"]["major"] = json!(3);
    std::fs::write(&versions_path, versions.to_string()).unwrap();
    let (code, stdout, _) = herald(&dir, &["check", "--registry", &base]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("v3 registered (version 3), v4 new, REJECTED"),
        "{stdout}"
    );
    assert!(stdout.contains("error[REGISTRY_INCOMPATIBLE]"), "{stdout}");
    assert!(stdout.contains("or declare version 4 breaking"), "{stdout}");
    std::fs::remove_file(order.join("v4.avsc")).unwrap();
    std::fs::write(&versions_path, published).unwrap();

    // A compatible change: a new field with a default.
    customer_v3(
        &dir,
        json!({"name": "email", "type": "string", "default": ""}),
    );
    let (code, stdout, _) = herald(&dir, &["check", "--registry", &base]);
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.contains("customer-value: v2 registered (version 1), v3 new, accepted"),
        "{stdout}"
    );
    assert!(
        stdout.ends_with(", 1 new version(s) for the registry\n"),
        "{stdout}"
    );

    // An incompatible change: the same field without a default, and a v4 after it.
    customer_v3(&dir, json!({"name": "email", "type": "string"}));
    let v3_text = std::fs::read_to_string(dir.join("schemas/customer/v3.avsc")).unwrap();
    std::fs::write(dir.join("schemas/customer/v4.avsc"), &v3_text).unwrap();
    let (code, stdout, _) = herald(&dir, &["check", "--registry", &base, "--output", "json"]);
    assert_eq!(code, 1, "{stdout}");
    let report: Value = serde_json::from_str(stdout.trim()).unwrap();
    let registry_kinds: Vec<&Value> = report["violations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["kind"] == "REGISTRY_INCOMPATIBLE")
        .collect();
    assert_eq!(registry_kinds.len(), 2, "{stdout}");
    assert_eq!(registry_kinds[0]["version"], 3);
    assert!(
        registry_kinds[0]["message"]
            .as_str()
            .unwrap()
            .contains("under subject `customer-value`"),
        "{stdout}"
    );
    let customer = report["subjects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["subject"] == "customer-value")
        .unwrap();
    assert_eq!(customer["versions"][1]["accepted"], false);
    assert!(
        customer["versions"][1]["messages"]
            .to_string()
            .contains("email"),
        "{stdout}"
    );

    // Pushing it is refused with the registry's message; nothing after it is pushed.
    let (code, stdout, _) = herald(&dir, &["push", "--registry", &base]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains(
            "customer-value: v3 (schemas/customer/v3.avsc) REJECTED by the registry (409)"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("nothing after it was pushed"), "{stdout}");
    assert_eq!(get(&base, "/subjects/customer-value/versions"), json!([1]));

    // Types for a pushed subject, from the CLI and from the registry itself.
    let (code, generated, stderr) = herald(
        &dir,
        &[
            "codegen",
            "--registry",
            &base,
            "--subject",
            "customer-value",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        generated.contains(
            "#[event(name = \"customer\", version = 1)]\npub struct CustomerRegistered {"
        ),
        "{generated}"
    );
    assert!(
        generated.contains("pub family_name: ::std::string::String,"),
        "{generated}"
    );
    assert_eq!(
        text(&base, "/subjects/customer-value/versions/1/rust"),
        (200, generated.clone())
    );
    let out = work.path().join("customer.rs");
    let (code, _, _) = herald(
        &dir,
        &[
            "codegen",
            "--registry",
            &base,
            "--subject",
            "order-value",
            "--version",
            "2",
            "-o",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0);
    let order = std::fs::read_to_string(&out).unwrap();
    assert!(
        order.contains("#[event(name = \"order\", version = 2, upcast_json = refuse_older_versions)]\npub enum Order {"),
        "{order}"
    );
    let (status, _) = text(&base, "/subjects/nobody-value/versions/1/rust");
    assert_eq!(status, 404);

    // A registered schema with no faithful Rust form: 422 naming the location.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let status = runtime.block_on(async {
        reqwest::Client::new()
            .post(format!("{base}/subjects/blob-value/versions"))
            .header("content-type", "application/vnd.schemaregistry.v1+json")
            .body(
                json!({"schema": r#"{"type":"record","name":"Blob","fields":[{"name":"data","type":["int","long"]}]}"#})
                    .to_string(),
            )
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    });
    assert_eq!(status, 200);
    let (status, body) = text(&base, "/subjects/blob-value/versions/1/rust");
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("/fields/0/type/1"), "{body}");
    let (code, _, stderr) = herald(
        &dir,
        &["codegen", "--registry", &base, "--subject", "blob-value"],
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("cannot be told apart"), "{stderr}");
    drop(server);
}

fn text(base: &str, path: &str) -> (u16, String) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let response = reqwest::get(format!("{base}{path}")).await.unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    })
}

#[test]
fn protobuf_snapshots_push_check_and_codegen() {
    let work = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", work.path().join("registry.db").display());
    let server = HeraldServe::spawn(&database);
    let base = server.base.clone();
    let dir = work.path().join("project");
    let shipment = dir.join("schemas/shipment");
    std::fs::create_dir_all(&shipment).unwrap();
    let v1 = "syntax = \"proto3\";\npackage acme;\n\nimport \"google/protobuf/timestamp.proto\";\n\n\
              message Shipped {\n  string id = 1;\n  google.protobuf.Timestamp at = 2;\n}\n";
    std::fs::write(shipment.join("v1.proto"), v1).unwrap();
    std::fs::write(
        shipment.join("v2.proto"),
        v1.replace("at = 2;\n", "at = 2;\n  int64 weight = 3;\n"),
    )
    .unwrap();

    let push = ["push", "--registry", &base, "--type", "PROTOBUF"];
    let (code, stdout, stderr) = herald(&dir, &push);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("shipment-value: v2 (schemas/shipment/v2.proto) registered"),
        "{stdout}"
    );
    assert_eq!(
        get(&base, "/subjects/shipment-value/versions"),
        json!([1, 2])
    );
    let v2 = get(&base, "/subjects/shipment-value/versions/2");
    assert_eq!(v2["schemaType"], "PROTOBUF", "{v2}");
    assert!(
        v2["schema"].as_str().unwrap().contains("int64 weight = 3;"),
        "{v2}"
    );
    // The Avro snapshots are another type: none here, nothing pushed.
    let (code, stdout, _) = herald(&dir, &["push", "--registry", &base]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("0 version(s) registered"), "{stdout}");

    // A second push changes nothing, and check --registry agrees.
    let (code, stdout, _) = herald(&dir, &push);
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.contains("0 version(s) registered, 2 already registered"),
        "{stdout}"
    );
    let (code, stdout, stderr) =
        herald(&dir, &["check", "--registry", &base, "--type", "PROTOBUF"]);
    assert_eq!(code, 0, "{stdout}{stderr}");

    // The registered version's Rust.
    let (code, stdout, stderr) = herald(
        &dir,
        &[
            "codegen",
            "--registry",
            &base,
            "--subject",
            "shipment-value",
        ],
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("pub weight: i64"), "{stdout}");
    assert!(
        stdout.contains("::core::option::Option<::prost_types::Timestamp>"),
        "{stdout}"
    );
}
