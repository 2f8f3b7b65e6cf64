//! The web UI's pages over HTTP (no browser) on SQLite and PostgreSQL: the subject list's
//! one-query page (search ignoring ASCII case, `_` and `%` taken literally, paging, soft-deleted
//! subjects, own and global settings), and the pages of a subject, a diff and a schema.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
#[path = "ui_browser/webdriver.rs"]
#[allow(dead_code)]
mod webdriver;

use common::avro_record;
use herald_test_support::{Backend, HeraldServe, backend_tests};
use serde_json::json;

/// `GET path`, as a browser asks for it.
async fn fetch(server: &HeraldServe, path: &str) -> reqwest::Response {
    server
        .http
        .get(format!("{}{path}", server.base))
        .header("accept", "text/html")
        .send()
        .await
        .expect("GET")
}

async fn page(server: &HeraldServe, path: &str) -> String {
    let answer = fetch(server, path).await;
    assert_eq!(answer.status(), 200, "GET {path}");
    assert_hardened(path, answer.headers());
    let html = answer.text().await.expect("page");
    webdriver::assert_valid_html(path, &html);
    html
}

/// The browser-hardening headers every UI answer carries: no framing, no inline script, no
/// sniffing, paths kept to this origin.
fn assert_hardened(path: &str, headers: &reqwest::header::HeaderMap) {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_else(|| panic!("{path}: no {name} header"))
            .to_owned()
    };
    let policy = header("content-security-policy");
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(policy.contains(directive), "{path}: {policy}");
    }
    assert!(!policy.contains("unsafe-inline"), "{path}: {policy}");
    assert_eq!(header("x-frame-options"), "DENY", "{path}");
    assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
    assert_eq!(header("referrer-policy"), "same-origin", "{path}");
}

/// Error pages and authentication challenges of the UI are hardened too; API answers are not
/// touched.
async fn hardening_covers_errors_and_challenges(backend: Backend) {
    let server = HeraldServe::start(backend).await;
    let missing = fetch(&server, "/ui/subjects/nope").await;
    assert_eq!(missing.status(), 404);
    assert_hardened("/ui/subjects/nope", missing.headers());
    // A version that does not exist is a 404 page too, not the latest version.
    let client = server.client();
    let (status, _) = client
        .post(
            "/subjects/one/versions",
            json!({"schema": avro_record("One", &["a"])}),
        )
        .await;
    assert_eq!(status, 200);
    let absent = fetch(&server, "/ui/subjects/one?version=9").await;
    assert_eq!(absent.status(), 404);
    let text = absent.text().await.expect("page");
    assert!(text.contains("Version 9 not found"), "{text}");
    // `latest` names a version in the UI's paths as in the API's; a bad one is an HTML page.
    let rust = page(&server, "/ui/subjects/one/versions/latest/rust").await;
    assert!(rust.contains("Rust code for one version 1"), "{rust}");
    page(&server, "/ui/subjects/one/versions/latest/validate").await;
    let bad = fetch(&server, "/ui/subjects/one/versions/first/rust").await;
    assert_eq!(bad.status(), 422);
    let content_type = bad.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let api = server
        .http
        .get(format!("{}/subjects", server.base))
        .send()
        .await
        .expect("GET");
    assert_eq!(api.status(), 200);
    assert!(api.headers().get("content-security-policy").is_none());

    let guarded = herald_test_support::ServeSettings::new()
        .users("reader:secret:read\n")
        .start(backend)
        .await;
    let challenge = fetch(&guarded, "/ui").await;
    assert_eq!(challenge.status(), 401);
    assert_hardened("/ui (401)", challenge.headers());
}

/// The rows of the subjects table.
fn rows(html: &str) -> usize {
    html.matches("<tr><td><a href=\"/ui/subjects/").count()
}

async fn list_pages(backend: Backend) {
    let server = HeraldServe::start(backend).await;
    let client = server.client();
    let register = |subject: String, schema: String| {
        let client = client.clone();
        async move {
            let (status, body) = client
                .post(
                    &format!("/subjects/{subject}/versions"),
                    json!({"schema": schema}),
                )
                .await;
            assert_eq!(status, 200, "{subject}: {body}");
        }
    };
    for i in 0..55 {
        register(format!("s-{i:03}"), avro_record(&format!("S{i}"), &["id"])).await;
    }
    for name in ["Orders-value", "a_b-value", "axb-value", "50%-value"] {
        register(name.to_owned(), avro_record("Named", &["id"])).await;
    }
    // Version 2 goes in under NONE; under the global BACKWARD its verdict is a violation.
    client
        .put("/config/Orders-value", json!({"compatibility": "NONE"}))
        .await;
    register(
        "Orders-value".to_owned(),
        avro_record("Named", &["id", "x"]),
    )
    .await;
    client.delete("/config/Orders-value").await;
    client.delete("/subjects/axb-value").await;
    client
        .put("/config/a_b-value", json!({"compatibility": "FULL"}))
        .await;
    client
        .put("/mode/a_b-value", json!({"mode": "READONLY"}))
        .await;

    let first = page(&server, "/ui").await;
    assert!(first.contains("59 subjects."), "total count");
    assert_eq!(rows(&first), 50, "a page holds 50 subjects");
    assert!(first.contains("Page 1 of 2"));
    let second = page(&server, "/ui?page=2").await;
    assert_eq!(rows(&second), 9);

    let search = page(&server, "/ui?q=ORDERS").await;
    assert_eq!(rows(&search), 1, "search ignores ASCII case");
    assert!(search.contains("<td>AVRO</td><td class=\"num\">2</td><td class=\"num\">2</td>"));
    let literal = page(&server, "/ui?q=a_b").await;
    assert_eq!(rows(&literal), 1, "`_` is not a wildcard");
    assert!(
        literal.contains("<td>FULL</td><td>READONLY</td>"),
        "own settings"
    );
    assert_eq!(
        rows(&page(&server, "/ui?q=50%25").await),
        1,
        "`%` is not a wildcard"
    );
    let deleted = page(&server, "/ui?q=axb").await;
    assert_eq!(rows(&deleted), 1, "soft-deleted subjects are listed");
    assert!(deleted.contains("soft-deleted"));
    assert!(deleted.contains("BACKWARD (global)"));
    assert_eq!(rows(&page(&server, "/ui?q=nothing-like-it").await), 0);

    let subject = page(&server, "/ui/subjects/Orders-value").await;
    assert!(
        subject.contains("incompatible (1 violation)"),
        "version 2 adds a field without default"
    );
    let diff = page(&server, "/ui/subjects/Orders-value/diff?from=1&to=2").await;
    assert!(diff.contains("Version 2 is not compatible with version 1."));
    page(&server, "/ui/schemas/1").await;
    page(&server, "/ui/settings").await;
}

backend_tests!(list_pages, hardening_covers_errors_and_challenges);
