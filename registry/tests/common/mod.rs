//! What the registry's tests share beyond `herald-test-support` (which starts `herald serve`
//! and gives each test its database): Confluent's error answers and Avro records.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::Value;

/// Asserts a Confluent error answer.
#[track_caller]
pub fn assert_error(answer: &(u16, Value), status: u16, code: u64) {
    assert_eq!(answer.0, status, "unexpected status, body: {}", answer.1);
    assert_eq!(
        answer.1["error_code"].as_u64(),
        Some(code),
        "unexpected error code, body: {}",
        answer.1
    );
    assert!(answer.1["message"].is_string(), "no message: {}", answer.1);
}

/// An Avro record schema named `name` with string fields `fields`, each without default.
pub fn avro_record(name: &str, fields: &[&str]) -> String {
    let fields: Vec<Value> = fields
        .iter()
        .map(|f| serde_json::json!({"name": f, "type": "string"}))
        .collect();
    serde_json::json!({"type": "record", "name": name, "fields": fields}).to_string()
}

/// Sends `method path` with a JSON `body` in Confluent's content type to the server at `base`
/// (`http://host:port`) over a bare connection, so that the path reaches the server as
/// written: URL parsers (reqwest's included) remove `.` and `..` segments, even encoded ones
/// (`%2E%2E`). `authorization` is the header's value, when the server wants one. Returns the
/// status and the body.
pub async fn raw_request(
    base: &str,
    method: &str,
    path: &str,
    body: &str,
    authorization: Option<&str>,
) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let authority = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(authority)
        .await
        .expect("connect to the server");
    let authorization = authorization
        .map(|value| format!("Authorization: {value}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: {}\r\n\
         Content-Length: {}\r\n{authorization}Connection: close\r\n\r\n{body}",
        herald_protocol::CONTENT_TYPE,
        body.len()
    );
    stream
        .write_all(request.as_bytes())
        .await
        .expect("send the request");
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .await
        .expect("read the answer");
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {answer}"));
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    (status, body)
}
