//! The stylesheet and script, embedded in the binary and served under a name that carries a
//! hash of their content, so browsers may keep them for a year.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

const STYLE: &str = include_str!("assets/style.css");
const SCRIPT: &str = include_str!("assets/copy.js");

/// FNV-1a, 64 bits: enough to tell two versions of an asset apart.
const fn fnv(text: &str) -> u64 {
    let bytes = text.as_bytes();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    hash
}

const STYLE_HASH: u64 = fnv(STYLE);
const SCRIPT_HASH: u64 = fnv(SCRIPT);

/// The URL of the stylesheet.
pub(crate) fn style_url() -> String {
    format!("/ui/assets/style.{STYLE_HASH:016x}.css")
}

/// The URL of the script.
pub(crate) fn script_url() -> String {
    format!("/ui/assets/copy.{SCRIPT_HASH:016x}.js")
}

/// `GET /ui/assets/{name}`: an asset by its hashed name, cached for a year.
pub(crate) async fn asset(Path(name): Path<String>) -> Response {
    let (body, content_type, hash) = if name == format!("style.{STYLE_HASH:016x}.css") {
        (STYLE, "text/css; charset=utf-8", STYLE_HASH)
    } else if name == format!("copy.{SCRIPT_HASH:016x}.js") {
        (SCRIPT, "text/javascript; charset=utf-8", SCRIPT_HASH)
    } else {
        return (StatusCode::NOT_FOUND, "no such asset").into_response();
    };
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{hash:016x}\"")) {
        headers.insert(header::ETAG, etag);
    }
    response
}
