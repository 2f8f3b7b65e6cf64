//! Who is at the other end of a connection: its address and, under mutual TLS, the names in
//! the certificate it presented, which rustls has verified against the client CA bundle.
//!
//! The names are read from the certificate's DER: the subject's common names (CN), then the
//! subject alternative names of type DNS name and email (RFC 822 name), in that order. The
//! reader below knows just enough of X.509 for that; a name it cannot read is left out.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::connect_info::Connected;
use axum::serve::IncomingStream;

use super::TlsListener;

/// The connection a request came on, as the server recorded it when the connection was
/// accepted, under mutual TLS (read it as `ConnectInfo<Peer>`).
#[derive(Debug, Clone)]
pub struct Peer {
    /// The client's address.
    pub address: SocketAddr,
    /// The names of the client's verified certificate: CN first, then DNS and email SANs;
    /// `None` when the client presented no certificate (plain HTTP, TLS without
    /// `--tls-client-ca`).
    pub certificate: Option<Arc<[String]>>,
}

impl Connected<IncomingStream<'_, TlsListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, TlsListener>) -> Self {
        let (_, session) = stream.io().get_ref();
        Peer {
            address: *stream.remote_addr(),
            certificate: session
                .peer_certificates()
                .and_then(|chain| chain.first())
                .map(|leaf| certificate_names(leaf).into()),
        }
    }
}

/// DER tags this reader needs.
const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const OID: u8 = 0x06;
const OCTET_STRING: u8 = 0x04;
const EXPLICIT_VERSION: u8 = 0xa0;
const EXTENSIONS: u8 = 0xa3;
const SAN_EMAIL: u8 = 0x81;
const SAN_DNS: u8 = 0x82;
const UTF8_STRING: u8 = 0x0c;
const PRINTABLE_STRING: u8 = 0x13;
const TELETEX_STRING: u8 = 0x14;
const IA5_STRING: u8 = 0x16;
const BMP_STRING: u8 = 0x1e;
/// 2.5.4.3, the common name attribute.
const COMMON_NAME: &[u8] = &[0x55, 0x04, 0x03];
/// 2.5.29.17, the subject alternative name extension.
const SUBJECT_ALT_NAME: &[u8] = &[0x55, 0x1d, 0x11];

/// The names of a certificate (DER): subject CNs, then DNS SANs, then email SANs.
pub(crate) fn certificate_names(der: &[u8]) -> Vec<String> {
    let mut names = Vec::new();
    let Some(tbs) = tbs_fields(der) else {
        return names;
    };
    // subject is the sixth field: after serial, signature, issuer and validity.
    if let Some((SEQUENCE, subject)) = tbs.get(4).copied() {
        names.extend(common_names(subject));
    }
    if let Some((_, extensions)) = tbs.iter().find(|(tag, _)| *tag == EXTENSIONS) {
        let (dns, email) = alternative_names(extensions);
        names.extend(dns);
        names.extend(email);
    }
    names
}

/// The fields of the `tbsCertificate`, without the optional explicit version.
fn tbs_fields(der: &[u8]) -> Option<Vec<(u8, &[u8])>> {
    let (SEQUENCE, certificate, _) = element(der)? else {
        return None;
    };
    let (SEQUENCE, tbs, _) = element(certificate)? else {
        return None;
    };
    let fields = elements(tbs)?;
    Some(
        fields
            .into_iter()
            .skip_while(|(tag, _)| *tag == EXPLICIT_VERSION)
            .collect(),
    )
}

/// The CN values of a distinguished name (a sequence of sets of type-and-value pairs).
fn common_names(name: &[u8]) -> Vec<String> {
    let mut names = Vec::new();
    for (tag, set) in elements(name).unwrap_or_default() {
        if tag != SET {
            continue;
        }
        for (tag, pair) in elements(set).unwrap_or_default() {
            if tag != SEQUENCE {
                continue;
            }
            if let Some([(OID, COMMON_NAME), (string_tag, value)]) = elements(pair).as_deref()
                && let Some(text) = directory_string(*string_tag, value)
            {
                names.push(text);
            }
        }
    }
    names
}

/// The DNS and email names of the subject alternative name extension, if there is one.
fn alternative_names(extensions: &[u8]) -> (Vec<String>, Vec<String>) {
    let (mut dns, mut email) = (Vec::new(), Vec::new());
    let Some((SEQUENCE, list, _)) = element(extensions) else {
        return (dns, email);
    };
    for (_, extension) in elements(list).unwrap_or_default() {
        let fields = elements(extension).unwrap_or_default();
        let Some(((OID, SUBJECT_ALT_NAME), (OCTET_STRING, value))) =
            fields.first().copied().zip(fields.last().copied())
        else {
            continue;
        };
        let Some((SEQUENCE, general_names, _)) = element(value) else {
            continue;
        };
        for (tag, name) in elements(general_names).unwrap_or_default() {
            let Ok(text) = std::str::from_utf8(name) else {
                continue;
            };
            match tag {
                SAN_DNS => dns.push(text.to_owned()),
                SAN_EMAIL => email.push(text.to_owned()),
                _ => {}
            }
        }
    }
    (dns, email)
}

