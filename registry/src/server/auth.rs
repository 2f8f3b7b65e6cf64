//! Optional HTTP basic authentication from a credentials file, with read-only and
//! read-write roles.
//!
//! The file has one user per line, `name:password:role`, where the role is `read` (or
//! `readonly`), `write` (or `readwrite`) or `admin`, and the password is either plain or
//! `sha256:` followed by the hex digest of the password. Blank lines and `#` comments are
//! ignored.

use std::collections::HashMap;
use std::path::Path;

use axum::extract::{Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use sha2::{Digest, Sha256};

use super::error::Error;
use super::state::AppState;

/// What a user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Reads, lookups, compatibility checks and payload validation.
    Read,
    /// Every change to the registry as well.
    Write,
    /// Everything, the audit log included.
    Admin,
}

/// Who made a request, as the auth middleware established it; handlers find it in the
/// request's extensions. Without credentials every caller is [`Principal::anonymous`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The user name (basic auth).
    pub name: String,
    /// What the caller may do.
    pub role: Role,
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Principal {
    type Rejection = std::convert::Infallible;

    /// The principal the auth middleware recorded; a route it did not guard reads as an
    /// unnamed reader, so a forgotten guard never grants a write.
    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Principal>()
            .cloned()
            .unwrap_or_else(|| Principal {
                name: "unknown".to_owned(),
                role: Role::Read,
            }))
    }
}

impl Principal {
    /// The caller of a server without credentials: may do everything.
    pub fn anonymous() -> Self {
        Principal {
            name: "anonymous".to_owned(),
            role: Role::Admin,
        }
    }
}

#[derive(Debug, Clone)]
struct User {
    sha256: [u8; 32],
    role: Role,
}

/// Why a credentials file was rejected.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    /// The file could not be read.
    #[error("cannot read credentials file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A line is not `name:password:role`.
    #[error("credentials line {line}: {message}")]
    Line {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

/// Users allowed to call the API.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    users: HashMap<String, User>,
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

fn parse_hex(hex: &str) -> Option<[u8; 32]> {
    if hex.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

impl Credentials {
    /// Reads a credentials file.
    pub fn load(path: &Path) -> Result<Self, CredentialsError> {
        let text = std::fs::read_to_string(path).map_err(|source| CredentialsError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text)
    }

    /// Parses the text of a credentials file.
    pub fn parse(text: &str) -> Result<Self, CredentialsError> {
        let mut users = HashMap::new();
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let error = |message: &str| CredentialsError::Line {
                line: index + 1,
                message: message.to_owned(),
            };
            let (name, rest) = line
                .split_once(':')
                .ok_or_else(|| error("expected name:password:role"))?;
            let (password, role) = rest
                .rsplit_once(':')
                .ok_or_else(|| error("expected name:password:role"))?;
            let role = match role.to_ascii_lowercase().as_str() {
                "read" | "readonly" | "read-only" => Role::Read,
                "write" | "readwrite" | "read-write" => Role::Write,
                "admin" => Role::Admin,
                _ => return Err(error("role must be read, write or admin")),
            };
            let sha256 = match password.strip_prefix("sha256:") {
                Some(hex) => parse_hex(hex).ok_or_else(|| error("sha256: needs 64 hex digits"))?,
                None => digest(password.as_bytes()),
            };
            users.insert(name.to_owned(), User { sha256, role });
        }
        Ok(Credentials { users })
    }

    /// The user an `Authorization` header names, if the password matches.
    pub fn authenticate(&self, authorization: Option<&str>) -> Result<Principal, Error> {
        let Some(value) = authorization else {
            return Err(Error::Unauthorized("credentials required".to_owned()));
        };
        let encoded = value.strip_prefix("Basic ").ok_or_else(|| {
            Error::Unauthorized("only Basic authentication is supported".to_owned())
        })?;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .map_err(|_| Error::Unauthorized("malformed Basic credentials".to_owned()))?;
        let decoded = String::from_utf8(decoded)
            .map_err(|_| Error::Unauthorized("malformed Basic credentials".to_owned()))?;
        let (name, password) = decoded
            .split_once(':')
            .ok_or_else(|| Error::Unauthorized("malformed Basic credentials".to_owned()))?;
        match self.users.get(name) {
            Some(user) if user.sha256 == digest(password.as_bytes()) => Ok(Principal {
                name: name.to_owned(),
                role: user.role,
            }),
            _ => Err(Error::Unauthorized("bad user name or password".to_owned())),
        }
    }
}

/// Whether a request changes the registry.
fn is_write(method: &Method, path: &str) -> bool {
    match *method {
        Method::GET | Method::HEAD | Method::OPTIONS => false,
        Method::POST => path.starts_with("/subjects/") && path.ends_with("/versions"),
        _ => true,
    }
}

/// Middleware that enforces the credentials, when there are any, and leaves the caller's
/// [`Principal`] in the request's extensions. `/health` and `/ready` stay open for probes.
pub async fn require(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let Some(credentials) = state.credentials() else {
        req.extensions_mut().insert(Principal::anonymous());
        return next.run(req).await;
    };
    let path = req.uri().path();
    if path == "/health" || path == "/ready" {
        return next.run(req).await;
    }
    let header = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let principal = match credentials.authenticate(header) {
        Ok(principal) => principal,
        Err(err) => return err.into_response(),
    };
    if principal.role == Role::Read && is_write(req.method(), path) {
        return Error::Forbidden("this user may only read".to_owned()).into_response();
    }
    req.extensions_mut().insert(principal);
    next.run(req).await
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn basic(user: &str, password: &str) -> String {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
        )
    }

    #[test]
    fn roles_and_hashed_passwords() {
        let hashed: String = digest(b"s3cret")
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let creds = Credentials::parse(&format!(
            "# users\nreader:pw:read\nwriter:sha256:{hashed}:write\n"
        ))
        .unwrap();
        assert_eq!(
            creds
                .authenticate(Some(&basic("reader", "pw")))
                .unwrap()
                .role,
            Role::Read
        );
        assert_eq!(
            creds
                .authenticate(Some(&basic("writer", "s3cret")))
                .unwrap()
                .role,
            Role::Write
        );
        assert!(creds.authenticate(Some(&basic("writer", "nope"))).is_err());
        assert!(creds.authenticate(None).is_err());
    }

    #[test]
    fn registering_is_a_write_and_lookup_is_not() {
        assert!(is_write(&Method::POST, "/subjects/a/versions"));
        assert!(!is_write(&Method::POST, "/subjects/a"));
        assert!(!is_write(
            &Method::POST,
            "/compatibility/subjects/a/versions"
        ));
        assert!(is_write(&Method::PUT, "/config"));
    }
}
