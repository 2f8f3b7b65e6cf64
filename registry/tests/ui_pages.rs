//! The web UI's pages over HTTP (no browser) on SQLite and PostgreSQL: the subject list's
//! page (search ignoring ASCII case, `_` and `%` taken literally, paging, natural order,
//! soft-deleted subjects, own and global settings), the pages of a subject (`..` included), a
//! diff and a schema, the API reference, the forms that register and delete (their guards),
//! the download, and the browser-hardening headers on every UI answer.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
#[path = "ui_browser/webdriver.rs"]
#[allow(dead_code)]
mod webdriver;

use common::{avro_record, raw_request};
use herald_test_support::{Backend, HeraldServe, ServeSettings, backend_tests};
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

/// A client that shows redirects instead of following them.
fn no_redirect() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// `POST path` with a form, sent from the server's own pages (its `Origin`) unless `origin`
/// names another.
async fn post_form(
    server: &HeraldServe,
    path: &str,
    form: &[(&str, &str)],
    origin: Option<&str>,
    user: Option<(&str, &str)>,
) -> reqwest::Response {
    let mut request = no_redirect()
        .post(format!("{}{path}", server.base))
        .header("accept", "text/html")
        .header("origin", origin.unwrap_or(&server.base))
        .form(form);
    if let Some((name, password)) = user {
        request = request.basic_auth(name, Some(password));
    }
    request.send().await.expect("POST")
}

/// A form POST: path, fields, `Origin` (the server's own when `None`) and the status
/// expected.
type FormPost<'a> = (&'a str, &'a [(&'a str, &'a str)], Option<&'a str>, u16);

