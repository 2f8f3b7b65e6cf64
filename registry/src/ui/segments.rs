//! The subject and version segments of UI paths. A browser removes `.` and `..` segments from
//! a URL before sending it, percent-encoded or not (`%2E%2E` is `..` to it), so the UI writes
//! those two subject names with a leading `~`, and so every name that starts with `~`: the
//! segment `~..` is the subject `..`, `~~x` is `~x`, any other segment is its own name.
//! The extractors answer a segment they cannot read with an HTML page, like every UI error.

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;

use crate::server::Error;
use crate::service::parse_version;

use super::Failure;

/// Percent-encodes a path segment (everything but unreserved characters).
pub(crate) fn encode(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The path segment that names `subject` in UI paths.
pub(crate) fn subject_segment(subject: &str) -> String {
    if subject == "." || subject == ".." || subject.starts_with('~') {
        format!("~{}", encode(subject))
    } else {
        encode(subject)
    }
}

/// The subject a UI path segment (percent-decoded) names.
fn subject_of(segment: String) -> String {
    match segment.strip_prefix('~') {
        Some(name) => name.to_owned(),
        None => segment,
    }
}

/// A path the router matched but whose segments are unreadable (not UTF-8, …).
fn unreadable(rejection: axum::extract::rejection::PathRejection) -> Failure {
    Error::BadRequest(rejection.body_text()).into()
}

/// `{subject}` of a UI path.
#[derive(Debug)]
pub(crate) struct SubjectPath(pub(crate) String);

impl<S: Send + Sync> FromRequestParts<S> for SubjectPath {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Failure> {
        let Path(segment) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(unreadable)?;
        Ok(SubjectPath(subject_of(segment)))
    }
}

/// `{subject}` and `{version}` of a UI path; the version is a number or `latest` (`None`).
#[derive(Debug)]
pub(crate) struct VersionPath {
    /// The subject.
    pub(crate) subject: String,
    /// The version; `None` is the latest.
    pub(crate) version: Option<i32>,
}

impl<S: Send + Sync> FromRequestParts<S> for VersionPath {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Failure> {
        let Path((segment, version)) = Path::<(String, String)>::from_request_parts(parts, state)
            .await
            .map_err(unreadable)?;
        Ok(VersionPath {
            subject: subject_of(segment),
            version: parse_version(&version)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_percent_encoded() {
        assert_eq!(encode("orders-value"), "orders-value");
        assert_eq!(encode("a/b c"), "a%2Fb%20c");
        assert_eq!(encode("é"), "%C3%A9");
    }

    #[test]
    fn dot_names_and_tildes_are_escaped_both_ways() {
        for (name, segment) in [
            ("..", "~.."),
            (".", "~."),
            ("~x", "~~x"),
            ("~", "~~"),
            ("a~", "a~"),
            ("...", "..."),
            ("a/..", "a%2F.."),
        ] {
            assert_eq!(subject_segment(name), segment, "{name}");
            assert_eq!(subject_of(segment.replace("%2F", "/")), name, "{segment}");
        }
    }
}
