//! `herald serve`: run the registry until SIGTERM or SIGINT.

use std::io::IsTerminal;
use std::process::ExitCode;

use herald_registry::server;
use herald_registry::server::ServeOptions;
use herald_registry::server::tls::{TlsFiles, TlsListener};
use herald_registry::storage::notifications::{ChangeListener, Notice};
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

pub(crate) fn run(options: ServeOptions) -> ExitCode {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("herald serve: cannot start the runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("herald serve: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(options: ServeOptions) -> Result<(), server::StartError> {
    let state = server::connect(&options).await?;
    let backend = state.store().backend();
    tracing::info!("migrations applied ({backend})");
    if backend == "postgres" {
        // Other processes may delete on this database: follow their changes. What was
        // cached before listening may be stale already.
        let changes = ChangeListener::connect(&options.database_url).await?;
        state.registry().cache().apply(Notice::Listening);
        let follower = state.clone();
        tokio::spawn(changes.run(move |notice| follower.registry().cache().apply(notice)));
        tracing::info!("listening for changes by other processes");
    }
    let listener = TcpListener::bind(options.listen).await?;
    let address = listener.local_addr()?;
    let tls = TlsFiles::from_options(
        options.tls_cert.as_deref(),
        options.tls_key.as_deref(),
        options.tls_client_ca.as_deref(),
    )?;
    match tls {
        Some(files) => {
            let mutual = if files.client_ca.is_some() {
                ", client certificates required"
            } else {
                ""
            };
            let listener = TlsListener::new(listener, files)?;
            tracing::info!("listening on https://{address} (backend: {backend}{mutual})");
            server::serve_tls(listener, state, server::shutdown_signal()).await?;
        }
        None => {
            tracing::info!("listening on http://{address} (backend: {backend})");
            server::serve(listener, state, server::shutdown_signal()).await?;
        }
    }
    tracing::info!("stopped");
    Ok(())
}
