//! `GET /ui/api`: the API's reference, rendered on the server from the registry's own OpenAPI
//! document (the one `GET /openapi.json` serves): the operations by tag with their
//! parameters, bodies and answers, and the schemas they use. No external script or style.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use axum::response::Response;
use maud::{Markup, html};
use serde_json::{Map, Value};

use super::highlight;
use super::layout::{self, page};

/// The methods an operation can have, in the order they are shown.
const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// The document, built on first use.
static DOCUMENT: OnceLock<Value> = OnceLock::new();

/// One operation of the document.
struct Operation<'a> {
    tag: &'a str,
    method: &'a str,
    path: &'a str,
    body: &'a Value,
}

/// The anchor of a component schema.
fn schema_anchor(name: &str) -> String {
    format!("schema-{name}")
}

/// A schema in a line: a link to a component, `array of …`, or its type and format.
fn type_of(schema: &Value) -> Markup {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let name = reference.rsplit('/').next().unwrap_or(reference);
        return html! { a href={"#" (schema_anchor(name))} { code { (name) } } };
    }
    let kind = match schema.get("type") {
        Some(Value::String(kind)) => kind.clone(),
        Some(Value::Array(kinds)) => kinds
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" | "),
        _ if schema.get("oneOf").is_some() || schema.get("anyOf").is_some() => {
            "one of several".to_owned()
        }
        _ => "any".to_owned(),
    };
    html! {
        @if kind == "array" {
            "array of " (type_of(schema.get("items").unwrap_or(&Value::Null)))
        } @else {
            code { (kind) }
            @if let Some(format) = schema.get("format").and_then(Value::as_str) { " (" (format) ")" }
        }
    }
}

/// The media types and schema of a body (`content`).
fn content(body: &Value) -> Markup {
    let media = body.get("content").and_then(Value::as_object);
    html! {
        @if let Some(media) = media {
            @for (name, entry) in media {
                code { (name) } ": " (type_of(entry.get("schema").unwrap_or(&Value::Null))) br;
            }
        }
    }
}

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn operation(op: &Operation<'_>) -> Markup {
    let body = op.body;
    let id = text(body, "operationId");
    let parameters = body
        .get("parameters")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let responses = body.get("responses").and_then(Value::as_object);
    html! {
        section.operation id={"op-" (id)} aria-labelledby={"op-" (id) "-title"} {
            h3 id={"op-" (id) "-title"} {
                span.method { (op.method.to_uppercase()) } " " code { (op.path) }
            }
            @for key in ["summary", "description"] {
                @if !text(body, key).is_empty() { p { (text(body, key)) } }
            }
            @if !parameters.is_empty() {
                div.scroll tabindex="0" role="region" aria-label={"Parameters of " (op.method.to_uppercase()) " " (op.path)} {
                    table {
                        thead { tr { th scope="col" { "Parameter" } th scope="col" { "In" } th scope="col" { "Type" } th scope="col" { "Description" } } }
                        tbody { @for parameter in &parameters {
                            tr {
                                td { code { (text(parameter, "name")) }
                                    @if parameter.get("required").and_then(Value::as_bool) == Some(true) { " (required)" } }
                                td { (text(parameter, "in")) }
                                td { (type_of(parameter.get("schema").unwrap_or(&Value::Null))) }
                                td { (text(parameter, "description")) }
                            }
                        } }
                    }
                }
            }
            @if let Some(request) = body.get("requestBody") {
                h4 { "Request body" }
                p { (content(request)) }
            }
            @if let Some(responses) = responses {
                h4 { "Answers" }
                dl.facts {
                    @for (status, answer) in responses {
                        dt { (status) }
                        dd { (text(answer, "description"))
                            @if answer.get("content").is_some() { br; (content(answer)) } }
                    }
                }
            }
        }
    }
}

/// `GET /ui/api`.
pub(crate) async fn show() -> Response {
    let document = DOCUMENT.get_or_init(crate::http::openapi_document);
    let info = document.get("info").unwrap_or(&Value::Null);
    let empty = Map::new();
    let paths = document
        .get("paths")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let mut operations: Vec<Operation<'_>> = Vec::new();
    for (path, item) in paths {
        for method in METHODS {
            if let Some(body) = item.get(method) {
                let tag = body
                    .pointer("/tags/0")
                    .and_then(Value::as_str)
                    .unwrap_or("other");
                operations.push(Operation {
                    tag,
                    method,
                    path,
                    body,
                });
            }
        }
    }
    operations.sort_by_key(|op| op.tag);
    let tags: Vec<&str> = operations
        .iter()
        .map(|op| op.tag)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let schemas = document
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let main = html! {
        h1 { (text(info, "title")) " API" }
        p { (text(info, "description")) " Version " (text(info, "version")) ". "
            "The document itself: " a href="/openapi.json" { "GET /openapi.json" } "." }
        nav aria-label="Operations" {
            h2 { "Operations" }
            ul.toc {
                @for tag in &tags {
                    li { a href={"#tag-" (tag)} { (tag) } }
                }
                li { a href="#bodies" { "Body schemas" } }
            }
        }
        @for tag in &tags {
            section aria-labelledby={"tag-" (tag)} {
                h2 id={"tag-" (tag)} { (tag) }
                @for op in operations.iter().filter(|op| op.tag == *tag) {
                    (operation(op))
                }
            }
        }
        section aria-labelledby="bodies" {
            h2 #bodies { "Body schemas" }
            @for (index, (name, schema)) in schemas.iter().enumerate() {
                h3 id=(schema_anchor(name)) { (name) }
                @if !text(schema, "description").is_empty() { p { (text(schema, "description")) } }
                @let pretty = serde_json::to_string_pretty(schema).unwrap_or_default();
                pre.code tabindex="0" aria-labelledby=(schema_anchor(name)) {
                    code { (layout::numbered(&highlight::schema("JSON", &pretty), &format!("s{index}-"), &BTreeSet::new())) }
                }
            }
        }
    };
    page(
        "API",
        &[("Subjects", Some("/ui".to_owned())), ("API", None)],
        main,
    )
}
