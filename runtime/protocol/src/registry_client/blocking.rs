//! The [`RegistryClient`](super::RegistryClient) for code that does not run in an async
//! runtime (the `herald` command-line tool): each call runs the async client's on a
//! current-thread runtime of its own.

use std::time::Duration;

use super::{
    Compatibility, RegistryError, SchemaType, SubjectConfig, SubjectVersion, VersionSchema,
};

/// Why a blocking client could not be made.
#[derive(Debug, thiserror::Error)]
pub enum BlockingError {
    /// The client could not be made (an invalid URL, ...).
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The runtime that runs its requests could not start.
    #[error("cannot start the registry client's runtime: {0}")]
    Runtime(#[source] std::io::Error),
}

/// A blocking client of one registry: the async client and a runtime to run it on. Do not
/// call it from inside an async runtime.
#[derive(Debug)]
pub struct RegistryClient {
    client: super::RegistryClient,
    runtime: tokio::runtime::Runtime,
}

impl RegistryClient {
    /// A client of the registry at `base_url`, with a `timeout` per request.
    pub fn new(base_url: impl Into<String>, timeout: Duration) -> Result<Self, BlockingError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(BlockingError::Runtime)?;
        Ok(RegistryClient {
            client: super::RegistryClient::with_timeout(base_url, timeout)?,
            runtime,
        })
    }

    /// [`super::RegistryClient::with_ca_certificate`].
    pub fn with_ca_certificate(self, pem: &[u8]) -> Result<Self, RegistryError> {
        Ok(RegistryClient {
            client: self.client.with_ca_certificate(pem)?,
            runtime: self.runtime,
        })
    }

    /// [`super::RegistryClient::with_client_certificate`].
    pub fn with_client_certificate(self, cert: &[u8], key: &[u8]) -> Result<Self, RegistryError> {
        Ok(RegistryClient {
            client: self.client.with_client_certificate(cert, key)?,
            runtime: self.runtime,
        })
    }

    /// The async client it runs.
    pub fn client(&self) -> &super::RegistryClient {
        &self.client
    }

    /// Runs one future of the async client to completion.
    pub fn block_on<T>(&self, future: impl Future<Output = T>) -> T {
        self.runtime.block_on(future)
    }

    /// [`super::RegistryClient::lookup`].
    pub fn lookup(
        &self,
        subject: &str,
        schema_type: SchemaType,
        schema: &str,
        properties: &[(&str, &str)],
    ) -> Result<Option<SubjectVersion>, RegistryError> {
        self.block_on(self.client.lookup(subject, schema_type, schema, properties))
    }

    /// [`super::RegistryClient::test_compatibility`].
    pub fn test_compatibility(
        &self,
        subject: &str,
        schema_type: SchemaType,
        schema: &str,
        properties: &[(&str, &str)],
    ) -> Result<Compatibility, RegistryError> {
        self.block_on(
            self.client
                .test_compatibility(subject, schema_type, schema, properties),
        )
    }

    /// [`super::RegistryClient::subject_config`].
    pub fn subject_config(&self, subject: &str) -> Result<SubjectConfig, RegistryError> {
        self.block_on(self.client.subject_config(subject))
    }

    /// [`super::RegistryClient::version`].
    pub fn version(&self, subject: &str, version: &str) -> Result<VersionSchema, RegistryError> {
        self.block_on(self.client.version(subject, version))
    }
}
