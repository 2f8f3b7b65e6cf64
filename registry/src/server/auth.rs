//! Optional authentication from a credentials file: HTTP basic auth, client certificates
//! (mutual TLS, `--tls-client-ca`) or both, with read, write and admin roles.
//!
//! The file has one entry per line; blank lines and `#` comments are ignored:
//!
//! ```text
//! # a user of HTTP basic auth: name:password:role
//! alice:s3cret:write
//! bob:sha256:2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b:read
//! # a client certificate, by name, without a password: certificate NAME:role
//! certificate orders-service:write
//! certificate ops@acme.example:admin
//! ```
//!
//! The role is `read` (or `readonly`), `write` (or `readwrite`) or `admin`; a password is
//! plain or `sha256:` followed by the hex digest of the password. A certificate's names are
//! its subject CN, then its DNS and email subject alternative names; the first one listed
//! gives the role.
//!
//! How a request is authenticated, when there is a credentials file:
//! - an `Authorization` header, when present, must be valid and names the caller, whatever
//!   certificate the connection presented (a service may act as a user);
//! - otherwise the connection's verified client certificate names the caller, and a
//!   certificate none of whose names is listed is refused (401);
//! - otherwise the request is refused (401).
//!
//! Without a credentials file every caller may do everything, and is named by its
//! certificate when it presented one. A `read` caller's writes are refused (403). Every
//! refusal is logged at info with the caller's name, the method and the path (never a
//! password).

use std::collections::HashMap;
use std::path::Path;

use axum::extract::{ConnectInfo, Request};
use axum::http::{Method, StatusCode, header};
use base64::Engine;
use sha2::{Digest, Sha256};

use super::error::Error;
use super::state::AppState;
use super::tls::Peer;

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
/// request's extensions. Without credentials every caller is [`Principal::anonymous`], or
/// named by its client certificate (mutual TLS) with the admin role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The user name (basic auth) or the certificate's name (mutual TLS).
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
        if let Some(principal) = parts.extensions.get::<Principal>() {
            return Ok(principal.clone());
        }
        if parts.extensions.get::<Anonymous>().is_some() {
            return Ok(Principal::anonymous());
        }
        Ok(Principal {
            name: "unknown".to_owned(),
            role: Role::Read,
        })
    }
}

/// Who sends a request, as [`authenticate`] finds it.
#[derive(Debug)]
pub(super) enum Caller {
    /// A probe of `/health` or `/ready`, open whatever the credentials.
    Probe,
    /// Anyone, on a server without credentials and without a client certificate: recorded
    /// in the request as the [`Anonymous`] marker, which allocates nothing, and read by
    /// handlers as [`Principal::anonymous`].
    Anonymous,
    /// A named caller.
    Named(Principal),
}

/// The mark of a request [`Caller::Anonymous`] sent.
#[derive(Debug, Clone, Copy)]
pub(super) struct Anonymous;

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

/// Users and client certificates allowed to call the API.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    users: HashMap<String, User>,
    certificates: HashMap<String, Role>,
}

/// Why a request was not let through: the 401 or 403 it gets, and the name it claimed, for
/// the log.
#[derive(Debug)]
pub struct Refusal {
    /// The user or certificate name the request came with, if any.
    pub claimed: Option<String>,
    /// The answer.
    pub error: Error,
}

impl Refusal {
    fn unauthorized(claimed: Option<&str>, message: &str) -> Self {
        Refusal {
            claimed: claimed.map(str::to_owned),
            error: Error::Unauthorized(message.to_owned()),
        }
    }
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
        let mut credentials = Credentials::default();
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let error = |message: &str| CredentialsError::Line {
                line: index + 1,
                message: message.to_owned(),
            };
            let role = |role: &str| match role.to_ascii_lowercase().as_str() {
                "read" | "readonly" | "read-only" => Ok(Role::Read),
                "write" | "readwrite" | "read-write" => Ok(Role::Write),
                "admin" => Ok(Role::Admin),
                _ => Err(error("role must be read, write or admin")),
            };
            if let Some(entry) = line.strip_prefix("certificate ") {
                let (name, rest) = entry
                    .trim()
                    .rsplit_once(':')
                    .ok_or_else(|| error("expected certificate NAME:role"))?;
                if name.is_empty() {
                    return Err(error("expected certificate NAME:role"));
                }
                credentials
                    .certificates
                    .insert(name.to_owned(), role(rest)?);
                continue;
            }
            let (name, rest) = line
                .split_once(':')
                .ok_or_else(|| error("expected name:password:role"))?;
            let (password, rest) = rest
                .rsplit_once(':')
                .ok_or_else(|| error("expected name:password:role"))?;
            let sha256 = match password.strip_prefix("sha256:") {
                Some(hex) => parse_hex(hex).ok_or_else(|| error("sha256: needs 64 hex digits"))?,
                None => digest(password.as_bytes()),
            };
            let role = role(rest)?;
            credentials
                .users
                .insert(name.to_owned(), User { sha256, role });
        }
        Ok(credentials)
    }

    /// Who makes a request with this `Authorization` header on a connection with this
    /// client certificate (its names), by the rules of the module documentation.
    pub fn authenticate(
        &self,
        authorization: Option<&str>,
        certificate: Option<&[String]>,
    ) -> Result<Principal, Refusal> {
        match (authorization, certificate) {
            (Some(value), _) => self.basic(value),
            (None, Some(names)) => names
                .iter()
                .find_map(|name| {
                    self.certificates.get(name).map(|role| Principal {
                        name: name.clone(),
                        role: *role,
                    })
                })
                .ok_or_else(|| {
                    Refusal::unauthorized(
                        names.first().map(String::as_str),
                        "this client certificate is not listed in the credentials file",
                    )
                }),
            (None, None) => Err(Refusal::unauthorized(None, "credentials required")),
        }
    }

    /// The user an `Authorization` header names, if the password matches.
    fn basic(&self, value: &str) -> Result<Principal, Refusal> {
        let malformed = || Refusal::unauthorized(None, "malformed Basic credentials");
        let encoded = value
            .strip_prefix("Basic ")
            .ok_or_else(|| Refusal::unauthorized(None, "only Basic authentication is supported"))?;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .map_err(|_| malformed())?;
        let decoded = String::from_utf8(decoded).map_err(|_| malformed())?;
        let (name, password) = decoded.split_once(':').ok_or_else(malformed)?;
        match self.users.get(name) {
            Some(user) if user.sha256 == digest(password.as_bytes()) => Ok(Principal {
                name: name.to_owned(),
                role: user.role,
            }),
            _ => Err(Refusal::unauthorized(
                Some(name),
                "bad user name or password",
            )),
        }
    }
}

