//! The audit trail, on SQLite and PostgreSQL: every write made through the API is recorded
//! with its principal and time (and nothing else is); versions answer when and by whom they
//! were registered (`ts`, `heraldRegisteredBy`), and versions stored before the registry
//! recorded it answer neither; `GET /audit` and `/ui/audit` are for the admin role only.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{SystemTime, UNIX_EPOCH};

use common::avro_record;
use herald_test_support::{Backend, HeraldServe, ServeSettings, backend_tests};
use reqwest::Method;
use serde_json::{Value, json};

const USERS: &str = "admin:apw:admin\nwriter:wpw:write\nreader:rpw:read\n";

fn now_millis() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

fn avro(fields: &[&str]) -> Value {
    json!({ "schema": avro_record("Order", fields) })
}

/// One signed-in user of a server with credentials (none: a server without).
struct User<'a> {
    srv: &'a HeraldServe,
    name: Option<&'a str>,
    password: &'a str,
}

impl<'a> User<'a> {
    fn new(srv: &'a HeraldServe, name: &'a str, password: &'a str) -> Self {
        User {
            srv,
            name: Some(name),
            password,
        }
    }

    fn anonymous(srv: &'a HeraldServe) -> Self {
        User {
            srv,
            name: None,
            password: "",
        }
    }

