//! `/dek-registry/v1/keks...`: key encryption keys.

use axum::extract::State;
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::body::{Body, Params, Segments, reply};
use crate::server::{AppState, ErrorBody, Principal};
use crate::service::keys::{self, KeyError};
use crate::storage::{KekSpec, KekUpdate};

use super::wire::{CreateKekRequest, Kek, UpdateKekRequest};
use super::{CreateErrors, DekError, DeleteErrors, KekErrors, KekPath, MAX_LISTING, no_content};

/// The KEK routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_keks, create_kek))
        .routes(routes!(get_kek, put_kek, delete_kek))
        .routes(routes!(undelete_kek))
        .routes(routes!(test_kek))
}

#[utoipa::path(
    get,
    path = "/dek-registry/v1/keks",
    tag = "dek-registry",
    params(
        ("subjectPrefix" = Option<String>, Query, description = "Only KEKs with a DEK of a subject starting with this"),
        ("deleted" = Option<bool>, Query, description = "Include soft-deleted KEKs"),
        ("offset" = Option<i32>, Query, description = "How many to skip"),
        ("limit" = Option<i32>, Query, description = "How many at most"),
    ),
    responses(
        (status = 200, description = "KEK names, sorted", body = Vec<String>),
        (status = 404, description = "offset or limit not a 32-bit integer", body = ErrorBody),
    ),
)]
async fn list_keks(State(state): State<AppState>, params: Params) -> Result<Response, DekError> {
    let page = params.page(MAX_LISTING)?;
    let names = keys::kek_names(
        state.store(),
        params.get("subjectPrefix"),
        params.flag("deleted"),
    )
    .await?;
    Ok(reply(&page.of(names))?)
}

#[utoipa::path(
    post,
    path = "/dek-registry/v1/keks",
    tag = "dek-registry",
    params(
        ("testSharing" = Option<bool>, Query, description = "Check that the registry can use a shared KEK first"),
    ),
    request_body = CreateKekRequest,
    responses(
        (status = 200, description = "The KEK", body = Kek),
        CreateErrors,
    ),
)]
async fn create_kek(
    State(state): State<AppState>,
    principal: Principal,
    params: Params,
    Body(request): Body<CreateKekRequest>,
) -> Result<Response, DekError> {
    let spec = KekSpec {
        name: request.name.ok_or(KeyError::Invalid("name"))?,
        kms_type: request.kms_type.ok_or(KeyError::Invalid("kmsType"))?,
        kms_key_id: request.kms_key_id.ok_or(KeyError::Invalid("kmsKeyId"))?,
        kms_props: request.kms_props.unwrap_or_default(),
        doc: request.doc,
        shared: request.shared.unwrap_or(false),
    };
    let test = params.flag("testSharing");
    let kek = keys::create_kek(state.store(), spec, test, &principal.name).await?;
    Ok(reply(&Kek::from(kek))?)
}

#[utoipa::path(
    get,
    path = "/dek-registry/v1/keks/{name}",
    tag = "dek-registry",
    params(
        KekPath,
        ("deleted" = Option<bool>, Query, description = "Answer a soft-deleted KEK too"),
    ),
    responses(
        (status = 200, description = "The KEK", body = Kek),
        KekErrors,
    ),
)]
async fn get_kek(
    State(state): State<AppState>,
    Segments(KekPath { name }): Segments<KekPath>,
    params: Params,
) -> Result<Response, DekError> {
    let kek = keys::kek(state.store(), &name, params.flag("deleted")).await?;
    Ok(reply(&Kek::from(kek))?)
}

#[utoipa::path(
    put,
    path = "/dek-registry/v1/keks/{name}",
    tag = "dek-registry",
    params(
        KekPath,
        ("testSharing" = Option<bool>, Query, description = "Check that the registry can use the KEK when shared"),
    ),
    request_body = UpdateKekRequest,
    responses(
        (status = 200, description = "The KEK as changed", body = Kek),
        KekErrors,
    ),
)]
async fn put_kek(
    State(state): State<AppState>,
    principal: Principal,
    Segments(KekPath { name }): Segments<KekPath>,
    params: Params,
    Body(request): Body<UpdateKekRequest>,
) -> Result<Response, DekError> {
    let update = KekUpdate::from(request);
    let test = params.flag("testSharing");
    let kek = keys::update_kek(state.store(), &name, &update, test, &principal.name).await?;
    Ok(reply(&Kek::from(kek))?)
}

#[utoipa::path(
    delete,
    path = "/dek-registry/v1/keks/{name}",
    tag = "dek-registry",
    params(
        KekPath,
        ("permanent" = Option<bool>, Query, description = "Remove a soft-deleted KEK for good"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        DeleteErrors,
    ),
)]
async fn delete_kek(
    State(state): State<AppState>,
    principal: Principal,
    Segments(KekPath { name }): Segments<KekPath>,
    params: Params,
) -> Result<Response, DekError> {
    let permanent = params.flag("permanent");
    keys::delete_kek(state.store(), &name, permanent, &principal.name).await?;
    Ok(no_content())
}

#[utoipa::path(
    post,
    path = "/dek-registry/v1/keks/{name}/undelete",
    tag = "dek-registry",
    params(KekPath),
    responses(
        (status = 204, description = "Restored"),
        KekErrors,
    ),
)]
async fn undelete_kek(
    State(state): State<AppState>,
    principal: Principal,
    Segments(KekPath { name }): Segments<KekPath>,
) -> Result<Response, DekError> {
    keys::undelete_kek(state.store(), &name, &principal.name).await?;
    Ok(no_content())
}

#[utoipa::path(
    post,
    path = "/dek-registry/v1/keks/{name}/test",
    tag = "dek-registry",
    params(KekPath),
    responses(
        (status = 200, description = "The KEK, which the registry can use", body = Kek),
        (status = 404, description = "No such KEK (40470)", body = ErrorBody),
        (status = 422, description = "Invalid name, a KEK that is not shared, or one of a KMS the registry cannot reach (42271)", body = ErrorBody),
        (status = 500, description = "The registry has no local KMS secret (50070)", body = ErrorBody),
    ),
)]
async fn test_kek(
    State(state): State<AppState>,
    Segments(KekPath { name }): Segments<KekPath>,
) -> Result<Response, DekError> {
    let kek = keys::test_kek(state.store(), &name).await?;
    Ok(reply(&Kek::from(kek))?)
}
