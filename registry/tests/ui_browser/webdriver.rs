//! A minimal W3C WebDriver client over reqwest, for headless Chromium through Debian's
//! `chromedriver`, with the page checks every browser test runs: HTML validity (html5ever's
//! parse errors) and accessibility (axe-core, injected into the page).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

/// The key W3C WebDriver names element references with.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Finds an executable on `PATH` (or in an environment variable naming it).
fn executable(variable: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(variable) {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// Where axe-core's `axe.min.js` is: `HERALD_AXE_JS`, else where `scripts/ui-test-deps`
/// installs it.
fn axe_path() -> PathBuf {
    if let Some(path) = std::env::var_os("HERALD_AXE_JS") {
        return PathBuf::from(path);
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))
        .unwrap_or_else(|| PathBuf::from(".cache"));
    cache.join("herald-ui/node_modules/axe-core/axe.min.js")
}

/// chromedriver on a free port, killed when dropped.
pub struct Driver {
    child: Child,
    base: String,
}

impl Driver {
    /// Starts chromedriver; fails the test with what to install when it is missing.
    pub async fn start() -> Driver {
        let driver = executable("HERALD_CHROMEDRIVER", &["chromedriver"]).unwrap_or_else(|| {
            panic!(
                "chromedriver not found: install Debian's `chromium` and `chromium-driver` \
                 packages (scripts/ui-test-deps does), or set HERALD_CHROMEDRIVER"
            )
        });
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(&driver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|err| panic!("cannot run {}: {err}", driver.display()));
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(answer) = http.get(format!("{base}/status")).send().await
                && answer.status().is_success()
            {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not start on {base}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Driver { child, base }
    }

    /// A headless Chromium session, sending `authorization` (a Basic header) with every
    /// request when given.
    pub async fn session(&self, authorization: Option<&str>) -> Browser {
        let chromium = executable("HERALD_CHROMIUM", &["chromium", "chromium-browser"])
            .unwrap_or_else(|| {
                panic!(
                    "chromium not found: install Debian's `chromium` and `chromium-driver` \
                     packages (scripts/ui-test-deps does), or set HERALD_CHROMIUM"
                )
            });
        let http = reqwest::Client::new();
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=1280,900",
                         "--hide-scrollbars", "--force-color-profile=srgb"],
            },
        }}});
        let answer: Value = http
            .post(format!("{}/session", self.base))
            .json(&capabilities)
            .send()
            .await
            .expect("new session")
            .json()
            .await
            .expect("session answer");
        let id = answer["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("chromedriver refused a session: {answer}"))
            .to_owned();
        let browser = Browser {
            http,
            base: format!("{}/session/{id}", self.base),
        };
        if let Some(authorization) = authorization {
            browser.cdp("Network.enable", json!({})).await;
            browser
                .cdp(
                    "Network.setExtraHTTPHeaders",
                    json!({"headers": {"Authorization": authorization}}),
                )
                .await;
        }
        browser
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One browser session.
pub struct Browser {
    http: reqwest::Client,
    base: String,
}

/// An element of the current page.
pub struct Element<'a> {
    browser: &'a Browser,
    id: String,
}