    async fn text(&self, method: Method, path: &str, body: Option<&Value>) -> (u16, String) {
        let mut request = self
            .srv
            .http
            .request(method, format!("{}{path}", self.srv.base));
        if let Some(name) = self.name {
            request = request.basic_auth(name, Some(self.password));
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/vnd.schemaregistry.v1+json")
                .body(body.to_string());
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        (status, response.text().await.expect("body"))
    }

    async fn send(&self, method: Method, path: &str, body: Option<&Value>) -> (u16, Value) {
        let (status, text) = self.text(method, path, body).await;
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn ok(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let (status, answer) = self.send(method.clone(), path, body.as_ref()).await;
        assert_eq!(status, 200, "{method} {path}: {answer}");
        answer
    }

    /// Every entry of the audit log, read a page of `limit` at a time.
    async fn audit(&self, limit: usize) -> Vec<Value> {
        let mut entries = Vec::new();
        let mut after = 0;
        loop {
            let page = self
                .ok(
                    Method::GET,
                    &format!("/audit?after={after}&limit={limit}"),
                    None,
                )
                .await;
            let got = page["entries"].as_array().unwrap().clone();
            assert!(got.len() <= limit, "{page}");
            entries.extend(got);
            match page["next"].as_i64() {
                Some(next) => after = next,
                None => return entries,
            }
        }
    }
}

/// An entry as (principal, action, subject, version, detail).
fn summary(entry: &Value) -> (String, String, Value, Value, Value) {
    (
        entry["principal"].as_str().unwrap().to_owned(),
        entry["action"].as_str().unwrap().to_owned(),
        entry["subject"].clone(),
        entry["version"].clone(),
        entry["detail"].clone(),
    )
}

fn expected(
    principal: &str,
    action: &str,
    subject: Option<&str>,
    version: Option<i32>,
    detail: &str,
) -> (String, String, Value, Value, Value) {
    (
        principal.to_owned(),
        action.to_owned(),
        json!(subject),
        json!(version),
        json!(detail),
    )
}

async fn every_write_is_audited(backend: Backend) {
    let srv = ServeSettings::new().users(USERS).start(backend).await;
    let admin = User::new(&srv, "admin", "apw");
    let writer = User::new(&srv, "writer", "wpw");
    let reader = User::new(&srv, "reader", "rpw");
    let before = now_millis();

    let first = writer
        .ok(
            Method::POST,
            "/subjects/orders/versions",
            Some(avro(&["a"])),
        )
        .await;
    // The same schema again creates nothing, so records nothing.
    writer
        .ok(
            Method::POST,
            "/subjects/orders/versions",
            Some(avro(&["a"])),
        )
        .await;
    admin
        .ok(
            Method::PUT,
            "/config/orders",
            Some(json!({"compatibility": "NONE"})),
        )
        .await;
    let second = admin
        .ok(
            Method::POST,
            "/subjects/orders/versions",
            Some(avro(&["a", "b"])),
        )
        .await;
    let version = writer
        .ok(Method::GET, "/subjects/orders/versions/1", None)
        .await;
    assert_eq!(version["heraldRegisteredBy"], "writer", "{version}");
    let registered_at = version["ts"].as_i64().expect("ts");
    assert!(
        before <= registered_at && registered_at <= now_millis(),
        "{version}"
    );
    let version = writer
        .ok(Method::GET, "/subjects/orders/versions/latest", None)
        .await;
    assert_eq!(version["heraldRegisteredBy"], "admin", "{version}");

    writer
        .ok(
            Method::PUT,
            "/config",
            Some(json!({"compatibility": "FULL", "normalize": true})),
        )
        .await;
    writer.ok(Method::DELETE, "/config", None).await;
    writer.ok(Method::DELETE, "/config/orders", None).await;
    writer
        .ok(
            Method::PUT,
            "/mode/orders",
            Some(json!({"mode": "READONLY"})),
        )
        .await;
    writer.ok(Method::DELETE, "/mode/orders", None).await;
    writer
        .ok(Method::PUT, "/mode", Some(json!({"mode": "READWRITE"})))
        .await;
    writer.ok(Method::DELETE, "/mode", None).await;
    writer
        .ok(Method::DELETE, "/subjects/orders/versions/2", None)
        .await;
    writer
        .ok(
            Method::DELETE,
            "/subjects/orders/versions/2?permanent=true",
            None,
        )
        .await;
    writer.ok(Method::DELETE, "/subjects/orders", None).await;
    writer
        .ok(Method::DELETE, "/subjects/orders?permanent=true", None)
        .await;

    // Refused writes change nothing and record nothing.
    let (status, _) = reader
        .send(
            Method::POST,
            "/subjects/orders/versions",
            Some(&avro(&["c"])),
        )
        .await;
    assert_eq!(status, 403);
    let (status, _) = writer.send(Method::DELETE, "/config/orders", None).await;
    assert_eq!(status, 404);
    let (status, _) = writer.send(Method::DELETE, "/mode/orders", None).await;
    assert_eq!(status, 404);
    let after = now_millis();

    // Read two at a time, so paging is exercised too.
    let entries = admin.audit(2).await;
    let got: Vec<_> = entries.iter().map(summary).collect();
    let orders = Some("orders");
    assert_eq!(
        got,
        vec![
            expected("writer", "register", orders, Some(1), "AVRO"),
            expected("admin", "set-config", orders, None, "compatibility=NONE"),
            expected("admin", "register", orders, Some(2), "AVRO"),
            expected(
                "writer",
                "set-config",
                None,
                None,
                "compatibility=FULL, normalize=true"
            ),
            expected(
                "writer",
                "delete-config",
                None,
                None,
                "compatibility=FULL, normalize=true"
            ),
            expected(
                "writer",
                "delete-config",
                orders,
                None,
                "compatibility=NONE"
            ),
            expected("writer", "set-mode", orders, None, "mode=READONLY"),
            expected("writer", "delete-mode", orders, None, "mode=READONLY"),
            expected("writer", "set-mode", None, None, "mode=READWRITE"),
            expected("writer", "delete-mode", None, None, "mode=READWRITE"),
            expected("writer", "delete-version", orders, Some(2), "soft"),
            expected("writer", "delete-version", orders, Some(2), "permanent"),
            expected("writer", "delete-subject", orders, Some(1), "soft"),
            expected("writer", "delete-subject", orders, Some(1), "permanent"),
        ]
    );
    assert_eq!(entries[0]["schemaId"], first["id"]);
    assert_eq!(
        entries[0]["ts"], registered_at,
        "the version's time is its entry's"
    );
    assert_eq!(entries[2]["schemaId"], second["id"]);
    assert_eq!(entries[10]["schemaId"], second["id"]);
    let mut last_id = 0;
    for entry in &entries {
        let id = entry["id"].as_i64().unwrap();
        assert!(id > last_id, "ids grow in the order written: {entry}");
        last_id = id;
        let ts = entry["ts"].as_i64().unwrap();
        assert!(before <= ts && ts <= after, "{entry}");
        let at = entry["at"].as_str().unwrap();
        assert!(
            at.len() == 24 && at.ends_with('Z') && at.as_bytes()[10] == b'T',
            "RFC 3339 UTC: {entry}"
        );
    }
    // A page past the end is empty and the last.
    let page = admin
        .ok(Method::GET, &format!("/audit?after={last_id}"), None)
        .await;
    assert_eq!(page, json!({"entries": [], "next": null}));
}

async fn audit_log_is_for_admins(backend: Backend) {
    let srv = ServeSettings::new().users(USERS).start(backend).await;
    let admin = User::new(&srv, "admin", "apw");
    let writer = User::new(&srv, "writer", "wpw");
    let reader = User::new(&srv, "reader", "rpw");
    writer
        .ok(Method::POST, "/subjects/s/versions", Some(avro(&["a"])))
        .await;
    for user in [&reader, &writer] {
        let (status, body) = user.send(Method::GET, "/audit", None).await;
        assert_eq!(status, 403, "{body}");
        assert_eq!(body["error_code"], 403, "{body}");
        let (status, page) = user.text(Method::GET, "/ui/audit", None).await;
        assert_eq!(status, 403, "{page}");
        let (status, page) = user.text(Method::GET, "/ui", None).await;
        assert_eq!(status, 200);
        assert!(!page.contains("href=\"/ui/audit\""), "{page}");
    }
    let page = admin.ok(Method::GET, "/audit", None).await;
    assert_eq!(page["entries"][0]["principal"], "writer", "{page}");
    assert_eq!(page["next"], Value::Null);
    let (status, html) = admin.text(Method::GET, "/ui/audit", None).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("<table id=\"audit\">"), "{html}");
    assert!(html.contains("<td>writer</td>"), "{html}");
    assert!(html.contains("<code>register</code>"), "{html}");
    let (_, home) = admin.text(Method::GET, "/ui", None).await;
    assert!(home.contains("href=\"/ui/audit\""), "{home}");
    // A cursor that is not a number is refused, not read as 0.
    let (status, body) = admin.send(Method::GET, "/audit?after=x", None).await;
    assert_eq!(status, 400, "{body}");
}

async fn open_without_credentials(backend: Backend) {
    let srv = HeraldServe::start(backend).await;
    let anyone = User::anonymous(&srv);
    anyone
        .ok(Method::POST, "/subjects/s/versions", Some(avro(&["a"])))
        .await;
    let page = anyone.ok(Method::GET, "/audit", None).await;
    assert_eq!(page["entries"][0]["principal"], "anonymous", "{page}");
    assert_eq!(page["entries"][0]["action"], "register", "{page}");
    let version = anyone.ok(Method::GET, "/subjects/s/versions/1", None).await;
    assert_eq!(version["heraldRegisteredBy"], "anonymous", "{version}");
}

/// A version stored before the upgrade (a row without the new columns, as the old registry
/// wrote it) answers no time and no principal, and the log makes none up.
async fn versions_from_before_the_upgrade_are_unknown(backend: Backend) {
    let srv = HeraldServe::start(backend).await;
    let db = srv.database();
    let old = avro_record("Old", &["a"]);
    db.execute(&format!(
        "INSERT INTO schemas (id, schema_type, schema_text, schema_key) \
         VALUES (500, 'AVRO', '{old}', 'stored-before-the-upgrade')"
    ))
    .await;
    db.execute(
        "INSERT INTO subject_versions (subject, version, schema_id, deleted) \
         VALUES ('legacy', 1, 500, FALSE)",
    )
    .await;
    let anyone = User::anonymous(&srv);
    let version = anyone
        .ok(Method::GET, "/subjects/legacy/versions/1", None)
        .await;
    assert_eq!(version["id"], 500, "{version}");
    assert!(version.get("ts").is_none(), "{version}");
    assert!(version.get("heraldRegisteredBy").is_none(), "{version}");
    let found = anyone
        .ok(
            Method::POST,
            "/subjects/legacy",
            Some(json!({"schema": avro_record("Old", &["a"])})),
        )
        .await;
    assert!(found.get("ts").is_none(), "{found}");

    anyone
        .ok(
            Method::PUT,
            "/config/legacy",
            Some(json!({"compatibility": "NONE"})),
        )
        .await;
    anyone
        .ok(
            Method::POST,
            "/subjects/legacy/versions",
            Some(avro(&["b"])),
        )
        .await;
    let newer = anyone
        .ok(Method::GET, "/subjects/legacy/versions/2", None)
        .await;
    assert!(newer["ts"].is_i64(), "{newer}");

    let (status, html) = anyone.text(Method::GET, "/ui/subjects/legacy", None).await;
    assert_eq!(status, 200, "{html}");
    assert_eq!(html.matches("registered: unknown").count(), 1, "{html}");
    assert!(html.contains(" by anonymous"), "{html}");

    let log = anyone.audit(100).await;
    let registered: Vec<&Value> = log
        .iter()
        .filter(|e| e["action"] == "register")
        .map(|e| &e["version"])
        .collect();
    assert_eq!(registered, vec![&json!(2)], "{log:?}");
}

/// Entries cannot be changed or removed, not even by SQL run by hand.
async fn audit_log_is_append_only(backend: Backend) {
    let srv = HeraldServe::start(backend).await;
    User::anonymous(&srv)
        .ok(Method::POST, "/subjects/s/versions", Some(avro(&["a"])))
        .await;
    let url = &srv.database().url;
    for sql in [
        "DELETE FROM audit_log",
        "UPDATE audit_log SET principal = 'someone else'",
    ] {
        let refused = match backend {
            Backend::Sqlite => {
                let pool = sqlx::SqlitePool::connect(url).await.unwrap();
                let result = sqlx::query(sql).execute(&pool).await;
                pool.close().await;
                result.err()
            }
            Backend::Postgres => {
                let pool = sqlx::PgPool::connect(url).await.unwrap();
                let result = sqlx::query(sql).execute(&pool).await;
                pool.close().await;
                result.err()
            }
        };
        let err = refused.unwrap_or_else(|| panic!("`{sql}` was allowed"));
        assert!(err.to_string().contains("append-only"), "{err}");
    }
    let log = User::anonymous(&srv).audit(10).await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["principal"], "anonymous");
}

backend_tests!(
    every_write_is_audited,
    audit_log_is_for_admins,
    open_without_credentials,
    versions_from_before_the_upgrade_are_unknown,
    audit_log_is_append_only,
);
