//! The DEK registry (`/dek-registry/v1/...`) on SQLite and PostgreSQL: KEKs and DEKs through
//! their whole life (create, read, list, update, soft and permanent delete, undelete) with
//! Confluent's error codes; DEKs the registry generates for a shared local-KMS KEK, which
//! the local KMS's secret unwraps; roles; the audit log; and no key material in the server's
//! log at any level.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes128Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::assert_error;
use herald_test_support::{Backend, HeraldServe, ServeSettings, backend_tests};
use reqwest::Method;
use serde_json::{Value, json};
use sha2_11::Sha256;

const SECRET: &str = "dek-test-secret-7f3a";
const KEKS: &str = "/dek-registry/v1/keks";

/// Sends a request, as `user` when given; answers the status and the JSON body (Null when
/// there is none).
async fn call(
    srv: &HeraldServe,
    user: Option<(&str, &str)>,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = srv.http.request(method, format!("{}{path}", srv.base));
    if let Some((name, password)) = user {
        request = request.basic_auth(name, Some(password));
    }
    if let Some(body) = body {
        request = request
            .header("content-type", "application/vnd.schemaregistry.v1+json")
            .body(body.to_string());
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn get(srv: &HeraldServe, path: &str) -> (u16, Value) {
    call(srv, None, Method::GET, path, None).await
}

async fn post(srv: &HeraldServe, path: &str, body: Value) -> (u16, Value) {
    call(srv, None, Method::POST, path, Some(body)).await
}

async fn delete(srv: &HeraldServe, path: &str) -> (u16, Value) {
    call(srv, None, Method::DELETE, path, None).await
}

#[track_caller]
fn ok(answer: (u16, Value)) -> Value {
    assert_eq!(answer.0, 200, "body: {}", answer.1);
    answer.1
}

#[track_caller]
fn no_content(answer: (u16, Value)) {
    assert_eq!(answer.0, 204, "body: {}", answer.1);
}

fn kek(name: &str, kms_type: &str, shared: bool) -> Value {
    json!({
        "name": name,
        "kmsType": kms_type,
        "kmsKeyId": format!("{kms_type}://{name}"),
        "kmsProps": {"region": "eu-west-1"},
        "doc": "a test key",
        "shared": shared,
    })
}

/// The client's local KMS with `secret`, written from its description (HKDF-SHA256 of the
/// secret, no salt, 16 bytes; AES-128-GCM with a 12-byte nonce first), not with the server's
/// code.
fn local_kms(secret: &str) -> Aes128Gcm {
    let mut key = [0u8; 16];
    hkdf::Hkdf::<Sha256>::new(None, secret.as_bytes())
        .expand(&[], &mut key)
        .unwrap();
    Aes128Gcm::new(&key.into())
}

fn unwrap_dek(secret: &str, encrypted: &str) -> Vec<u8> {
    let wrapped = STANDARD.decode(encrypted).unwrap();
    let (nonce, sealed) = wrapped.split_at(12);
    let nonce: [u8; 12] = nonce.try_into().unwrap();
    local_kms(secret)
        .decrypt(&Nonce::from(nonce), sealed)
        .expect("the local KMS's secret unwraps the DEK")
}

fn wrap_dek(secret: &str, raw: &[u8]) -> String {
    let nonce = [9u8; 12];
    let mut wrapped = nonce.to_vec();
    wrapped.extend(local_kms(secret).encrypt(&Nonce::from(nonce), raw).unwrap());
    STANDARD.encode(wrapped)
}

async fn kek_lifecycle(backend: Backend) {
    let srv = ServeSettings::new().start(backend).await;
    // Create, read, list; the same name again is 40971.
    let created = ok(post(&srv, KEKS, kek("k1", "aws-kms", false)).await);
    assert_eq!(created["name"], "k1");
    assert_eq!(created["kmsType"], "aws-kms");
    assert_eq!(created["kmsKeyId"], "aws-kms://k1");
    assert_eq!(created["kmsProps"], json!({"region": "eu-west-1"}));
    assert_eq!(created["doc"], "a test key");
    assert_eq!(created["shared"], false);
    assert_eq!(created["deleted"], false);
    assert!(created["ts"].as_i64().unwrap() > 0);
    assert_error(
        &post(&srv, KEKS, kek("k1", "aws-kms", false)).await,
        409,
        40971,
    );
    assert_eq!(ok(get(&srv, "/dek-registry/v1/keks/k1").await), created);
    assert_error(&get(&srv, "/dek-registry/v1/keks/nope").await, 404, 40470);
    ok(post(&srv, KEKS, kek("k2", "gcp", false)).await);
    assert_eq!(ok(get(&srv, KEKS).await), json!(["k1", "k2"]));
    assert_eq!(
        ok(get(&srv, &format!("{KEKS}?offset=1&limit=1")).await),
        json!(["k2"])
    );
    assert_eq!(
        ok(get(&srv, "/dek-registry/v1/keks/k2").await)["kmsType"],
        "gcp-kms",
        "cloud KMS types are normalized as Confluent does"
    );
    // Missing fields and bad names are 42271.
    let mut no_key_id = kek("k3", "aws-kms", false);
    no_key_id.as_object_mut().unwrap().remove("kmsKeyId");
    assert_error(&post(&srv, KEKS, no_key_id).await, 422, 42271);
    assert_error(
        &post(&srv, KEKS, kek("", "aws-kms", false)).await,
        422,
        42271,
    );
    // Update.
    let updated = ok(call(
        &srv,
        None,
        Method::PUT,
        "/dek-registry/v1/keks/k1",
        Some(json!({"doc": "changed", "kmsProps": {"a": "b"}})),
    )
    .await);
    assert_eq!(updated["doc"], "changed");
    assert_eq!(updated["kmsProps"], json!({"a": "b"}));
    assert_eq!(updated["shared"], false);
    assert_error(
        &call(
            &srv,
            None,
            Method::PUT,
            "/dek-registry/v1/keks/nope",
            Some(json!({})),
        )
        .await,
        404,
        40470,
    );
    // Soft delete, listings, undelete, permanent delete.
    assert_error(
        &delete(&srv, "/dek-registry/v1/keks/k2?permanent=true").await,
        404,
        40471,
    );
    no_content(delete(&srv, "/dek-registry/v1/keks/k2").await);
    assert_error(&get(&srv, "/dek-registry/v1/keks/k2").await, 404, 40470);
    let soft = ok(get(&srv, "/dek-registry/v1/keks/k2?deleted=true").await);
    assert_eq!(soft["deleted"], true);
    assert_eq!(ok(get(&srv, KEKS).await), json!(["k1"]));
    assert_eq!(
        ok(get(&srv, &format!("{KEKS}?deleted=true")).await),
        json!(["k1", "k2"])
    );
    no_content(post(&srv, "/dek-registry/v1/keks/k2/undelete", json!({})).await);
    assert_eq!(
        ok(get(&srv, "/dek-registry/v1/keks/k2").await)["deleted"],
        false
    );
    no_content(delete(&srv, "/dek-registry/v1/keks/k2").await);
    no_content(delete(&srv, "/dek-registry/v1/keks/k2?permanent=true").await);
    assert_error(
        &get(&srv, "/dek-registry/v1/keks/k2?deleted=true").await,
        404,
        40470,
    );
    assert_error(&delete(&srv, "/dek-registry/v1/keks/k2").await, 404, 40470);
    assert_error(
        &post(&srv, "/dek-registry/v1/keks/k2/undelete", json!({})).await,
        404,
        40470,
    );
}

async fn dek_lifecycle(backend: Backend) {
    let srv = ServeSettings::new().start(backend).await;
    ok(post(&srv, KEKS, kek("k", "aws-kms", false)).await);
    let deks = "/dek-registry/v1/keks/k/deks";
    let material = STANDARD.encode(b"wrapped by the client's KMS");
    // Version 1 by default; the client's wrapped material is stored as given.
    let first = ok(post(
        &srv,
        &format!("{deks}/orders-value"),
        json!({"encryptedKeyMaterial": material}),
    )
    .await);
    assert_eq!(first["kekName"], "k");
    assert_eq!(first["subject"], "orders-value");
    assert_eq!(first["version"], 1);
    assert_eq!(first["algorithm"], "AES256_GCM");
    assert_eq!(first["encryptedKeyMaterial"], material.as_str());
    assert!(first.get("keyMaterial").is_none(), "{first}");
    assert_eq!(first["deleted"], false);
    // The same (KEK, subject, algorithm, version) again is 40971; other versions and
    // algorithms are other DEKs.
    assert_error(
        &post(
            &srv,
            &format!("{deks}/orders-value"),
            json!({"encryptedKeyMaterial": material}),
        )
        .await,
        409,
        40971,
    );
    ok(post(
        &srv,
        &format!("{deks}/orders-value"),
        json!({"encryptedKeyMaterial": material, "version": 2}),
    )
    .await);
    ok(post(
        &srv,
        &format!("{deks}/orders-value"),
        json!({"encryptedKeyMaterial": material, "algorithm": "AES256_SIV"}),
    )
    .await);
    // The deprecated form, with the subject in the body.
    ok(post(
        &srv,
        deks,
        json!({"subject": "users-value", "encryptedKeyMaterial": material}),
    )
    .await);
    // Without material for a KEK that is not shared, or with bad values: 42271; no KEK: 40470.
    assert_error(
        &post(&srv, &format!("{deks}/x"), json!({})).await,
        422,
        42271,
    );
    assert_error(
        &post(
            &srv,
            &format!("{deks}/x"),
            json!({"encryptedKeyMaterial": "%%%"}),
        )
        .await,
        422,
        42271,
    );
    assert_error(
        &post(
            &srv,
            &format!("{deks}/x"),
            json!({"encryptedKeyMaterial": material, "algorithm": "ROT13"}),
        )
        .await,
        422,
        42271,
    );
    assert_error(
        &post(
            &srv,
            "/dek-registry/v1/keks/nope/deks/x",
            json!({"encryptedKeyMaterial": material}),
        )
        .await,
        404,
        40470,
    );
    // Reads.
    assert_eq!(
        ok(get(&srv, deks).await),
        json!(["orders-value", "users-value"])
    );
    let versions = format!("{deks}/orders-value/versions");
    assert_eq!(ok(get(&srv, &versions).await), json!([1, 2]));
    assert_eq!(
        ok(get(&srv, &format!("{versions}?algorithm=AES256_SIV")).await),
        json!([1])
    );
    assert_eq!(
        ok(get(&srv, &format!("{versions}/latest")).await)["version"],
        2
    );
    assert_eq!(ok(get(&srv, &format!("{versions}/-1")).await)["version"], 2);
    assert_eq!(ok(get(&srv, &format!("{versions}/1")).await), first);
    assert_eq!(ok(get(&srv, &format!("{deks}/orders-value")).await), first);
    assert_eq!(
        ok(get(&srv, &format!("{deks}/orders-value?algorithm=AES256_SIV")).await)["algorithm"],
        "AES256_SIV"
    );
    assert_error(&get(&srv, &format!("{versions}/3")).await, 404, 40470);
    assert_error(&get(&srv, &format!("{versions}/0")).await, 422, 42202);
    assert_error(&get(&srv, &format!("{versions}/x")).await, 422, 42202);
    assert_error(
        &get(&srv, &format!("{versions}?algorithm=nope")).await,
        422,
        42271,
    );
    assert_error(
        &get(&srv, &format!("{deks}/nobody/versions/1")).await,
        404,
        40470,
    );
    assert_error(
        &get(&srv, "/dek-registry/v1/keks/nope/deks").await,
        404,
        40470,
    );
    // A KEK with live DEKs cannot be deleted (42272).
    assert_error(&delete(&srv, "/dek-registry/v1/keks/k").await, 422, 42272);
    // Soft delete of one version, listings with deleted=true, undelete.
    assert_error(
        &delete(&srv, &format!("{versions}/2?permanent=true")).await,
        404,
        40471,
    );
    no_content(delete(&srv, &format!("{versions}/2")).await);
    assert_eq!(ok(get(&srv, &versions).await), json!([1]));
    assert_eq!(
        ok(get(&srv, &format!("{versions}?deleted=true")).await),
        json!([1, 2])
    );
    assert_error(&get(&srv, &format!("{versions}/2")).await, 404, 40470);
    let soft = ok(get(&srv, &format!("{versions}/2?deleted=true")).await);
    assert_eq!(soft["deleted"], true);
    assert_eq!(
        ok(get(&srv, &format!("{versions}/latest")).await)["version"],
        1
    );
    no_content(post(&srv, &format!("{versions}/2/undelete"), json!({})).await);
    assert_eq!(ok(get(&srv, &versions).await), json!([1, 2]));
    // Every version of a subject: soft, then permanent.
    assert_error(
        &delete(&srv, &format!("{deks}/orders-value?permanent=true")).await,
        404,
        40471,
    );
    no_content(delete(&srv, &format!("{deks}/orders-value")).await);
    assert_eq!(ok(get(&srv, &versions).await), json!([]));
    assert_eq!(
        ok(get(&srv, deks).await),
        json!(["orders-value", "users-value"])
    );
    no_content(post(&srv, &format!("{deks}/orders-value/undelete"), json!({})).await);
    assert_eq!(ok(get(&srv, &versions).await), json!([1, 2]));
    no_content(delete(&srv, &format!("{deks}/orders-value")).await);
    no_content(delete(&srv, &format!("{deks}/orders-value?permanent=true")).await);
    assert_eq!(
        ok(get(&srv, &format!("{versions}?deleted=true")).await),
        json!([])
    );
    assert_error(
        &delete(&srv, &format!("{deks}/orders-value")).await,
        404,
        40470,
    );
    // The SIV DEK and users-value still hold the KEK; once soft-deleted, the KEK may be
    // soft-deleted, and undeleting a DEK under it is 40472; permanently only once they are
    // gone.
    no_content(delete(&srv, &format!("{deks}/orders-value?algorithm=AES256_SIV")).await);
    no_content(delete(&srv, &format!("{deks}/users-value")).await);
    no_content(delete(&srv, "/dek-registry/v1/keks/k").await);
    assert_error(
        &post(&srv, &format!("{deks}/users-value/undelete"), json!({})).await,
        404,
        40472,
    );
    assert_error(
        &delete(&srv, "/dek-registry/v1/keks/k?permanent=true").await,
        422,
        42272,
    );
    no_content(delete(&srv, &format!("{deks}/users-value?permanent=true")).await);
    no_content(
        delete(
            &srv,
            &format!("{deks}/orders-value?algorithm=AES256_SIV&permanent=true"),
        )
        .await,
    );
    no_content(delete(&srv, "/dek-registry/v1/keks/k?permanent=true").await);
    assert_error(
        &get(&srv, "/dek-registry/v1/keks/k?deleted=true").await,
        404,
        40470,
    );
    // Every write was audited, with the principal and without key material.
    let audit = ok(get(&srv, "/audit?limit=1000").await);
    let entries = audit["entries"].as_array().unwrap();
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for action in [
        "create-kek",
        "delete-kek",
        "create-dek",
        "delete-dek",
        "undelete-dek",
    ] {
        assert!(actions.contains(&action), "no {action} in {actions:?}");
    }
    let create = entries
        .iter()
        .find(|e| e["action"] == "create-dek")
        .unwrap();
    assert_eq!(create["principal"], "anonymous");
    assert_eq!(create["subject"], "orders-value");
    assert!(audit.to_string().contains("kek=k"), "{audit}");
    assert!(!audit.to_string().contains(&material), "{audit}");
}

async fn shared_kek_deks(backend: Backend) {
    let srv = ServeSettings::new()
        .env("HERALD_LOCAL_KMS_SECRET", SECRET)
        .start(backend)
        .await;
    ok(post(
        &srv,
        &format!("{KEKS}?testSharing=true"),
        kek("shared", "local-kms", true),
    )
    .await);
    // The registry generates each algorithm's key as Tink's key proto, wrapped by the KEK;
    // the local KMS's secret unwraps it into the key material answered.
    for (algorithm, tag, size) in [
        ("AES128_GCM", 0x1a, 16),
        ("AES256_GCM", 0x1a, 32),
        ("AES256_SIV", 0x12, 64),
    ] {
        let dek = ok(post(
            &srv,
            "/dek-registry/v1/keks/shared/deks/orders-value",
            json!({"algorithm": algorithm}),
        )
        .await);
        let raw = STANDARD
            .decode(dek["keyMaterial"].as_str().unwrap())
            .unwrap();
        assert_eq!(raw.len(), size + 2, "{algorithm}");
        assert_eq!((raw[0], usize::from(raw[1])), (tag, size), "{algorithm}");
        let unwrapped = unwrap_dek(SECRET, dek["encryptedKeyMaterial"].as_str().unwrap());
        assert_eq!(unwrapped, raw, "{algorithm}");
        // Reads answer the same raw material.
        let read = ok(get(
            &srv,
            &format!(
                "/dek-registry/v1/keks/shared/deks/orders-value/versions/1?algorithm={algorithm}"
            ),
        )
        .await);
        assert_eq!(read["keyMaterial"], dek["keyMaterial"], "{algorithm}");
        assert_eq!(read["encryptedKeyMaterial"], dek["encryptedKeyMaterial"]);
    }
    // A client may wrap the key itself with the same KMS; the registry answers the raw key
    // back, and refuses material its KEK cannot unwrap.
    let raw = b"\x1a\x10sixteen byte key".to_vec();
    let given = ok(post(
        &srv,
        "/dek-registry/v1/keks/shared/deks/users-value",
        json!({"encryptedKeyMaterial": wrap_dek(SECRET, &raw), "version": 3}),
    )
    .await);
    let read = ok(get(
        &srv,
        "/dek-registry/v1/keks/shared/deks/users-value/versions/3",
    )
    .await);
    assert_eq!(read["keyMaterial"], STANDARD.encode(&raw));
    assert_eq!(read["version"], given["version"]);
    assert_error(
        &post(
            &srv,
            "/dek-registry/v1/keks/shared/deks/users-value",
            json!({"encryptedKeyMaterial": wrap_dek("another secret", &raw)}),
        )
        .await,
        422,
        42271,
    );
    // Sharing a KEK later lets the registry answer the raw material of its DEKs.
    ok(post(&srv, KEKS, kek("later", "local-kms", false)).await);
    let wrapped = wrap_dek(SECRET, &raw);
    let before = ok(post(
        &srv,
        "/dek-registry/v1/keks/later/deks/s",
        json!({"encryptedKeyMaterial": wrapped}),
    )
    .await);
    assert!(before.get("keyMaterial").is_none(), "{before}");
    ok(call(
        &srv,
        None,
        Method::PUT,
        "/dek-registry/v1/keks/later",
        Some(json!({"shared": true})),
    )
    .await);
    let after = ok(get(&srv, "/dek-registry/v1/keks/later/deks/s/versions/1").await);
    assert_eq!(after["keyMaterial"], STANDARD.encode(&raw));
    // A shared KEK of a KMS the registry cannot reach: DEKs must come wrapped, and are
    // answered without raw material.
    ok(post(&srv, KEKS, kek("cloud", "aws-kms", true)).await);
    assert_error(
        &post(&srv, "/dek-registry/v1/keks/cloud/deks/s", json!({})).await,
        422,
        42271,
    );
    let cloud = ok(post(
        &srv,
        "/dek-registry/v1/keks/cloud/deks/s",
        json!({"encryptedKeyMaterial": STANDARD.encode(b"wrapped by AWS")}),
    )
    .await);
    assert!(cloud.get("keyMaterial").is_none(), "{cloud}");
    assert_error(
        &post(&srv, "/dek-registry/v1/keks/cloud/test", json!({})).await,
        422,
        42271,
    );
    assert_eq!(
        ok(post(&srv, "/dek-registry/v1/keks/shared/test", json!({})).await)["name"],
        "shared"
    );
    assert_error(
        &post(
            &srv,
            &format!("{KEKS}?testSharing=true"),
            kek("cloud2", "aws-kms", true),
        )
        .await,
        422,
        42271,
    );
}

async fn no_secret_no_generation(backend: Backend) {
    let srv = ServeSettings::new().start(backend).await;
    ok(post(&srv, KEKS, kek("shared", "local-kms", true)).await);
    let answer = post(&srv, "/dek-registry/v1/keks/shared/deks/s", json!({})).await;
    assert_error(&answer, 500, 50070);
    assert!(
        answer.1["message"]
            .as_str()
            .unwrap()
            .contains("HERALD_LOCAL_KMS_SECRET"),
        "{}",
        answer.1
    );
}

async fn roles(backend: Backend) {
    let srv = ServeSettings::new()
        .users("writer:wpw:write\nreader:rpw:read\n")
        .start(backend)
        .await;
    let writer = Some(("writer", "wpw"));
    let reader = Some(("reader", "rpw"));
    let material = STANDARD.encode(b"wrapped");
    let (status, _) = call(
        &srv,
        reader,
        Method::POST,
        KEKS,
        Some(kek("k", "aws-kms", false)),
    )
    .await;
    assert_eq!(status, 403, "a reader cannot create a KEK");
    ok(call(
        &srv,
        writer,
        Method::POST,
        KEKS,
        Some(kek("k", "aws-kms", false)),
    )
    .await);
    let dek = Some(json!({"encryptedKeyMaterial": material}));
    let path = "/dek-registry/v1/keks/k/deks/s";
    assert_eq!(
        call(&srv, reader, Method::POST, path, dek.clone()).await.0,
        403
    );
    ok(call(&srv, writer, Method::POST, path, dek).await);
    assert_eq!(
        ok(call(&srv, reader, Method::GET, KEKS, None).await),
        json!(["k"])
    );
    ok(call(
        &srv,
        reader,
        Method::GET,
        &format!("{path}/versions/1"),
        None,
    )
    .await);
    let change = Some(json!({"doc": "x"}));
    let kek_path = "/dek-registry/v1/keks/k";
    assert_eq!(
        call(&srv, reader, Method::PUT, kek_path, change).await.0,
        403
    );
    assert_eq!(call(&srv, reader, Method::DELETE, path, None).await.0, 403);
    no_content(call(&srv, writer, Method::DELETE, path, None).await);
    let undelete = format!("{path}/undelete");
    assert_eq!(
        call(&srv, reader, Method::POST, &undelete, None).await.0,
        403
    );
    assert_eq!(call(&srv, None, Method::GET, KEKS, None).await.0, 401);
    // A writer is no admin: the audit log stays closed to it.
    let (status, audit) = call(&srv, Some(("writer", "wpw")), Method::GET, "/audit", None).await;
    assert_eq!(status, 403, "the audit log is for admins: {audit}");
}

async fn key_material_stays_out_of_logs(backend: Backend) {
    let srv = ServeSettings::new()
        .env("HERALD_LOCAL_KMS_SECRET", SECRET)
        .env("RUST_LOG", "trace")
        .start(backend)
        .await;
    ok(post(&srv, KEKS, kek("shared", "local-kms", true)).await);
    ok(post(&srv, KEKS, kek("own", "aws-kms", false)).await);
    let mut secrets = vec![SECRET.to_owned()];
    for subject in ["a", "b"] {
        let dek = ok(post(
            &srv,
            &format!("/dek-registry/v1/keks/shared/deks/{subject}"),
            json!({}),
        )
        .await);
        let raw = STANDARD
            .decode(dek["keyMaterial"].as_str().unwrap())
            .unwrap();
        secrets.push(dek["keyMaterial"].as_str().unwrap().to_owned());
        secrets.push(dek["encryptedKeyMaterial"].as_str().unwrap().to_owned());
        // The key itself, without its proto header, in base64 and hex.
        secrets.push(STANDARD.encode(&raw[2..]));
        secrets.push(raw[2..].iter().map(|b| format!("{b:02x}")).collect());
        ok(get(
            &srv,
            &format!("/dek-registry/v1/keks/shared/deks/{subject}/versions/latest"),
        )
        .await);
    }
    let given = STANDARD.encode(b"the client's own wrapped key material");
    secrets.push(given.clone());
    ok(post(
        &srv,
        "/dek-registry/v1/keks/own/deks/c",
        json!({"encryptedKeyMaterial": given}),
    )
    .await);
    // Errors on the way: a duplicate, material the KEK cannot unwrap.
    assert_error(
        &post(
            &srv,
            "/dek-registry/v1/keks/own/deks/c",
            json!({"encryptedKeyMaterial": given}),
        )
        .await,
        409,
        40971,
    );
    let foreign = wrap_dek("not the secret", b"\x1a\x10foreign key bytes");
    secrets.push(foreign.clone());
    assert_error(
        &post(
            &srv,
            "/dek-registry/v1/keks/shared/deks/d",
            json!({"encryptedKeyMaterial": foreign}),
        )
        .await,
        422,
        42271,
    );
    // The log is at trace (trace lines show up, and the debug line of the last request)
    // and holds none of it.
    let logs = srv.wait_for_logs(&["status=422", " TRACE "]).await;
    for secret in &secrets {
        assert!(
            !logs.contains(secret.as_str()),
            "key material {secret} in the log"
        );
    }
}

async fn openapi_documents_the_dek_registry(backend: Backend) {
    let srv = ServeSettings::new().start(backend).await;
    let document = ok(get(&srv, "/openapi.json").await);
    let paths = document["paths"].as_object().unwrap();
    for path in [
        "/dek-registry/v1/keks",
        "/dek-registry/v1/keks/{name}",
        "/dek-registry/v1/keks/{name}/undelete",
        "/dek-registry/v1/keks/{name}/test",
        "/dek-registry/v1/keks/{name}/deks",
        "/dek-registry/v1/keks/{name}/deks/{subject}",
        "/dek-registry/v1/keks/{name}/deks/{subject}/undelete",
        "/dek-registry/v1/keks/{name}/deks/{subject}/versions",
        "/dek-registry/v1/keks/{name}/deks/{subject}/versions/{version}",
        "/dek-registry/v1/keks/{name}/deks/{subject}/versions/{version}/undelete",
    ] {
        assert!(
            paths.contains_key(path),
            "no {path} in the OpenAPI document"
        );
    }
    let schemas = &document["components"]["schemas"];
    assert!(schemas["Dek"]["properties"]["keyMaterial"].is_object());
    assert!(schemas["Kek"]["properties"]["kmsProps"].is_object());
}

backend_tests!(
    kek_lifecycle,
    dek_lifecycle,
    shared_kek_deks,
    no_secret_no_generation,
    roles,
    key_material_stays_out_of_logs,
    openapi_documents_the_dek_registry,
);
