//! `/dek-registry/v1/keks/{name}/deks...`: data encryption keys, per KEK, subject,
//! algorithm and version.

use axum::extract::State;
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::body::{Body, Params, Segments, reply};
use crate::server::{AppState, Error, Principal};
use crate::service::check_subject;
use crate::service::keys::{self, DekVersion, KeyError, NewDek};

use super::wire::{CreateDekRequest, Dek};
use super::{
    AlgorithmQuery, CreateErrors, DekError, DekErrors, DekPath, DekVersionPath, DeleteErrors,
    KekPath, MAX_LISTING, algorithm, no_content,
};

/// The DEK routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_subjects, create_dek_in_body))
        .routes(routes!(get_dek, create_dek, delete_deks))
        .routes(routes!(list_versions))
        .routes(routes!(get_version, delete_version))
        .routes(routes!(undelete_version))
        .routes(routes!(undelete_deks))
}

/// Refuses an invalid subject as the rest of the API does (42208).
fn subject_ok(subject: &str) -> Result<(), DekError> {
    check_subject(subject).map_err(|err| DekError::Http(Error::from(err)))
}

/// Creates a DEK from a request and the subject it is for.
async fn create(
    state: &AppState,
    principal: &Principal,
    kek_name: String,
    subject: String,
    request: CreateDekRequest,
) -> Result<Response, DekError> {
    subject_ok(&subject)?;
    let algorithm = match request.algorithm.as_deref() {
        None => Default::default(),
        Some(text) => text.parse().map_err(|_| KeyError::Invalid("algorithm"))?,
    };
    let new = NewDek {
        kek_name,
        subject,
        version: request.version,
        algorithm,
        encrypted_key_material: request.encrypted_key_material,
    };
    let answer = keys::create_dek(state.store(), new, &principal.name).await?;
    Ok(reply(&Dek::from(answer))?)
}

#[utoipa::path(
    get,
    path = "/dek-registry/v1/keks/{name}/deks",
    tag = "dek-registry",
    params(
        KekPath,
        ("deleted" = Option<bool>, Query, description = "Include soft-deleted DEKs"),
        ("offset" = Option<i32>, Query, description = "How many to skip"),
        ("limit" = Option<i32>, Query, description = "How many at most"),
    ),
    responses(
        (status = 200, description = "Subjects with DEKs under the KEK, sorted", body = Vec<String>),
        DekErrors,
    ),
)]
async fn list_subjects(
    State(state): State<AppState>,
    Segments(KekPath { name }): Segments<KekPath>,
    params: Params,
) -> Result<Response, DekError> {
    let page = params.page(MAX_LISTING)?;
    let subjects = keys::dek_subjects(state.store(), &name, params.flag("deleted")).await?;
    Ok(reply(&page.of(subjects))?)
}

#[utoipa::path(
    post,
    path = "/dek-registry/v1/keks/{name}/deks",
    tag = "dek-registry",
    params(KekPath),
    request_body = CreateDekRequest,
    responses(
        (status = 200, description = "The DEK (deprecated: the subject in the path is preferred)", body = Dek),
        CreateErrors,
    ),
)]
async fn create_dek_in_body(
    State(state): State<AppState>,
    principal: Principal,
    Segments(KekPath { name }): Segments<KekPath>,
    Body(mut request): Body<CreateDekRequest>,
) -> Result<Response, DekError> {
    let subject = request.subject.take().ok_or(KeyError::Invalid("subject"))?;
    create(&state, &principal, name, subject, request).await
}

#[utoipa::path(
    post,
    path = "/dek-registry/v1/keks/{name}/deks/{subject}",
    tag = "dek-registry",
    params(
        DekPath,
        ("rewrap" = Option<bool>, Query, description = "Accepted for Confluent's clients; Herald does not rewrap"),
    ),
    request_body = CreateDekRequest,
    responses(
        (status = 200, description = "The DEK, with its raw material for a shared KEK", body = Dek),
        CreateErrors,
    ),
)]
async fn create_dek(
    State(state): State<AppState>,
    principal: Principal,
    Segments(DekPath { name, subject }): Segments<DekPath>,
    Body(request): Body<CreateDekRequest>,
) -> Result<Response, DekError> {
    create(&state, &principal, name, subject, request).await
}

#[utoipa::path(
    get,
    path = "/dek-registry/v1/keks/{name}/deks/{subject}",
    tag = "dek-registry",
    params(
        DekPath,
        AlgorithmQuery,
        ("deleted" = Option<bool>, Query, description = "Answer a soft-deleted DEK too"),
    ),
    responses(
        (status = 200, description = "Version 1 of the DEK", body = Dek),
        DekErrors,
    ),
)]
async fn get_dek(
    State(state): State<AppState>,
    Segments(DekPath { name, subject }): Segments<DekPath>,
    params: Params,
) -> Result<Response, DekError> {
    subject_ok(&subject)?;
    let algorithm = algorithm(&params)?;
    let deleted = params.flag("deleted");
    let version = DekVersion::Number(1);
    let answer = keys::dek(state.store(), &name, &subject, version, algorithm, deleted).await?;
    Ok(reply(&Dek::from(answer))?)
}