impl Browser {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer: Value = request
            .send()
            .await
            .expect("webdriver request")
            .json()
            .await
            .expect("webdriver answer");
        if let Some(error) = answer["value"]["error"].as_str() {
            panic!(
                "webdriver {path}: {error}: {}",
                answer["value"]["message"].as_str().unwrap_or("")
            );
        }
        answer["value"].clone()
    }

    async fn cdp(&self, command: &str, params: Value) -> Value {
        self.call(
            reqwest::Method::POST,
            "/goog/cdp/execute",
            Some(json!({"cmd": command, "params": params})),
        )
        .await
    }

    /// Opens a URL.
    pub async fn go(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({"url": url})))
            .await;
    }

    /// The current URL.
    pub async fn url(&self) -> String {
        self.call(reqwest::Method::GET, "/url", None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The element `css` selects; fails the test when there is none.
    pub async fn find(&self, css: &str) -> Element<'_> {
        let value = self
            .call(
                reqwest::Method::POST,
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        Element {
            browser: self,
            id: value[ELEMENT].as_str().unwrap_or_default().to_owned(),
        }
    }

    /// How many elements `css` selects.
    pub async fn count(&self, css: &str) -> usize {
        self.call(
            reqwest::Method::POST,
            "/elements",
            Some(json!({"using": "css selector", "value": css})),
        )
        .await
        .as_array()
        .map_or(0, Vec::len)
    }

    /// Runs a script (a returned promise is awaited) and returns its value.
    pub async fn script(&self, script: &str, args: Value) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": script, "args": args})),
        )
        .await
    }

    /// The visible text of the page.
    pub async fn text(&self) -> String {
        self.find("body").await.text().await
    }

    /// Makes the page's `index`th frame (0-based) the context of the next commands; `None`
    /// goes back to the top page.
    pub async fn frame(&self, index: Option<u32>) {
        self.call(reqwest::Method::POST, "/frame", Some(json!({"id": index})))
            .await;
    }

    /// Resizes the window.
    pub async fn resize(&self, width: u32, height: u32) {
        self.call(
            reqwest::Method::POST,
            "/window/rect",
            Some(json!({"width": width, "height": height})),
        )
        .await;
    }

    /// Presses a key (a WebDriver key code such as `\u{E004}`, Tab) on the focused element.
    pub async fn press(&self, key: &str) {
        self.call(
            reqwest::Method::POST,
            "/actions",
            Some(
                json!({"actions": [{"type": "key", "id": "keyboard", "actions": [
                {"type": "keyDown", "value": key}, {"type": "keyUp", "value": key}]}]}),
            ),
        )
        .await;
    }

    /// Clicks what `css` selects and waits until the next page has loaded.
    pub async fn submit(&self, css: &str) {
        self.script("window.heraldOldPage = true; return null;", json!([]))
            .await;
        self.find(css).await.click().await;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let loaded = self
                .script(
                    "return !window.heraldOldPage && document.readyState === 'complete';",
                    json!([]),
                )
                .await;
            if loaded == json!(true) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "no page loaded after clicking {css}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Saves a PNG screenshot of the page as `name`.png in the test's screenshot folder.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let encoded = self.call(reqwest::Method::GET, "/screenshot", None).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(encoded.as_str().unwrap_or_default())
            .expect("screenshot is base64");
        assert!(png.starts_with(b"\x89PNG"), "the screenshot is not a PNG");
        let path = screenshot_dir().join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write screenshot");
        path
    }

    /// Runs axe-core on the page and fails the test on any violation.
    pub async fn assert_accessible(&self, page: &str) {
        let path = axe_path();
        let source = std::fs::read_to_string(&path).unwrap_or_else(|err| {
            panic!(
                "axe-core not found at {} ({err}): run scripts/ui-test-deps (npm install \
                 axe-core into ~/.cache/herald-ui), or set HERALD_AXE_JS",
                path.display()
            )
        });
        self.script(&source, json!([])).await;
        let violations = self
            .script(
                "return axe.run(document, {resultTypes: ['violations']}).then(function (r) { \
                 return r.violations.map(function (v) { return v.id + ' (' + v.impact + '): ' + \
                 v.help + ' at ' + v.nodes.map(function (n) { return n.target.join(' '); }).join(', '); }); });",
                json!([]),
            )
            .await;
        let list = violations.as_array().cloned().unwrap_or_default();
        assert!(
            list.is_empty(),
            "axe-core finds accessibility violations on {page}:\n{}",
            list.iter()
                .map(|v| v.as_str().unwrap_or_default())
                .collect::<Vec<_>>()
                .join("\n")
        );
    }

    /// Ends the session.
    pub async fn quit(self) {
        let _ = self.http.delete(&self.base).send().await;
    }
}

impl Element<'_> {
    /// Types text into the element.
    pub async fn type_text(&self, text: &str) {
        self.browser
            .call(
                reqwest::Method::POST,
                &format!("/element/{}/value", self.id),
                Some(json!({"text": text})),
            )
            .await;
    }

    /// Empties an input or textarea.
    pub async fn clear(&self) {
        self.browser
            .call(
                reqwest::Method::POST,
                &format!("/element/{}/clear", self.id),
                Some(json!({})),
            )
            .await;
    }

    /// Clicks the element.
    pub async fn click(&self) {
        self.browser
            .call(
                reqwest::Method::POST,
                &format!("/element/{}/click", self.id),
                Some(json!({})),
            )
            .await;
    }

    /// Its visible text.
    pub async fn text(&self) -> String {
        self.browser
            .call(
                reqwest::Method::GET,
                &format!("/element/{}/text", self.id),
                None,
            )
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Chooses the option with this value in a select element.
    pub async fn choose(&self, value: &str) {
        self.browser
            .script(
                "arguments[0].value = arguments[1]; return arguments[0].value;",
                json!([{ELEMENT: self.id}, value]),
            )
            .await;
    }
}

/// The folder screenshots go to (printed once).
pub fn screenshot_dir() -> PathBuf {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("ui-screenshots");
        std::fs::create_dir_all(&dir).expect("screenshot folder");
        println!("ui_browser: screenshots in {}", dir.display());
        eprintln!("ui_browser: screenshots in {}", dir.display());
        dir
    })
    .clone()
}

/// Fails the test when html5ever reports a parse error in `html` (exact error positions).
pub fn assert_valid_html(page: &str, html: &str) {
    use html5ever::tendril::TendrilSink;
    use html5ever::tree_builder::TreeBuilderOpts;
    use html5ever::{ParseOpts, parse_document};
    let options = ParseOpts {
        tree_builder: TreeBuilderOpts {
            exact_errors: true,
            ..TreeBuilderOpts::default()
        },
        ..ParseOpts::default()
    };
    let dom = parse_document(markup5ever_rcdom::RcDom::default(), options)
        .from_utf8()
        .read_from(&mut html.as_bytes())
        .expect("parse HTML");
    let errors = dom.errors.borrow();
    assert!(
        errors.is_empty(),
        "{page} is not valid HTML: {errors:?}\n{html}"
    );
    assert!(html.starts_with("<!DOCTYPE html>"), "{page} has no doctype");
    // Ids must be unique (the parser does not check it).
    let mut ids: Vec<&str> = html
        .split(" id=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .collect();
    let total = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), total, "{page} repeats an id");
}
