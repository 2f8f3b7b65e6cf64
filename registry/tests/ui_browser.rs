//! The web UI in a real browser: headless Chromium (Debian's `chromium` and `chromium-driver`)
//! driven through WebDriver against `herald serve` on SQLite with basic authentication,
//! seeded with AVRO, JSON and PROTOBUF subjects (references, an incompatible version, a soft-deleted
//! subject). Every page visited is checked for HTML validity (html5ever) and accessibility
//! (axe-core in the page), and each test saves screenshots to the folder it prints. Besides
//! reading, the tests register and delete through the UI, and frame it from another origin.
//!
//! Needs `chromium`, `chromedriver` and axe-core (`scripts/ui-test-deps` installs them); a
//! test fails, naming what is missing, when one is not there.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
#[path = "ui_browser/webdriver.rs"]
mod webdriver;

use base64::Engine;
use serde_json::{Value, json};

use herald_protocol::CONTENT_TYPE;
use herald_test_support::{HeraldServe, ServeSettings, TestDatabase};
use webdriver::{Browser, Driver, assert_valid_html, screenshot_dir};

const WRITER: (&str, &str) = ("writer", "w-secret");
const READER: (&str, &str) = ("reader", "r-secret");
const ADMIN: (&str, &str) = ("admin", "a-secret");

fn basic((user, password): (&str, &str)) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

/// One browser test at a time: each runs its own server, chromedriver and Chromium.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A seeded registry with authentication on, and chromedriver.
struct Harness {
    server: HeraldServe,
    driver: Driver,
    http: reqwest::Client,
}

fn avro(fields: Value) -> String {
    json!({"type": "record", "name": "Order", "namespace": "shop", "fields": fields}).to_string()
}