/// The text of a `DirectoryString` (or IA5String) value.
fn directory_string(tag: u8, value: &[u8]) -> Option<String> {
    match tag {
        UTF8_STRING | PRINTABLE_STRING | TELETEX_STRING | IA5_STRING => {
            std::str::from_utf8(value).ok().map(str::to_owned)
        }
        BMP_STRING => {
            let units: Vec<u16> = value
                .chunks_exact(2)
                .map(|pair| u16::from_be_bytes([pair[0], pair[1]]))
                .collect();
            String::from_utf16(&units).ok()
        }
        _ => None,
    }
}

/// Every element of `input`, which must hold whole elements only.
fn elements(mut input: &[u8]) -> Option<Vec<(u8, &[u8])>> {
    let mut out = Vec::new();
    while !input.is_empty() {
        let (tag, content, rest) = element(input)?;
        out.push((tag, content));
        input = rest;
    }
    Some(out)
}

/// The first DER element of `input`: its tag, its content and what follows it.
fn element(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (length, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 {
            return None;
        }
        let (bytes, rest) = rest.split_at_checked(count)?;
        let length = bytes
            .iter()
            .fold(0usize, |length, byte| (length << 8) | usize::from(*byte));
        (length, rest)
    };
    let (content, rest) = rest.split_at_checked(length)?;
    Some((tag, content, rest))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A DER element.
    fn der(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        if content.len() < 0x80 {
            out.push(content.len() as u8);
        } else {
            out.push(0x82);
            out.extend((content.len() as u16).to_be_bytes());
        }
        out.extend(content);
        out
    }

    fn certificate(subject: &[u8], extensions: Option<&[u8]>) -> Vec<u8> {
        let mut tbs = der(EXPLICIT_VERSION, &der(0x02, &[2]));
        tbs.extend(der(0x02, &[1]));
        tbs.extend(der(SEQUENCE, &[]));
        tbs.extend(der(SEQUENCE, &[]));
        tbs.extend(der(SEQUENCE, &[]));
        tbs.extend(subject);
        tbs.extend(der(SEQUENCE, &[]));
        if let Some(extensions) = extensions {
            tbs.extend(der(EXTENSIONS, extensions));
        }
        let mut body = der(SEQUENCE, &tbs);
        body.extend(der(SEQUENCE, &[]));
        der(SEQUENCE, &body)
    }

    fn name(attributes: &[(&[u8], u8, &[u8])]) -> Vec<u8> {
        let mut sets = Vec::new();
        for (oid, tag, value) in attributes {
            let mut pair = der(OID, oid);
            pair.extend(der(*tag, value));
            sets.extend(der(SET, &der(SEQUENCE, &pair)));
        }
        der(SEQUENCE, &sets)
    }

    #[test]
    fn common_name_then_dns_then_email() {
        let organisation: &[u8] = &[0x55, 0x04, 0x0a];
        let subject = name(&[
            (organisation, UTF8_STRING, b"Acme"),
            (COMMON_NAME, UTF8_STRING, b"orders-service"),
        ]);
        let mut general = der(SAN_EMAIL, b"ops@acme.example");
        general.extend(der(SAN_DNS, b"orders.acme.example"));
        general.extend(der(0x87, &[127, 0, 0, 1]));
        let mut san = der(OID, SUBJECT_ALT_NAME);
        san.extend(der(OCTET_STRING, &der(SEQUENCE, &general)));
        let extensions = der(SEQUENCE, &der(SEQUENCE, &san));
        assert_eq!(
            certificate_names(&certificate(&subject, Some(&extensions))),
            ["orders-service", "orders.acme.example", "ops@acme.example"]
        );
    }

    #[test]
    fn bmp_common_name_and_no_extensions() {
        let subject = name(&[(COMMON_NAME, BMP_STRING, &[0, b'z', 0, 0xe9])]);
        assert_eq!(certificate_names(&certificate(&subject, None)), ["zé"]);
    }

    #[test]
    fn truncated_input_has_no_names() {
        let subject = name(&[(COMMON_NAME, UTF8_STRING, b"orders-service")]);
        let whole = certificate(&subject, None);
        assert!(certificate_names(&whole[..whole.len() - 1]).is_empty());
        assert!(element(&[SEQUENCE, 0x85, 1, 1, 1, 1, 1]).is_none());
    }
}