#[utoipa::path(
    delete,
    path = "/dek-registry/v1/keks/{name}/deks/{subject}",
    tag = "dek-registry",
    params(
        DekPath,
        AlgorithmQuery,
        ("permanent" = Option<bool>, Query, description = "Remove soft-deleted versions for good"),
    ),
    responses(
        (status = 204, description = "Every version deleted"),
        DeleteErrors,
    ),
)]
async fn delete_deks(
    State(state): State<AppState>,
    principal: Principal,
    Segments(DekPath { name, subject }): Segments<DekPath>,
    params: Params,
) -> Result<Response, DekError> {
    subject_ok(&subject)?;
    let algorithm = algorithm(&params)?;
    let permanent = params.flag("permanent");
    let store = state.store();
    keys::delete_deks(
        store,
        &name,
        &subject,
        algorithm,
        None,
        permanent,
        &principal.name,
    )
    .await?;
    Ok(no_content())
}

#[utoipa::path(
    get,
    path = "/dek-registry/v1/keks/{name}/deks/{subject}/versions",
    tag = "dek-registry",
    params(
        DekPath,
        AlgorithmQuery,
        ("deleted" = Option<bool>, Query, description = "Include soft-deleted versions"),
        ("offset" = Option<i32>, Query, description = "How many to skip"),
        ("limit" = Option<i32>, Query, description = "How many at most"),
    ),
    responses(
        (status = 200, description = "The DEK's versions, oldest first", body = Vec<i32>),
        DekErrors,
    ),
)]
async fn list_versions(
    State(state): State<AppState>,
    Segments(DekPath { name, subject }): Segments<DekPath>,
    params: Params,
) -> Result<Response, DekError> {
    subject_ok(&subject)?;
    let algorithm = algorithm(&params)?;
    let page = params.page(MAX_LISTING)?;
    let deleted = params.flag("deleted");
    let versions = keys::dek_versions(state.store(), &name, &subject, algorithm, deleted).await?;
    Ok(reply(&page.of(versions))?)
}

#[utoipa::path(
    get,
    path = "/dek-registry/v1/keks/{name}/deks/{subject}/versions/{version}",
    tag = "dek-registry",
    params(
        DekVersionPath,
        AlgorithmQuery,
        ("deleted" = Option<bool>, Query, description = "Answer a soft-deleted DEK too"),
    ),
    responses(
        (status = 200, description = "The DEK, with its raw material for a shared KEK", body = Dek),
        DekErrors,
    ),
)]
async fn get_version(
    State(state): State<AppState>,
    Segments(path): Segments<DekVersionPath>,
    params: Params,
) -> Result<Response, DekError> {
    subject_ok(&path.subject)?;
    let version = DekVersion::parse(&path.version)?;
    let algorithm = algorithm(&params)?;
    let deleted = params.flag("deleted");
    let store = state.store();
    let answer = keys::dek(
        store,
        &path.name,
        &path.subject,
        version,
        algorithm,
        deleted,
    )
    .await?;
    Ok(reply(&Dek::from(answer))?)
}

#[utoipa::path(
    delete,
    path = "/dek-registry/v1/keks/{name}/deks/{subject}/versions/{version}",
    tag = "dek-registry",
    params(
        DekVersionPath,
        AlgorithmQuery,
        ("permanent" = Option<bool>, Query, description = "Remove a soft-deleted version for good"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        DeleteErrors,
    ),
)]
async fn delete_version(
    State(state): State<AppState>,
    principal: Principal,
    Segments(path): Segments<DekVersionPath>,
    params: Params,
) -> Result<Response, DekError> {
    subject_ok(&path.subject)?;
    let version = DekVersion::parse(&path.version)?;
    let algorithm = algorithm(&params)?;
    let permanent = params.flag("permanent");
    keys::delete_deks(
        state.store(),
        &path.name,
        &path.subject,
        algorithm,
        Some(version),
        permanent,
        &principal.name,
    )
    .await?;
    Ok(no_content())
}

#[utoipa::path(
    post,
    path = "/dek-registry/v1/keks/{name}/deks/{subject}/versions/{version}/undelete",
    tag = "dek-registry",
    params(
        DekVersionPath,
        AlgorithmQuery,
    ),
    responses(
        (status = 204, description = "Restored"),
        DeleteErrors,
    ),
)]
async fn undelete_version(
    State(state): State<AppState>,
    principal: Principal,
    Segments(path): Segments<DekVersionPath>,
    params: Params,
) -> Result<Response, DekError> {
    subject_ok(&path.subject)?;
    let version = DekVersion::parse(&path.version)?;
    let algorithm = algorithm(&params)?;
    keys::undelete_deks(
        state.store(),
        &path.name,
        &path.subject,
        algorithm,
        Some(version),
        &principal.name,
    )
    .await?;
    Ok(no_content())
}

#[utoipa::path(
    post,
    path = "/dek-registry/v1/keks/{name}/deks/{subject}/undelete",
    tag = "dek-registry",
    params(
        DekPath,
        AlgorithmQuery,
    ),
    responses(
        (status = 204, description = "Every version restored"),
        DeleteErrors,
    ),
)]
async fn undelete_deks(
    State(state): State<AppState>,
    principal: Principal,
    Segments(DekPath { name, subject }): Segments<DekPath>,
    params: Params,
) -> Result<Response, DekError> {
    subject_ok(&subject)?;
    let algorithm = algorithm(&params)?;
    let store = state.store();
    keys::undelete_deks(store, &name, &subject, algorithm, None, &principal.name).await?;
    Ok(no_content())
}