/// Whether a request changes the registry.
fn is_write(method: &Method, path: &str) -> bool {
    match *method {
        Method::GET | Method::HEAD | Method::OPTIONS => false,
        Method::POST => {
            path.starts_with("/dek-registry/")
                || (path.starts_with("/subjects/") && path.ends_with("/versions"))
        }
        _ => true,
    }
}

/// Who sends `req`, by the credentials when there are any: probes of `/health` and
/// `/ready` stay open; a [`Refusal`] (401, or 403 for a `read` caller's write) otherwise.
/// Without credentials every caller is an admin, named by its client certificate or
/// anonymous.
pub(super) fn authenticate(state: &AppState, req: &Request) -> Result<Caller, Refusal> {
    let certificate = req
        .extensions()
        .get::<ConnectInfo<Peer>>()
        .and_then(|ConnectInfo(peer)| peer.certificate.as_deref());
    let path = req.uri().path();
    match state.credentials() {
        None => Ok(match certificate.and_then(<[String]>::first) {
            Some(name) => Caller::Named(Principal {
                name: name.clone(),
                role: Role::Admin,
            }),
            None => Caller::Anonymous,
        }),
        Some(_) if path == "/health" || path == "/ready" => Ok(Caller::Probe),
        Some(credentials) => {
            let header = req
                .headers()
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok());
            match credentials.authenticate(header, certificate) {
                Ok(principal) if principal.role == Role::Read && is_write(req.method(), path) => {
                    Err(Refusal {
                        claimed: Some(principal.name),
                        error: Error::Forbidden("this user may only read".to_owned()),
                    })
                }
                result => result.map(Caller::Named),
            }
        }
    }
}

/// Logs a 401 or 403 answer, the authentication's own or a handler's (the UI's Origin
/// guard), at info with the caller's name, the method and the path (never a password).
pub(super) fn log_refusal(
    principal: Option<&str>,
    method: &Method,
    path: &str,
    status: StatusCode,
) {
    if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
        tracing::info!(
            principal = principal.unwrap_or("none"),
            method = %method,
            path,
            status = status.as_u16(),
            "request refused"
        );
    }
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
                .authenticate(Some(&basic("reader", "pw")), None)
                .unwrap()
                .role,
            Role::Read
        );
        assert_eq!(
            creds
                .authenticate(Some(&basic("writer", "s3cret")), None)
                .unwrap()
                .role,
            Role::Write
        );
        let refused = creds
            .authenticate(Some(&basic("writer", "nope")), None)
            .unwrap_err();
        assert_eq!(refused.claimed.as_deref(), Some("writer"));
        assert!(creds.authenticate(None, None).is_err());
    }

    #[test]
    fn certificates_by_any_name_and_the_header_first() {
        let creds = Credentials::parse(
            "reader:pw:read\ncertificate svc.acme.example:write\ncertificate Ops Team:admin\n",
        )
        .unwrap();
        let names = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        // The CN is not listed, a DNS name is.
        let service = creds
            .authenticate(None, Some(&names(&["orders", "svc.acme.example"])))
            .unwrap();
        assert_eq!(
            (service.name.as_str(), service.role),
            ("svc.acme.example", Role::Write)
        );
        let ops = creds
            .authenticate(None, Some(&names(&["Ops Team"])))
            .unwrap();
        assert_eq!(ops.role, Role::Admin);
        let unlisted = creds
            .authenticate(None, Some(&names(&["stranger"])))
            .unwrap_err();
        assert_eq!(unlisted.claimed.as_deref(), Some("stranger"));
        // A header names the caller, even on a connection with a listed certificate.
        let reader = creds
            .authenticate(Some(&basic("reader", "pw")), Some(&names(&["Ops Team"])))
            .unwrap();
        assert_eq!((reader.name.as_str(), reader.role), ("reader", Role::Read));
        assert!(
            creds
                .authenticate(Some(&basic("reader", "bad")), Some(&names(&["Ops Team"])))
                .is_err()
        );
        // A user named like a certificate does not log in with a certificate's entry.
        assert!(
            creds
                .authenticate(Some(&basic("Ops Team", "admin")), None)
                .is_err()
        );
        assert!(Credentials::parse("certificate :read\n").is_err());
        assert!(Credentials::parse("certificate svc:owner\n").is_err());
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