/// Every kind of UI answer (pages, the API reference, assets, a download, redirects, error
/// pages, refused forms) carries the hardening headers.
async fn every_ui_answer_is_hardened(backend: Backend) {
    let server = HeraldServe::start(backend).await;
    let client = server.client();
    for fields in [&["a"][..], &["a", "b"]] {
        let (status, body) = client
            .put("/config/one", json!({"compatibility": "NONE"}))
            .await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = client
            .post(
                "/subjects/one/versions",
                json!({"schema": avro_record("One", fields)}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }
    let html = page(&server, "/ui").await;
    let style = html
        .split("href=\"")
        .find_map(|rest| rest.split('"').next().filter(|href| href.ends_with(".css")))
        .expect("a stylesheet")
        .to_owned();
    let gets: [(&str, u16); 22] = [
        ("/", 303),
        ("/ui", 200),
        ("/ui/", 200),
        ("/ui/api", 200),
        ("/ui/settings", 200),
        (&style, 200),
        ("/ui/assets/nothing.css", 404),
        ("/ui/schemas?id=1", 303),
        ("/ui/schemas/1", 200),
        ("/ui/schemas/x", 404),
        ("/ui/subjects/one", 200),
        ("/ui/subjects/one/diff?from=1&to=2", 200),
        ("/ui/subjects/one/check", 200),
        ("/ui/subjects/one/register", 200),
        ("/ui/subjects/one/delete", 200),
        ("/ui/subjects/one/versions/2/delete", 200),
        ("/ui/subjects/one/versions/1/validate", 200),
        ("/ui/subjects/one/versions/latest/rust", 200),
        ("/ui/subjects/one/versions/first/rust", 422),
        ("/ui/subjects/one/versions/2/download", 200),
        ("/ui/subjects/one/versions/9/download", 404),
        ("/ui/nothing", 404),
    ];
    for (path, status) in gets {
        let answer = no_redirect()
            .get(format!("{}{path}", server.base))
            .header("accept", "text/html")
            .send()
            .await
            .expect("GET");
        assert_eq!(answer.status(), status, "GET {path}");
        assert_hardened(path, answer.headers());
    }
    let register = [("schema_type", "AVRO"), ("schema", "\"string\"")];
    let posts: [FormPost<'_>; 4] = [
        ("/ui/subjects/one/check", &register, None, 200),
        ("/ui/subjects/one/register", &register, None, 200),
        (
            "/ui/subjects/one/register",
            &register,
            Some("http://evil.example"),
            403,
        ),
        (
            "/ui/subjects/one/versions/2/delete",
            &[("permanent", "false")],
            None,
            303,
        ),
    ];
    for (path, form, origin, status) in posts {
        let answer = post_form(&server, path, form, origin, None).await;
        assert_eq!(answer.status(), status, "POST {path}");
        assert_hardened(path, answer.headers());
    }
}

/// Registering through the UI: a preview first (the compatibility check's explanations, no
/// confirmation when it would be refused), then the registration; deleting a version softly,
/// then permanently, and a subject the same way; downloading a schema as stored; refusals of
/// readers and of forms from other sites.
async fn register_delete_and_download(backend: Backend) {
    let server = ServeSettings::new()
        .users("writer:w:write\nreader:r:read\nadmin:a:admin\n")
        .start(backend)
        .await;
    let writer = Some(("writer", "w"));
    let api = |method: reqwest::Method, path: &str| {
        no_redirect()
            .request(method, format!("{}{path}", server.base))
            .basic_auth("writer", Some("w"))
    };
    let text = "{\"type\":\"record\",\"name\":\"Order\",\"fields\":[{\"name\":\"id\",\"type\":\"string\"}]}";
    let answer = api(reqwest::Method::POST, "/subjects/orders/versions")
        .header("content-type", herald_protocol::CONTENT_TYPE)
        .body(json!({ "schema": text }).to_string())
        .send()
        .await
        .expect("register");
    assert_eq!(answer.status(), 200);
    let versions = |deleted: bool| {
        let request = api(
            reqwest::Method::GET,
            &format!("/subjects/orders/versions?deleted={deleted}"),
        );
        async move {
            let answer = request.send().await.expect("versions");
            answer.json::<serde_json::Value>().await.expect("JSON")
        }
    };

    // The download is the stored text, as an attachment with the format's extension.
    let download = api(
        reqwest::Method::GET,
        "/ui/subjects/orders/versions/1/download",
    )
    .send()
    .await
    .expect("download");
    assert_eq!(download.status(), 200);
    assert_eq!(
        download.headers()["content-disposition"],
        "attachment; filename=\"orders-v1.avsc\"; filename*=UTF-8''orders-v1.avsc"
    );
    assert_eq!(download.text().await.expect("text"), text);

    // An incompatible schema: the reasons, and nothing to confirm.
    let incompatible =
        "{\"type\":\"record\",\"name\":\"Order\",\"fields\":[{\"name\":\"id\",\"type\":\"long\"}]}";
    let form = [("schema_type", "AVRO"), ("schema", incompatible)];
    let preview = post_form(&server, "/ui/subjects/orders/register", &form, None, writer).await;
    assert_eq!(preview.status(), 200);
    let html = preview.text().await.expect("page");
    webdriver::assert_valid_html("preview", &html);
    assert!(
        html.contains("registering it would be refused (409)"),
        "{html}"
    );
    assert!(!html.contains("Register this version"), "{html}");
    // A compatible one: the verdict, then a confirmation that registers it.
    let compatible = "{\"type\":\"record\",\"name\":\"Order\",\"fields\":[{\"name\":\"id\",\"type\":\"string\"},{\"name\":\"n\",\"type\":\"long\",\"default\":0}]}";
    let form = [("schema_type", "AVRO"), ("schema", compatible)];
    let preview = post_form(&server, "/ui/subjects/orders/register", &form, None, writer).await;
    let html = preview.text().await.expect("page");
    assert!(html.contains("registering it would be accepted"), "{html}");
    assert!(html.contains("Register this version"), "{html}");
    assert_eq!(
        versions(false).await,
        json!([1]),
        "a preview stores nothing"
    );
    let confirm = [
        ("schema_type", "AVRO"),
        ("schema", compatible),
        ("confirm", "1"),
    ];
    let refused = post_form(
        &server,
        "/ui/subjects/orders/register",
        &confirm,
        Some("http://evil.example"),
        writer,
    )
    .await;
    assert_eq!(refused.status(), 403);
    let reader = post_form(
        &server,
        "/ui/subjects/orders/register",
        &confirm,
        None,
        Some(("reader", "r")),
    )
    .await;
    assert_eq!(reader.status(), 403);
    assert!(
        reader
            .text()
            .await
            .expect("page")
            .contains("this user may only read")
    );
    assert_eq!(versions(false).await, json!([1]));
    let registered = post_form(
        &server,
        "/ui/subjects/orders/register",
        &confirm,
        None,
        writer,
    )
    .await;
    assert_eq!(registered.status(), 303);
    assert_eq!(
        registered.headers()["location"],
        "/ui/subjects/orders?version=2"
    );
    assert_eq!(versions(false).await, json!([1, 2]));
    // The same schema again: nothing to register.
    let again = post_form(&server, "/ui/subjects/orders/register", &form, None, writer).await;
    let html = again.text().await.expect("page");
    assert!(
        html.contains("registering it again changes nothing"),
        "{html}"
    );

    // A reader sees the confirmation without an enabled button.
    let seen = server
        .http
        .get(format!(
            "{}/ui/subjects/orders/versions/2/delete",
            server.base
        ))
        .basic_auth("reader", Some("r"))
        .send()
        .await
        .expect("GET");
    let html = seen.text().await.expect("page");
    assert!(html.contains("disabled"), "{html}");
    assert!(
        html.contains("You are signed in with the read role"),
        "{html}"
    );
    // Soft, then permanent deletion of version 2, each confirmed by a page naming it.
    let confirmation = api(
        reqwest::Method::GET,
        "/ui/subjects/orders/versions/2/delete",
    )
    .send()
    .await
    .expect("GET")
    .text()
    .await
    .expect("page");
    webdriver::assert_valid_html("delete", &confirmation);
    assert!(
        confirmation.contains("<h1>Delete version 2</h1>"),
        "{confirmation}"
    );
    assert!(
        confirmation.contains("(schema id <a href=\"/ui/schemas/2\">2</a>)"),
        "{confirmation}"
    );
    let soft = [("permanent", "false")];
    let forged = post_form(
        &server,
        "/ui/subjects/orders/versions/2/delete",
        &soft,
        Some("http://evil.example"),
        writer,
    )
    .await;
    assert_eq!(forged.status(), 403);
    let deleted = post_form(
        &server,
        "/ui/subjects/orders/versions/2/delete",
        &soft,
        None,
        writer,
    )
    .await;
    assert_eq!(deleted.status(), 303);
    assert_eq!(
        deleted.headers()["location"],
        "/ui/subjects/orders?version=2"
    );
    assert_eq!(versions(false).await, json!([1]));
    assert_eq!(versions(true).await, json!([1, 2]));
    let confirmation = api(
        reqwest::Method::GET,
        "/ui/subjects/orders/versions/2/delete",
    )
    .send()
    .await
    .expect("GET")
    .text()
    .await
    .expect("page");
    assert!(
        confirmation.contains("<h1>Permanently delete version 2</h1>"),
        "{confirmation}"
    );
    assert!(
        confirmation.contains("These schema ids are removed"),
        "{confirmation}"
    );
    let permanent = [("permanent", "true")];
    let deleted = post_form(
        &server,
        "/ui/subjects/orders/versions/2/delete",
        &permanent,
        None,
        writer,
    )
    .await;
    assert_eq!(deleted.status(), 303);
    assert_eq!(deleted.headers()["location"], "/ui/subjects/orders");
    assert_eq!(versions(true).await, json!([1]));
    // The subject: soft, then permanent.
    let confirmation = api(reqwest::Method::GET, "/ui/subjects/orders/delete")
        .send()
        .await
        .expect("GET")
        .text()
        .await
        .expect("page");
    assert!(
        confirmation.contains("<h1>Delete subject orders</h1>"),
        "{confirmation}"
    );
    // Permanent deletion before the soft one is Confluent's refusal.
    let early = post_form(
        &server,
        "/ui/subjects/orders/delete",
        &permanent,
        None,
        writer,
    )
    .await;
    assert_eq!(early.status(), 404);
    let deleted = post_form(&server, "/ui/subjects/orders/delete", &soft, None, writer).await;
    assert_eq!(deleted.status(), 303);
    assert_eq!(deleted.headers()["location"], "/ui/subjects/orders");
    let confirmation = api(reqwest::Method::GET, "/ui/subjects/orders/delete")
        .send()
        .await
        .expect("GET")
        .text()
        .await
        .expect("page");
    assert!(
        confirmation.contains("<h1>Permanently delete subject orders</h1>"),
        "{confirmation}"
    );
    let deleted = post_form(
        &server,
        "/ui/subjects/orders/delete",
        &permanent,
        None,
        writer,
    )
    .await;
    assert_eq!(deleted.status(), 303);
    assert_eq!(deleted.headers()["location"], "/ui");
    let gone = api(
        reqwest::Method::GET,
        "/subjects/orders/versions?deleted=true",
    )
    .send()
    .await
    .expect("GET");
    assert_eq!(gone.status(), 404);
    // The audit log has the UI's writes beside the API's, by the writer, each with its time.
    let audit: serde_json::Value = server
        .http
        .get(format!("{}/audit?limit=100", server.base))
        .basic_auth("admin", Some("a"))
        .send()
        .await
        .expect("GET /audit")
        .json()
        .await
        .expect("JSON");
    let written: Vec<_> = audit["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter(|entry| entry["subject"] == "orders")
        .map(|entry| {
            assert!(entry["ts"].as_i64().is_some_and(|ts| ts > 0), "{entry}");
            (
                entry["principal"].as_str().unwrap_or_default().to_owned(),
                entry["action"].as_str().unwrap_or_default().to_owned(),
                entry["version"].clone(),
                entry["detail"].clone(),
            )
        })
        .collect();
    let entry = |action: &str, version: i64, detail: &str| {
        (
            "writer".to_owned(),
            action.to_owned(),
            json!(version),
            json!(detail),
        )
    };
    assert_eq!(
        written,
        [
            entry("register", 1, "AVRO"),
            entry("register", 2, "AVRO"),
            entry("delete-version", 2, "soft"),
            entry("delete-version", 2, "permanent"),
            entry("delete-subject", 1, "soft"),
            entry("delete-subject", 1, "permanent"),
        ]
    );

    // A Protobuf schema sent with the CRLF line breaks of a browser's form is stored in the
    // registry's printed form, as it is from the API.
    let proto = |extra: &str| {
        format!("syntax = \"proto3\";\nmessage Ship {{\n  string id = 1;\n{extra}}}\n")
    };
    let answer = api(reqwest::Method::POST, "/subjects/ships/versions")
        .header("content-type", herald_protocol::CONTENT_TYPE)
        .body(json!({"schemaType": "PROTOBUF", "schema": proto("")}).to_string())
        .send()
        .await
        .expect("register");
    assert_eq!(answer.status(), 200);
    let typed = proto("  int32 n = 2;\n");
    let sent = typed.replace('\n', "\r\n");
    let confirm = [
        ("schema_type", "PROTOBUF"),
        ("schema", sent.as_str()),
        ("confirm", "1"),
    ];
    let registered = post_form(
        &server,
        "/ui/subjects/ships/register",
        &confirm,
        None,
        writer,
    )
    .await;
    assert_eq!(registered.status(), 303);
    assert_eq!(
        registered.headers()["location"],
        "/ui/subjects/ships?version=2"
    );
    let download = api(
        reqwest::Method::GET,
        "/ui/subjects/ships/versions/2/download",
    )
    .send()
    .await
    .expect("download");
    assert_eq!(
        download.headers()["content-disposition"],
        "attachment; filename=\"ships-v2.proto\"; filename*=UTF-8''ships-v2.proto"
    );
    assert_eq!(
        download.text().await.expect("text"),
        "syntax = \"proto3\";\n\nmessage Ship {\n  string id = 1;\n  int32 n = 2;\n}\n"
    );
}

/// Subjects named `..`, `.` and `~x` are listed with links a browser keeps as they are, and
/// their pages answer; the list is in natural order.
async fn odd_names_and_natural_order(backend: Backend) {
    let server = HeraldServe::start(backend).await;
    let schema = json!({"schema": avro_record("Odd", &["a"])}).to_string();
    for segment in ["%2E%2E", "%2E", "~x", "conc-10", "conc-2", "conc-1"] {
        let (status, body) = raw_request(
            &server.base,
            "POST",
            &format!("/subjects/{segment}/versions"),
            &schema,
            None,
        )
        .await;
        assert_eq!(status, 200, "{segment}: {body}");
    }
    let (_, subjects) = server.get("/subjects").await;
    let mut names: Vec<String> = serde_json::from_value(subjects).unwrap();
    names.sort();
    assert_eq!(names, [".", "..", "conc-1", "conc-10", "conc-2", "~x"]);
    let list = page(&server, "/ui").await;
    let links: Vec<&str> = list
        .split("<td><a href=\"/ui/subjects/")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .collect();
    assert_eq!(links, ["~.", "~..", "conc-1", "conc-2", "conc-10", "~~x"]);
    for (segment, name) in [("~..", ".."), ("~.", "."), ("~~x", "~x")] {
        let html = page(&server, &format!("/ui/subjects/{segment}")).await;
        assert!(html.contains(&format!("<h1>{name}</h1>")), "{html}");
        assert!(
            html.contains(&format!(
                "href=\"/ui/subjects/{segment}/versions/1/download\""
            )),
            "{html}"
        );
        page(&server, &format!("/ui/subjects/{segment}/versions/1/rust")).await;
        page(&server, &format!("/ui/subjects/{segment}/check")).await;
    }
}

/// The API reference is rendered from the server's own OpenAPI document, without anything
/// from elsewhere; the Rust view is highlighted.
async fn api_reference_and_highlighted_rust(backend: Backend) {
    let server = HeraldServe::start(backend).await;
    let (status, _) = server
        .post(
            "/subjects/one/versions",
            json!({"schema": avro_record("One", &["a"])}),
        )
        .await;
    assert_eq!(status, 200);
    let html = page(&server, "/ui/api").await;
    let (_, document) = server.get("/openapi.json").await;
    let paths = document["paths"].as_object().unwrap();
    assert!(paths.len() > 10);
    for (path, item) in paths {
        for method in item.as_object().unwrap().keys() {
            let id = item[method]["operationId"].as_str().unwrap();
            assert!(
                html.contains(&format!("id=\"op-{id}\"")),
                "{method} {path} is missing"
            );
        }
    }
    assert!(html.contains("id=\"schema-SchemaRequest\""));
    assert!(html.contains("href=\"#schema-SchemaRequest\""));
    assert!(
        !html.contains("src=\"http"),
        "nothing is loaded from elsewhere"
    );
    assert!(page(&server, "/ui").await.contains("href=\"/ui/api\""));
    let rust = page(&server, "/ui/subjects/one/versions/1/rust").await;
    assert!(rust.contains("<span class=\"tw\">pub</span>"), "{rust}");
    assert!(rust.contains("<span class=\"tw\">struct</span>"), "{rust}");
}

backend_tests!(
    list_pages,
    hardening_covers_errors_and_challenges,
    every_ui_answer_is_hardened,
    register_delete_and_download,
    odd_names_and_natural_order,
    api_reference_and_highlighted_rust,
);