impl Harness {
    async fn start() -> Harness {
        let server = ServeSettings::new()
            .users(&format!(
                "{}:{}:write\n{}:{}:read\n{}:{}:admin\n",
                WRITER.0, WRITER.1, READER.0, READER.1, ADMIN.0, ADMIN.1
            ))
            .start_on(TestDatabase::sqlite());
        let harness = Harness {
            server,
            driver: Driver::start().await,
            http: reqwest::Client::new(),
        };
        harness.seed().await;
        harness
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.base)
    }

    async fn api(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let answer = self
            .http
            .request(method, self.url(path))
            .header("authorization", basic(WRITER))
            .header("content-type", CONTENT_TYPE)
            .body(body.to_string())
            .send()
            .await
            .expect("API request");
        let status = answer.status();
        let value: Value = answer.json().await.expect("API answer");
        assert!(status.is_success(), "{path}: {status} {value}");
        value
    }

    async fn register(&self, subject: &str, body: Value) {
        self.api(
            reqwest::Method::POST,
            &format!("/subjects/{subject}/versions"),
            body,
        )
        .await;
    }

    async fn seed(&self) {
        let id = json!({"name": "id", "type": "string"});
        let amount = json!({"name": "amount", "type": "long"});
        let note = json!({"name": "note", "type": ["null", "string"], "default": null});
        let currency = json!({"name": "currency", "type": "string"});
        self.register("orders-value", json!({"schema": avro(json!([id, amount]))}))
            .await;
        self.register(
            "orders-value",
            json!({"schema": avro(json!([id, amount, note]))}),
        )
        .await;
        // Version 3 is registered under NONE, so under BACKWARD its verdict is a violation.
        self.api(
            reqwest::Method::PUT,
            "/config/orders-value",
            json!({"compatibility": "NONE"}),
        )
        .await;
        self.register(
            "orders-value",
            json!({"schema": avro(json!([id, amount, note, currency]))}),
        )
        .await;
        self.api(reqwest::Method::DELETE, "/config/orders-value", json!({}))
            .await;
        let money = json!({"type": "record", "name": "Money", "namespace": "shop", "fields": [
            {"name": "units", "type": "long"}, {"name": "currency", "type": "string"}]});
        self.register("money-value", json!({"schema": money.to_string()}))
            .await;
        let payment = json!({"type": "record", "name": "Payment", "namespace": "shop", "fields": [
            {"name": "id", "type": "string"}, {"name": "total", "type": "shop.Money"}]});
        self.register(
            "payments-value",
            json!({"schema": payment.to_string(), "references": [
                {"name": "shop.Money", "subject": "money-value", "version": 1}]}),
        )
        .await;
        let customer = |extra: Value| {
            let mut properties = json!({"id": {"type": "integer"}, "name": {"type": "string"}});
            if let (Value::Object(map), Value::Object(more)) = (&mut properties, extra) {
                map.extend(more);
            }
            json!({"type": "object", "properties": properties, "required": ["id"], "additionalProperties": false}).to_string()
        };
        self.register(
            "customers-value",
            json!({"schemaType": "JSON", "schema": customer(json!({}))}),
        )
        .await;
        self.register(
            "customers-value",
            json!({"schemaType": "JSON", "schema": customer(json!({"email": {"type": "string"}}))}),
        )
        .await;
        let shipment = |extra: &str| {
            format!(
                "syntax = \"proto3\";\npackage shop;\nimport \"google/protobuf/timestamp.proto\";\n\
                 message Shipment {{\n  string id = 1;\n  google.protobuf.Timestamp at = 2;\n{extra}}}\n"
            )
        };
        self.register(
            "shipments-value",
            json!({"schemaType": "PROTOBUF", "schema": shipment("")}),
        )
        .await;
        self.register(
            "shipments-value",
            json!({"schemaType": "PROTOBUF", "schema": shipment("  int32 parcels = 3;\n")}),
        )
        .await;
        self.register("retired-value", json!({"schema": "\"string\""}))
            .await;
        self.api(
            reqwest::Method::DELETE,
            "/subjects/retired-value",
            json!({}),
        )
        .await;
    }

    /// A browser signed in as `user`.
    async fn browser(&self, user: (&str, &str)) -> Browser {
        self.driver.session(Some(&basic(user))).await
    }

    /// Checks the page's HTML as the server sends it (GET as the writer).
    async fn assert_valid(&self, path: &str) {
        let answer = self
            .http
            .get(self.url(path))
            .header("authorization", basic(WRITER))
            .header("accept", "text/html")
            .send()
            .await
            .expect("page");
        assert_eq!(answer.status(), 200, "GET {path}");
        let html = answer.text().await.expect("page text");
        assert_valid_html(path, &html);
    }

    /// Opens a page in the browser after checking its HTML; checks accessibility and saves a
    /// screenshot.
    async fn visit(&self, browser: &Browser, path: &str, name: &str) {
        self.assert_valid(path).await;
        browser.go(&self.url(path)).await;
        browser.assert_accessible(path).await;
        browser.screenshot(name).await;
    }

    /// Checks the page the browser shows now (the answer to a form) and saves a screenshot.
    async fn check_current(&self, browser: &Browser, name: &str) {
        let html = browser
            .script(
                "return '<!DOCTYPE html>' + document.documentElement.outerHTML;",
                json!([]),
            )
            .await;
        assert_valid_html(name, html.as_str().unwrap_or_default());
        browser.assert_accessible(name).await;
        browser.screenshot(name).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_and_search_subjects() {
    let _one = ONE_AT_A_TIME.lock().await;
    let h = Harness::start().await;
    let browser = h.browser(WRITER).await;
    h.visit(&browser, "/ui", "list").await;
    assert_eq!(browser.count("#subjects tbody tr").await, 6);
    // Keyboard: the first Tab reaches the skip link, Enter jumps to the content, and the
    // next Tab reaches the search box.
    browser.press("\u{E004}").await;
    let focused = browser
        .script("return document.activeElement.textContent;", json!([]))
        .await;
    assert_eq!(focused, json!("Skip to content"));
    browser.press("\u{E007}").await;
    assert!(browser.url().await.ends_with("#main"));
    browser.press("\u{E004}").await;
    let focused = browser
        .script(
            "return document.activeElement.id || document.activeElement.textContent;",
            json!([]),
        )
        .await;
    assert_eq!(
        focused,
        json!("q"),
        "Tab after the skip link reaches the search box"
    );
    let table = browser.find("#subjects").await.text().await;
    for expected in [
        "orders-value",
        "customers-value",
        "payments-value",
        "money-value",
    ] {
        assert!(
            table.contains(expected),
            "{expected} missing from:\n{table}"
        );
    }
    assert!(
        table.contains("retired-value AVRO 1 1 BACKWARD (global) READWRITE (global) soft-deleted"),
        "the soft-deleted subject is not shown as such:\n{table}"
    );
    assert!(table.contains("orders-value AVRO 3 3"), "{table}");
    assert!(table.contains("customers-value JSON 2 2"), "{table}");
    assert!(table.contains("shipments-value PROTOBUF 2 2"), "{table}");
    let search = browser.find("#q").await;
    search.type_text("CUST").await;
    browser.submit("form[aria-label=Subjects] button").await;
    assert!(
        browser.url().await.contains("q=CUST"),
        "the search is in the URL"
    );
    assert_eq!(browser.count("#subjects tbody tr").await, 1);
    assert!(
        browser
            .find("#count")
            .await
            .text()
            .await
            .starts_with("1 subject matching")
    );
    h.check_current(&browser, "list-search").await;
    // The phone layout.
    browser.resize(390, 844).await;
    h.visit(&browser, "/ui", "list-phone").await;
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subject_page_shows_timeline_verdicts_and_references() {
    let _one = ONE_AT_A_TIME.lock().await;
    let h = Harness::start().await;
    let browser = h.browser(WRITER).await;
    h.visit(&browser, "/ui", "subject-from-list").await;
    browser.submit("a[href='/ui/subjects/orders-value']").await;
    assert!(browser.url().await.ends_with("/ui/subjects/orders-value"));
    h.check_current(&browser, "subject").await;
    assert_eq!(browser.count("ol.timeline li").await, 3);
    let timeline = browser.find("ol.timeline").await.text().await;
    assert_eq!(timeline.matches("compatible").count(), 3, "{timeline}");
    assert!(
        timeline.contains("incompatible (1 violation)"),
        "{timeline}"
    );
    let why = browser.find("ol.violations").await.text().await;
    assert!(why.contains("READER_FIELD_MISSING_DEFAULT_VALUE"), "{why}");
    assert!(why.contains("/fields/3"), "{why}");
    assert!(why.contains("Hint:"), "{why}");
    // The violation's line is marked in the highlighted schema.
    let marked = browser.find("pre.code .l.hit").await.text().await;
    assert!(
        marked.trim() == "{",
        "the marked line opens field 3: {marked:?}"
    );
    assert!(
        browser.count("pre.code .tk").await > 0,
        "keys are highlighted"
    );
    // References are links, and the referenced version lists who references it.
    h.visit(
        &browser,
        "/ui/subjects/payments-value",
        "subject-references",
    )
    .await;
    browser
        .submit("a[href='/ui/subjects/money-value?version=1']")
        .await;
    let text = browser.text().await;
    assert!(text.contains("Referenced by"), "{text}");
    browser.submit("a[href='/ui/schemas/5']").await;
    h.check_current(&browser, "schema-by-id").await;
    assert!(browser.text().await.contains("payments-value version 1"));
    browser.resize(390, 844).await;
    h.visit(&browser, "/ui/subjects/orders-value", "subject-phone")
        .await;
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diff_of_two_versions_anchors_violations() {
    let _one = ONE_AT_A_TIME.lock().await;
    let h = Harness::start().await;
    let browser = h.browser(WRITER).await;
    h.visit(&browser, "/ui/subjects/orders-value", "diff-from-subject")
        .await;
    browser
        .submit("a[href='/ui/subjects/orders-value/diff?from=2&to=3']")
        .await;
    h.check_current(&browser, "diff").await;
    let text = browser.text().await;
    assert!(
        text.contains("Version 3 is not compatible with version 2."),
        "{text}"
    );
    assert!(
        browser.count("table.diff td.add").await >= 4,
        "added lines are highlighted"
    );
    assert_eq!(
        browser.count("table.diff td.del").await,
        0,
        "nothing was removed"
    );
    assert_eq!(
        browser.count("table.diff tr.hit").await,
        1,
        "the violation's row is marked"
    );
    // The violation links to its line on the right.
    browser.find("ol.violations a").await.click().await;
    let anchored = browser
        .script(
            "var cell = document.querySelector(location.hash); \
             return location.hash.startsWith('#b') && cell.parentElement.classList.contains('hit') \
             && cell.nextElementSibling.textContent.trim() === '{';",
            json!([]),
        )
        .await;
    assert_eq!(
        anchored,
        json!(true),
        "the violation links to field 3's line on the right"
    );
    // Any two versions: 1 against 3, chosen in the form.
    browser.find("#from").await.choose("1").await;
    browser.submit("form.inline button").await;
    assert!(browser.url().await.contains("from=1&to=3"));
    assert!(browser.count("table.diff td.add").await >= 8);
    h.check_current(&browser, "diff-1-3").await;
    // JSON Schema versions.
    h.visit(
        &browser,
        "/ui/subjects/customers-value/diff?from=1&to=2",
        "diff-json",
    )
    .await;
    assert!(
        browser
            .text()
            .await
            .contains("Version 2 is compatible with version 1.")
    );
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_shows_why_a_schema_would_be_refused() {
    let _one = ONE_AT_A_TIME.lock().await;
    let h = Harness::start().await;
    let browser = h.browser(WRITER).await;
    h.visit(&browser, "/ui/subjects/orders-value/check", "check-form")
        .await;
    let refused = avro(json!([
        {"name": "id", "type": "string"},
        {"name": "amount", "type": "long"},
        {"name": "note", "type": ["null", "string"], "default": null},
        {"name": "currency", "type": "string"},
        {"name": "channel", "type": "string"}
    ]));
    let area = browser.find("#schema").await;
    area.clear().await;
    area.type_text(&refused).await;
    browser.submit("form.stack button").await;
    let verdict = browser.find("#verdict").await.text().await;
    assert!(
        verdict.contains("registering it would be refused (409)"),
        "{verdict}"
    );
    assert!(
        verdict.contains("READER_FIELD_MISSING_DEFAULT_VALUE"),
        "{verdict}"
    );
    assert!(verdict.contains("channel"), "{verdict}");
    h.check_current(&browser, "check-refused").await;
    // Nothing was stored.
    let versions = h
        .api(
            reqwest::Method::GET,
            "/subjects/orders-value/versions",
            json!(null),
        )
        .await;
    assert_eq!(versions, json!([1, 2, 3]));
    // A schema that does not parse.
    let area = browser.find("#schema").await;
    area.clear().await;
    area.type_text("{\"type\": \"record\"").await;
    browser.submit("form.stack button").await;
    let verdict = browser.find("#verdict").await.text().await;
    assert!(verdict.contains("Invalid schema"), "{verdict}");
    h.check_current(&browser, "check-invalid").await;
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_a_payload_against_a_version() {
    let _one = ONE_AT_A_TIME.lock().await;
    let h = Harness::start().await;
    let browser = h.browser(WRITER).await;
    h.visit(
        &browser,
        "/ui/subjects/orders-value/versions/1/validate",
        "validate-form",
    )
    .await;
    browser
        .find("#payload")
        .await
        .type_text("{\"id\": 5}")
        .await;
    browser.submit("form.stack button").await;
    let errors = browser.find("#errors").await.text().await;
    assert!(errors.contains("#/id"), "{errors}");
    assert!(errors.contains("#/amount"), "{errors}");
    assert!(errors.contains("missing required field amount"), "{errors}");
    h.check_current(&browser, "validate-invalid").await;
    let area = browser.find("#payload").await;
    area.clear().await;
    area.type_text("{\"id\": \"o-1\", \"amount\": 12}").await;
    browser.submit("form.stack button").await;
    assert!(
        browser
            .find("#outcome")
            .await
            .text()
            .await
            .contains("Valid")
    );
    // JSON Schema.
    h.visit(
        &browser,
        "/ui/subjects/customers-value/versions/2/validate",
        "validate-json",
    )
    .await;
    browser
        .find("#payload")
        .await
        .type_text("{\"name\": 3}")
        .await;
    browser.submit("form.stack button").await;
    let errors = browser.find("#errors").await.text().await;
    assert!(errors.contains("#/name"), "{errors}");
    h.check_current(&browser, "validate-json-invalid").await;
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_code_with_a_copy_button() {
    let _one = ONE_AT_A_TIME.lock().await;
    let h = Harness::start().await;
    let browser = h.browser(WRITER).await;
    h.visit(
        &browser,
        "/ui/subjects/orders-value?version=2",
        "rust-from-subject",
    )
    .await;
    browser
        .submit("a[href='/ui/subjects/orders-value/versions/2/rust']")
        .await;
    h.check_current(&browser, "rust").await;
    let code = browser.find("#rust-code").await.text().await;
    assert!(code.contains("pub struct"), "{code}");
    assert!(
        browser.count("#rust-code .tw").await > 0,
        "keywords are highlighted"
    );
    assert!(
        code.contains("pub note: ::core::option::Option<::std::string::String>"),
        "{code}"
    );
    // The script unhid the copy button; clicking it reports the outcome.
    let button = browser.find("button.copy").await;
    button.click().await;
    let status = browser
        .script(
            "return new Promise(function (done) { setTimeout(function () { \
             done(document.getElementById('copy-status').textContent); }, 300); });",
            json!([]),
        )
        .await;
    assert_eq!(status, json!("Copied."), "the copy button works");
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protobuf_subject_and_its_rust_code() {
    let _one = ONE_AT_A_TIME.lock().await;
    let h = Harness::start().await;
    let browser = h.browser(WRITER).await;
    h.visit(&browser, "/ui/subjects/shipments-value", "protobuf-subject")
        .await;
    let timeline = browser.find("ol.timeline").await.text().await;
    assert!(!timeline.contains("incompatible"), "{timeline}");
    let page = browser.find("main").await.text().await;
    assert!(page.contains("int32 parcels = 3;"), "{page}");
    assert!(page.contains("PROTOBUF"), "{page}");
    h.visit(
        &browser,
        "/ui/subjects/shipments-value/versions/2/rust",
        "protobuf-rust",
    )
    .await;
    let code = browser.find("#rust-code").await.text().await;
    assert!(code.contains("pub struct Shipment"), "{code}");
    assert!(code.contains("pub parcels: i32"), "{code}");
    assert!(code.contains("::prost_types::Timestamp"), "{code}");
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_is_changed_by_writers_and_refused_to_readers() {
    let _one = ONE_AT_A_TIME.lock().await;
    let h = Harness::start().await;
    // Anonymous visitors are asked for credentials.
    let anonymous = h.http.get(h.url("/ui")).send().await.expect("GET /ui");
    assert_eq!(anonymous.status(), 401);
    assert!(anonymous.headers().contains_key("www-authenticate"));
    // A writer changes the subject's level.
    let writer = h.browser(WRITER).await;
    h.visit(&writer, "/ui/subjects/customers-value", "config-writer")
        .await;
    writer.find("#compatibility").await.choose("FULL").await;
    writer.find("#mode").await.choose("READONLY").await;
    writer
        .submit("section[aria-labelledby=settings-title] button")
        .await;
    assert!(
        writer
            .url()
            .await
            .ends_with("/ui/subjects/customers-value?saved=1")
    );
    assert!(writer.text().await.contains("Settings saved."));
    h.check_current(&writer, "config-saved").await;
    let config = h
        .api(reqwest::Method::GET, "/config/customers-value", json!(null))
        .await;
    assert_eq!(config["compatibilityLevel"], "FULL");
    let mode = h
        .api(reqwest::Method::GET, "/mode/customers-value", json!(null))
        .await;
    assert_eq!(mode["mode"], "READONLY");
    writer.quit().await;
    // A reader sees the form disabled, and a form sent anyway is refused.
    let reader = h.browser(READER).await;
    h.visit(&reader, "/ui/settings", "config-reader").await;
    assert!(
        reader
            .text()
            .await
            .contains("You are signed in with the read role")
    );
    assert_eq!(reader.count("form.stack button[disabled]").await, 1);
    reader.quit().await;
    let refused = h
        .http
        .post(h.url("/ui/settings"))
        .header("authorization", basic(READER))
        .header("origin", &h.server.base)
        .form(&[("compatibility", "NONE"), ("mode", "")])
        .send()
        .await
        .expect("a reader's POST");
    assert_eq!(refused.status(), 403);
    let text = refused.text().await.expect("page");
    assert!(text.contains("this user may only read"), "{text}");
    let global = h.api(reqwest::Method::GET, "/config", json!(null)).await;
    assert_eq!(global["compatibilityLevel"], "BACKWARD", "nothing changed");
    // A form posted from another site is refused even with a writer's credentials.
    let forged = h
        .http
        .post(h.url("/ui/settings"))
        .header("authorization", basic(WRITER))
        .header("origin", "http://attacker.example")
        .form(&[("compatibility", "NONE"), ("mode", "")])
        .send()
        .await
        .expect("forged POST");
    assert_eq!(forged.status(), 403);
    println!("ui_browser: screenshots in {}", screenshot_dir().display());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browsers_land_on_the_ui_and_assets_are_cached() {
    let _one = ONE_AT_A_TIME.lock().await;
    let h = Harness::start().await;
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let html = no_redirect
        .get(h.url("/"))
        .header("authorization", basic(WRITER))
        .header("accept", "text/html,application/xhtml+xml,*/*;q=0.8")
        .send()
        .await
        .expect("GET /");
    assert_eq!(html.status(), 303);
    assert_eq!(html.headers()["location"], "/ui");
    let api = h.api(reqwest::Method::GET, "/", json!(null)).await;
    assert_eq!(api, json!({}));
    let page = h
        .http
        .get(h.url("/ui"))
        .header("authorization", basic(WRITER))
        .send()
        .await
        .expect("GET /ui")
        .text()
        .await
        .expect("page");
    let css = page
        .split("href=\"")
        .find_map(|rest| rest.split('"').next().filter(|href| href.ends_with(".css")))
        .expect("a stylesheet link");
    let asset = h
        .http
        .get(h.url(css))
        .header("authorization", basic(WRITER))
        .send()
        .await
        .expect("GET the stylesheet");
    assert_eq!(asset.status(), 200);
    assert_eq!(
        asset.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert!(asset.headers().contains_key("etag"));
    assert!(asset.text().await.expect("css").contains("--fg"));
    // Every page without JavaScript: the browser test pages above use it, this one does not.
    let driver_free = h
        .http
        .get(h.url("/ui/subjects/nope"))
        .header("authorization", basic(WRITER))
        .send()
        .await
        .expect("GET");
    assert_eq!(driver_free.status(), 404);
    let text = driver_free.text().await.expect("page");
    assert_valid_html("/ui/subjects/nope", &text);
    assert!(text.contains("not found"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_log_and_registration_times_for_admins() {
    let _one = ONE_AT_A_TIME.lock().await;
    let h = Harness::start().await;
    // A settings form is a write like the API's, recorded by the same code.
    let saved = h
        .http
        .post(h.url("/ui/subjects/orders-value/settings"))
        .header("authorization", basic(WRITER))
        .header("origin", h.server.base.as_str())
        .form(&[("compatibility", "FULL"), ("mode", "")])
        .send()
        .await
        .expect("settings POST");
    assert!(saved.status().is_success(), "{}", saved.status());
    let admin = h.browser(ADMIN).await;
    // The timeline says when and by whom each version was registered.
    h.visit(&admin, "/ui/subjects/orders-value", "timeline-registered")
        .await;
    let text = admin.text().await;
    assert!(text.contains("registered 20"), "{text}");
    assert!(text.contains(" by writer"), "{text}");
    assert!(!text.contains("registered: unknown"), "{text}");
    // Admins have the audit log in the navigation; it lists the writes, the form's too.
    admin.find("a[href='/ui/audit']").await.click().await;
    assert!(admin.url().await.ends_with("/ui/audit"));
    h.check_current(&admin, "audit-log").await;
    let text = admin.text().await;
    assert!(text.contains("register"), "{text}");
    assert!(text.contains("set-config"), "{text}");
    assert!(text.contains("compatibility=FULL"), "{text}");
    admin.quit().await;
    // Writers and readers have neither the link nor the page.
    let writer = h.browser(WRITER).await;
    h.visit(&writer, "/ui", "audit-no-link").await;
    assert_eq!(writer.count("a[href='/ui/audit']").await, 0);
    writer.go(&h.url("/ui/audit")).await;
    assert!(
        writer
            .text()
            .await
            .contains("the audit log needs the admin role")
    );
    h.check_current(&writer, "audit-refused").await;
    writer.quit().await;
}

/// Polls `script` until it returns `expected` (5 s at most).
async fn wait_for(browser: &Browser, script: &str, expected: Value) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let value = browser.script(script, json!([])).await;
        if value == expected {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{script} answers {value}, not {expected}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_after_a_preview_then_delete_softly_and_permanently() {
    let _one = ONE_AT_A_TIME.lock().await;
    let h = Harness::start().await;
    let browser = h.browser(WRITER).await;
    h.visit(&browser, "/ui/subjects/orders-value", "write-subject")
        .await;
    browser
        .submit("a[href='/ui/subjects/orders-value/register']")
        .await;
    h.check_current(&browser, "register-form").await;
    // The schema comes from a file, which the page's script reads into the form.
    let next = avro(json!([
        {"name": "id", "type": "string"},
        {"name": "amount", "type": "long"},
        {"name": "note", "type": ["null", "string"], "default": null},
        {"name": "currency", "type": "string"},
        {"name": "channel", "type": "string", "default": "web"}
    ]));
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("order.avsc");
    std::fs::write(&file, &next).expect("write the schema file");
    browser.find("#schema_type").await.choose("JSON").await;
    browser
        .find("#schema-file")
        .await
        .type_text(file.to_str().expect("a UTF-8 path"))
        .await;
    wait_for(
        &browser,
        "return document.getElementById('schema').value;",
        json!(next),
    )
    .await;
    let format = browser
        .script(
            "return document.getElementById('schema_type').value;",
            json!([]),
        )
        .await;
    assert_eq!(
        format,
        json!("AVRO"),
        "the .avsc extension picks the format"
    );
    browser.submit("form.stack button").await;
    let verdict = browser.find("#verdict").await.text().await;
    assert!(
        verdict.contains("Compatible: registering it would be accepted"),
        "{verdict}"
    );
    h.check_current(&browser, "register-preview").await;
    let versions = |deleted: bool| {
        h.api(
            reqwest::Method::GET,
            if deleted {
                "/subjects/orders-value/versions?deleted=true"
            } else {
                "/subjects/orders-value/versions"
            },
            json!(null),
        )
    };
    assert_eq!(
        versions(false).await,
        json!([1, 2, 3]),
        "a preview stores nothing"
    );
    browser.submit("#confirm button").await;
    assert!(
        browser
            .url()
            .await
            .ends_with("/ui/subjects/orders-value?version=4"),
        "{}",
        browser.url().await
    );
    assert_eq!(browser.count("ol.timeline li").await, 4);
    assert_eq!(versions(false).await, json!([1, 2, 3, 4]));
    h.check_current(&browser, "registered").await;
    // Soft deletion, confirmed on a page that names the version and its schema id.
    browser
        .submit("a[href='/ui/subjects/orders-value/versions/4/delete']")
        .await;
    h.check_current(&browser, "delete-version").await;
    let lost = browser.find("#lost").await.text().await;
    assert!(
        lost.contains("Version 4 of orders-value is soft-deleted"),
        "{lost}"
    );
    assert!(lost.contains("(schema id 11)"), "{lost}");
    browser.submit("button.danger").await;
    assert!(
        browser
            .url()
            .await
            .ends_with("/ui/subjects/orders-value?version=4")
    );
    assert!(
        browser
            .find("#schema-title")
            .await
            .text()
            .await
            .contains("soft-deleted")
    );
    assert_eq!(versions(false).await, json!([1, 2, 3]));
    assert_eq!(versions(true).await, json!([1, 2, 3, 4]));
    // Then permanent deletion, which names the schema id that goes with it.
    browser
        .submit("a[href='/ui/subjects/orders-value/versions/4/delete']")
        .await;
    h.check_current(&browser, "delete-permanently").await;
    assert_eq!(
        browser.find("h1").await.text().await,
        "Permanently delete version 4"
    );
    let lost = browser.find("#lost").await.text().await;
    assert!(lost.contains("These schema ids are removed"), "{lost}");
    assert!(lost.contains("11"), "{lost}");
    browser.submit("button.danger").await;
    assert!(browser.url().await.ends_with("/ui/subjects/orders-value"));
    assert_eq!(versions(true).await, json!([1, 2, 3]));
    assert_eq!(browser.count("ol.timeline li").await, 3);
    browser.quit().await;
    // A reader sees no write control enabled, and a note saying why.
    let reader = h.browser(READER).await;
    h.visit(&reader, "/ui/subjects/orders-value", "reader-subject")
        .await;
    assert_eq!(reader.count("a[href$='/register']").await, 0);
    assert_eq!(reader.count("a[href$='/delete']").await, 0);
    assert!(
        reader
            .text()
            .await
            .contains("You are signed in with the read role")
    );
    h.visit(
        &reader,
        "/ui/subjects/orders-value/register",
        "reader-register",
    )
    .await;
    assert_eq!(reader.count("form.stack button[disabled]").await, 1);
    assert_eq!(reader.count("form.stack button:not([disabled])").await, 0);
    reader.quit().await;
}

/// Serves `page` as HTML to every request on a port of its own: another origin.
async fn serve_page(page: String) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let page = page.clone();
            tokio::spawn(async move {
                let mut request = [0_u8; 4096];
                let _ = stream.read(&mut request).await;
                let answer = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n{page}",
                    page.len()
                );
                let _ = stream.write_all(answer.as_bytes()).await;
            });
        }
    });
    base
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_origin_cannot_frame_the_ui() {
    let _one = ONE_AT_A_TIME.lock().await;
    let h = Harness::start().await;
    // The second frame holds an API answer, which is not hardened: it shows that framing
    // itself works, and that the first frame stays empty because of the UI's headers.
    let other = serve_page(format!(
        "<!DOCTYPE html><html lang=\"en\"><head><title>Another site</title></head><body>\
         <iframe src=\"{0}/ui\" title=\"ui\"></iframe>\
         <iframe src=\"{0}/openapi.json\" title=\"api\"></iframe></body></html>",
        h.server.base
    ))
    .await;
    let browser = h.browser(WRITER).await;
    browser.go(&other).await;
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    browser.screenshot("framed").await;
    let text = "return document.body ? document.body.innerText : '';";
    browser.frame(Some(1)).await;
    let api = browser.script(text, json!([])).await;
    assert!(
        api.as_str().unwrap_or_default().contains("openapi"),
        "the API frame did not load: {api}"
    );
    browser.frame(None).await;
    browser.frame(Some(0)).await;
    let ui = browser.script(text, json!([])).await;
    let ui = ui.as_str().unwrap_or_default();
    assert!(
        !ui.contains("Herald registry"),
        "the UI loaded in a frame: {ui}"
    );
    assert!(!ui.contains("Subjects"), "the UI loaded in a frame: {ui}");
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dot_subject_api_reference_and_phone_list() {
    let _one = ONE_AT_A_TIME.lock().await;
    let h = Harness::start().await;
    let (status, body) = common::raw_request(
        &h.server.base,
        "POST",
        "/subjects/%2E%2E/versions",
        &json!({"schema": avro(json!([{"name": "id", "type": "string"}]))}).to_string(),
        Some(&basic(WRITER)),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let browser = h.browser(WRITER).await;
    h.visit(&browser, "/ui", "list-dots").await;
    browser.submit("a[href='/ui/subjects/~..']").await;
    assert!(browser.url().await.ends_with("/ui/subjects/~.."));
    assert_eq!(browser.find("h1").await.text().await, "..");
    h.check_current(&browser, "subject-dots").await;
    browser
        .submit("a[href='/ui/subjects/~../versions/1/rust']")
        .await;
    assert!(
        browser
            .find("h1")
            .await
            .text()
            .await
            .contains("Rust code for ..")
    );
    // The API link opens the reference rendered from the server's OpenAPI document.
    browser.submit("header a[href='/ui/api']").await;
    h.check_current(&browser, "api-reference").await;
    assert!(browser.count("section.operation").await > 10);
    browser
        .find("a[href='#schema-SchemaRequest']")
        .await
        .click()
        .await;
    assert_eq!(
        browser.script("return location.hash;", json!([])).await,
        json!("#schema-SchemaRequest")
    );
    // On a phone, the state column stays in view.
    browser.resize(390, 844).await;
    h.visit(&browser, "/ui", "list-phone-state").await;
    let in_view = browser
        .script(
            "var cells = document.querySelectorAll('#subjects .state'); \
             return cells.length > 0 && Array.prototype.every.call(cells, function (cell) { \
             var r = cell.getBoundingClientRect(); return r.left >= 0 && r.right <= window.innerWidth; });",
            json!([]),
        )
        .await;
    assert_eq!(in_view, json!(true), "the state column is off screen");
    browser.quit().await;
}
