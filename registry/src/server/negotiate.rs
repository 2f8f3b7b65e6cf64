//! Content negotiation as Confluent declares it: answers are
//! `application/vnd.schemaregistry.v1+json` (the default), `application/vnd.schemaregistry+json`
//! or `application/json`, picked from the `Accept` header with its q-values (406 when it allows
//! none); request bodies are one of those or `application/octet-stream` (or have no
//! `Content-Type`), in UTF-8 (415 otherwise).
//!
//! Handlers always render the default type; [`label`] only rewrites the header when the
//! client asked for another one. The common cases (no `Accept`, `*/*`, or exactly one of the
//! three types) cost a header lookup and a comparison, with no allocation.

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::Response;

use super::error::Error;
use herald_protocol::CONTENT_TYPE;

/// What the API can answer with, best first (Confluent's server-side quality order).
const PRODUCED: [&str; 3] = [
    CONTENT_TYPE,
    "application/vnd.schemaregistry+json",
    "application/json",
];

/// What request bodies may be, besides the answer types.
const OCTET_STREAM: &str = "application/octet-stream";

/// Checks the request's `Content-Type` and `Accept`: `Ok(None)` for routes that do not
/// answer Confluent JSON ([`exempt`]), else the index in [`PRODUCED`] of the type to answer
/// with, for [`label`]; 415 or 406 when the request allows none.
pub(super) fn check(request: &Request) -> Result<Option<usize>, Error> {
    if exempt(request.uri().path()) {
        return Ok(None);
    }
    if has_body(request.method()) {
        check_content_type(request.headers())?;
    }
    choose(request.headers().get(header::ACCEPT))
        .map(Some)
        .ok_or(Error::NotAcceptable)
}

/// Sets the answer's content type to the one [`check`] chose, when the handler rendered the
/// default one (handlers always do).
pub(super) fn label(response: &mut Response, chosen: usize) {
    if chosen == 0 {
        return;
    }
    let headers = response.headers_mut();
    if headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes() == CONTENT_TYPE.as_bytes())
    {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(PRODUCED[chosen]),
        );
    }
}

/// Routes that do not answer Confluent JSON: `/` (Confluent exempts it; a browser is sent to
/// the UI), Prometheus metrics, generated Rust source and the web UI's pages.
fn exempt(path: &str) -> bool {
    path == "/"
        || path == "/metrics"
        || (path.ends_with("/rust") && path.contains("/versions/"))
        || path == "/ui"
        || path.starts_with("/ui/")
}

fn has_body(method: &Method) -> bool {
    method == Method::POST || method == Method::PUT || method == Method::PATCH
}

/// Accepts no `Content-Type`, or one of the answer types or `application/octet-stream`, with
/// no charset or UTF-8.
fn check_content_type(headers: &HeaderMap) -> Result<(), Error> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Ok(());
    };
    let text = value.to_str().map_err(|_| unsupported())?;
    let mut parts = text.split(';');
    let media = parts.next().unwrap_or("").trim();
    let known = PRODUCED
        .iter()
        .chain([&OCTET_STREAM])
        .any(|name| name.eq_ignore_ascii_case(media));
    if !known {
        return Err(unsupported());
    }
    for parameter in parts {
        let Some((name, value)) = parameter.split_once('=') else {
            continue;
        };
        if !name.trim().eq_ignore_ascii_case("charset") {
            continue;
        }
        let charset = value.trim().trim_matches('"');
        if !charset.eq_ignore_ascii_case("utf-8") && !charset.eq_ignore_ascii_case("utf8") {
            return Err(Error::UnsupportedMediaType(format!(
                "Unsupported charset '{charset}': request bodies must be UTF-8"
            )));
        }
    }
    Ok(())
}

fn unsupported() -> Error {
    Error::UnsupportedMediaType("HTTP 415 Unsupported Media Type".to_owned())
}

