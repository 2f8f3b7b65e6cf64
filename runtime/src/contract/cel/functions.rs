//! The functions Confluent's CEL executors add to CEL's standard library, callable as
//! `isEmail(s)` or `s.isEmail()`: `isEmail`, `isHostname`, `isIpv4`, `isIpv6`, `isUri`,
//! `isUriRef`, `isUuid` (protovalidate's string checks).

use std::net::{Ipv4Addr, Ipv6Addr};

use cel::common::types::{CelBool, CelString, STRING_TYPE};
use cel::common::value::CowVal;
use cel::{DeclarationError, Env, ExecutionError};

/// Declares the functions on `env`.
pub(super) fn declare(env: &mut Env) -> Result<(), DeclarationError> {
    macro_rules! check {
        ($name:literal, $check:expr) => {{
            fn op<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
                let text = string_arg($name, &args)?;
                let check: fn(&str) -> bool = $check;
                Ok(CowVal::owned(CelBool::from(check(text))))
            }
            env.add_overload($name, concat!($name, "_string"), vec![STRING_TYPE], op)?;
            env.add_member_overload($name, concat!("string_", $name), STRING_TYPE, vec![], op)?;
        }};
    }
    check!("isEmail", is_email);
    check!("isHostname", is_hostname);
    check!("isIpv4", |s| s.parse::<Ipv4Addr>().is_ok());
    check!("isIpv6", |s| s.parse::<Ipv6Addr>().is_ok());
    check!("isUri", is_uri);
    check!("isUriRef", is_uri_ref);
    check!("isUuid", is_uuid);
    Ok(())
}

fn string_arg<'a>(name: &str, args: &'a [CowVal<'_, '_>]) -> Result<&'a str, ExecutionError> {
    match args {
        [arg] => match arg.as_ref().downcast_ref::<CelString>() {
            Some(text) => Ok(text.inner()),
            None => Err(ExecutionError::function_error(name, "expected a string")),
        },
        _ => Err(ExecutionError::invalid_argument_count(1, args.len())),
    }
}

/// A host name: dot-separated labels of 1 to 63 letters, digits and inner hyphens, 253
/// characters at most (a final dot allowed), the last label not all digits.
fn is_hostname(host: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host);
    if host.is_empty() || host.len() > 253 {
        return false;
    }
    let mut all_digits = true;
    for label in host.split('.') {
        if label.is_empty() || label.len() > 63 || label.starts_with('-') || label.ends_with('-') {
            return false;
        }
        if !label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return false;
        }
        all_digits = label.chars().all(|c| c.is_ascii_digit());
    }
    !all_digits
}

/// A bare address: one `@`, a local part of at most 64 characters without spaces or angle
/// brackets, a host name, 254 characters at most.
fn is_email(address: &str) -> bool {
    let Some((local, host)) = address.split_once('@') else {
        return false;
    };
    address.len() <= 254
        && local.len() <= 64
        && !local.is_empty()
        && !local
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '<' | '>' | '(' | ')' | ',' | ';' | '"'))
        && is_hostname(host)
}

/// A URI's scheme (`letter *(letter / digit / + - .)`), and the rest after its `:`.
fn scheme(uri: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = uri.split_once(':')?;
    let mut chars = scheme.chars();
    let first = chars.next()?;
    (first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
    .then_some((scheme, rest))
}

/// The authority and the path of what follows a scheme, without query and fragment.
fn authority_and_path(rest: &str) -> (&str, &str) {
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    match rest.strip_prefix("//") {
        Some(after) => after.split_at(after.find('/').unwrap_or(after.len())),
        None => ("", rest),
    }
}

/// An absolute URI with a scheme, an authority and a path (`https://example.com/x`; as
/// Confluent's Python client has it, `https://example.com` has no path and is not one).
fn is_uri(uri: &str) -> bool {
    scheme(uri).is_some_and(|(_, rest)| {
        let (authority, path) = authority_and_path(rest);
        !authority.is_empty() && !path.is_empty()
    })
}

/// A URI reference: anything but a fragment after a reference without a scheme or a path.
fn is_uri_ref(uri: &str) -> bool {
    let fragment = uri.split_once('#').is_some_and(|(_, f)| !f.is_empty());
    let (has_scheme, rest) = match scheme(uri) {
        Some((_, rest)) => (true, rest),
        None => (false, uri),
    };
    let (_, path) = authority_and_path(rest);
    !fragment || (has_scheme && !path.is_empty())
}

/// A UUID in one of the forms Python's `uuid.UUID` reads: 32 hex digits, hyphens anywhere,
/// in braces or after `urn:uuid:`.
fn is_uuid(text: &str) -> bool {
    let text = text.strip_prefix("urn:uuid:").unwrap_or(text);
    let text = text
        .strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'))
        .unwrap_or(text);
    let digits: Vec<char> = text.chars().filter(|c| *c != '-').collect();
    digits.len() == 32 && digits.iter().all(char::is_ascii_hexdigit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_answer_as_confluents_do() {
        assert!(is_email("ada@example.com"));
        assert!(!is_email("ada-at-example.com"));
        assert!(!is_email("ada@localhost.123"));
        assert!(is_hostname("example.com."));
        assert!(!is_hostname("-bad.com"));
        assert!(is_uri("https://example.com/a?b#c"));
        assert!(!is_uri("https://example.com"));
        assert!(!is_uri("example.com/a"));
        assert!(is_uri_ref("/a/b"));
        assert!(!is_uri_ref("#frag"));
        assert!(is_uuid("123e4567-e89b-12d3-a456-426614174000"));
        assert!(is_uuid("{123e4567e89b12d3a456426614174000}"));
        assert!(!is_uuid("123e4567-e89b-12d3-a456"));
    }
}
