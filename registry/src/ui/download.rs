//! A schema's download: the text as the registry stores it, as a file named for the subject
//! and version with its format's extension.

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::schema::SchemaType;
use crate::server::{AppState, Error};

use super::Failure;
use super::segments::{VersionPath, encode};

/// The extension and media type of a format's files.
fn file_type(schema_type: SchemaType) -> (&'static str, &'static str) {
    match schema_type {
        SchemaType::Avro => ("avsc", "application/json"),
        SchemaType::Json => ("json", "application/json"),
        SchemaType::Protobuf => ("proto", "text/plain; charset=utf-8"),
    }
}

/// The extension of a format's files (`avsc`, `json`, `proto`).
pub(crate) fn download_extension(schema_type: SchemaType) -> &'static str {
    file_type(schema_type).0
}

/// The `Content-Disposition` of `name`: an ASCII fallback and the exact name (RFC 6266).
fn attachment(name: &str) -> Result<HeaderValue, Failure> {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    HeaderValue::from_str(&format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
        encode(name)
    ))
    .map_err(|err| Error::BadRequest(format!("cannot name the file: {err}")).into())
}

/// `GET /ui/subjects/{subject}/versions/{version}/download` (soft-deleted versions too).
pub(crate) async fn download(
    State(state): State<AppState>,
    VersionPath { subject, version }: VersionPath,
) -> Result<Response, Failure> {
    let row = state.registry().version(&subject, version, true).await?;
    let schema = state.registry().schema_by_id(row.schema_id).await?;
    let (extension, media_type) = file_type(schema.schema_type);
    let name = format!("{subject}-v{}.{extension}", row.version);
    let mut response = schema.text.clone().into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
    headers.insert(header::CONTENT_DISPOSITION, attachment(&name)?);
    Ok(response)
}