/// The index in [`PRODUCED`] of the type to answer with, or `None` when `Accept` allows none.
fn choose(accept: Option<&HeaderValue>) -> Option<usize> {
    let Some(accept) = accept else {
        return Some(0);
    };
    let bytes = accept.as_bytes();
    if bytes == b"*/*" {
        return Some(0);
    }
    if let Some(exact) = PRODUCED.iter().position(|name| name.as_bytes() == bytes) {
        return Some(exact);
    }
    let text = std::str::from_utf8(bytes).ok()?;
    // The client's quality for each type, from the most specific range that matches it.
    let mut best = [(0u8, 0u16); 3];
    for range in text.split(',') {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or("").trim();
        if media.is_empty() {
            continue;
        }
        let quality = parts
            .filter_map(|p| p.split_once('='))
            .find(|(name, _)| name.trim().eq_ignore_ascii_case("q"))
            .map_or(Some(1000), |(_, value)| quality(value.trim()))
            .unwrap_or(0);
        for (index, name) in PRODUCED.iter().enumerate() {
            let specificity = if media.eq_ignore_ascii_case(name) {
                3
            } else if media.eq_ignore_ascii_case("application/*") {
                2
            } else if any_type(media) {
                1
            } else {
                0
            };
            if specificity > best[index].0 {
                best[index] = (specificity, quality);
            }
        }
    }
    let mut chosen = None;
    let mut chosen_quality = 0;
    for (index, (_, quality)) in best.iter().enumerate() {
        if *quality > chosen_quality {
            chosen = Some(index);
            chosen_quality = *quality;
        }
    }
    chosen
}

/// Whether a media range stands for any type: `*/*`, and as Confluent's server (Jersey) reads
/// them, a bare `*` (sent by some clients and by browsers' default `Accept`) and `*/<anything>`.
fn any_type(media: &str) -> bool {
    media == "*" || media.starts_with("*/")
}

/// A q-value (`0` to `1`, up to three decimals) in thousandths; `None` when malformed. A
/// missing leading zero (`.2`, which browsers send) is read as `0.2`.
fn quality(text: &str) -> Option<u16> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let whole = if whole.is_empty() && !fraction.is_empty() {
        "0"
    } else {
        whole
    };
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole: u16 = match whole {
        "0" => 0,
        "1" => 1000,
        _ => return None,
    };
    let mut thousandths = 0u16;
    for (position, digit) in fraction.bytes().enumerate() {
        let scale = [100, 10, 1][position];
        thousandths += u16::from(digit - b'0') * scale;
    }
    let value = whole + thousandths;
    (value <= 1000).then_some(value)
}

/// Whether a request is for the UI: a browser asking for `/` with `Accept: text/html`.
pub(crate) fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pick(accept: &str) -> Option<usize> {
        choose(Some(
            &HeaderValue::from_str(accept).unwrap_or(HeaderValue::from_static("")),
        ))
    }

    #[test]
    fn accept_headers() {
        assert_eq!(choose(None), Some(0));
        assert_eq!(pick("*/*"), Some(0));
        assert_eq!(pick("application/json"), Some(2));
        assert_eq!(pick("application/vnd.schemaregistry+json"), Some(1));
        assert_eq!(pick("application/*"), Some(0));
        assert_eq!(pick("text/html"), None);
        assert_eq!(pick("text/html, application/json;q=0.5"), Some(2));
        assert_eq!(
            pick("application/vnd.schemaregistry.v1+json;q=0.2, application/json;q=0.9"),
            Some(2)
        );
        assert_eq!(pick("application/json;q=0, */*;q=0.1"), Some(0));
        assert_eq!(pick("APPLICATION/JSON; charset=utf-8"), Some(2));
        assert_eq!(pick("application/json;q=0"), None);
        // Ranges Confluent's server reads as `*/*`.
        assert_eq!(pick("*"), Some(0));
        assert_eq!(pick("*/does_not_matter"), Some(0));
        assert_eq!(
            pick("text/html, application/xhtml+xml, image/jxr, *; q=.2"),
            Some(0)
        );
        assert_eq!(pick("text/html, *;q=0"), None);
    }

    #[test]
    fn qualities() {
        assert_eq!(quality("1"), Some(1000));
        assert_eq!(quality("0.5"), Some(500));
        assert_eq!(quality("0.125"), Some(125));
        assert_eq!(quality("1.0"), Some(1000));
        assert_eq!(quality("1.5"), None);
        assert_eq!(quality(".2"), Some(200));
        assert_eq!(quality("."), None);
        assert_eq!(quality("x"), None);
    }

    #[test]
    fn browsers_want_html() {
        let accepting = |accept: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::ACCEPT, HeaderValue::from_static(accept));
            headers
        };
        assert!(wants_html(&accepting(
            "text/html,application/xhtml+xml,*/*;q=0.8"
        )));
        assert!(!wants_html(&accepting("application/json")));
        assert!(!wants_html(&HeaderMap::new()));
    }
}
