//! `GET /openapi.json`: the OpenAPI 3.1 document of the API.
//!
//! The document comes from the handlers' `#[utoipa::path]` annotations, collected by the same
//! `utoipa_axum::routes!` calls that register them in the router ([`super::api`]), so a route
//! cannot be served without being described. This module adds what the layers around the
//! handlers answer (authentication, content negotiation, the body limit, the store), renders
//! the document once and serves those bytes.

use std::sync::OnceLock;

use axum::body::Bytes;
use axum::response::Response;
use serde_json::{Map, Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::body::{CONTENT_TYPE, json_bytes};
use crate::server::{AppState, Error};

/// The documentation route.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(openapi_json))
}

/// The media types a JSON request body is declared with (the server reads others too).
const REQUEST_TYPES: [&str; 2] = [CONTENT_TYPE, "application/json"];

/// The answers the layers around every handler can give, with the error body.
const COMMON: [(&str, &str); 5] = [
    ("400", "The query string or body is not readable"),
    ("401", "Authentication is required and missing or wrong"),
    ("403", "The credentials' role may not do this"),
    ("406", "The Accept header allows none of the answer types"),
    ("500", "The backend data store failed (50001)"),
];

/// What a request with a body can also be answered.
const WITH_BODY: [(&str, &str); 2] = [
    ("413", "The body is over the configured limit"),
    (
        "415",
        "The body's content type or charset is not one the API reads",
    ),
];

/// The finished document, as JSON: the generated one, with the answers of the layers added
/// to every operation and JSON content declared with Confluent's media types.
pub fn document(generated: utoipa::openapi::OpenApi) -> Value {
    let mut doc = serde_json::to_value(&generated).unwrap_or_else(|_| json!({}));
    doc["info"] = json!({
        "title": "Herald schema registry",
        "description": "Confluent Schema Registry's REST API, as Herald serves it.",
        "version": env!("CARGO_PKG_VERSION"),
    });
    let error = json!({ "$ref": "#/components/schemas/ErrorBody" });
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, item) in paths.iter_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for (method, operation) in item.iter_mut() {
                // Handlers of different resources share names (`get_global`): the id is
                // the method and path instead.
                let id: String = format!("{method}{path}")
                    .chars()
                    .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                    .collect();
                operation["operationId"] = json!(id.trim_end_matches('_'));
                complete(operation, &error);
            }
        }
    }
    doc
}

/// Adds the layers' answers to an operation and declares its JSON content types.
fn complete(operation: &mut Value, error: &Value) {
    let has_body = operation.get("requestBody").is_some();
    if let Some(body) = operation.pointer_mut("/requestBody/content")
        && let Some(content) = body.as_object_mut()
        && let Some(schema) = content.remove("application/json")
    {
        for media in REQUEST_TYPES {
            content.insert(media.to_owned(), schema.clone());
        }
    }
    let Some(responses) = operation
        .get_mut("responses")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    for response in responses.values_mut() {
        if let Some(content) = response.get_mut("content").and_then(Value::as_object_mut)
            && let Some(schema) = content.remove("application/json")
        {
            content.insert(CONTENT_TYPE.to_owned(), schema);
        }
    }
    let mut extra: Vec<(&str, &str)> = COMMON.to_vec();
    if has_body {
        extra.extend(WITH_BODY);
    }
    for (status, description) in extra {
        responses.entry(status).or_insert_with(|| {
            let mut content = Map::new();
            content.insert(CONTENT_TYPE.to_owned(), json!({ "schema": error }));
            json!({ "description": description, "content": content })
        });
    }
}

/// The rendered document, built on first use.
static RENDERED: OnceLock<Bytes> = OnceLock::new();

/// `GET /openapi.json`.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "documentation",
    responses((status = 200, description = "This document", body = Object)),
)]
async fn openapi_json() -> Result<Response, Error> {
    let bytes = RENDERED.get_or_init(|| {
        let doc = document(super::api().into_openapi());
        Bytes::from(serde_json::to_vec(&doc).unwrap_or_default())
    });
    Ok(json_bytes(bytes.clone()))
}
