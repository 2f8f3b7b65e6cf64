//! The baseline of the load benchmark (`benches/load.sh`): a bare axum handler that answers
//! `GET /schemas/ids/{id}` with fixed bytes and Confluent's content type, with none of the
//! registry's work (no cache lookup, metrics, authentication or negotiation).
//!
//! Given a certificate and key it serves HTTPS with the configuration and listener of
//! `herald serve --tls-cert --tls-key` (rustls with ring, handshakes on tasks of their own),
//! so that the HTTPS ratio measures the registry's work and not a different TLS setup.
//!
//! ```text
//! cargo run --release --example bare_axum -- 127.0.0.1:18090 body.json [cert.pem key.pem]
//! ```

use std::net::SocketAddr;
use std::process::ExitCode;

use axum::Router;
use axum::body::Bytes;
use axum::http::header;
use axum::routing::get;
use herald_registry::server::tls::{TlsFiles, TlsListener};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(address), Some(body_path)) = (args.next(), args.next()) else {
        eprintln!("usage: bare_axum ADDRESS BODY_FILE [CERT_FILE KEY_FILE]");
        return ExitCode::from(2);
    };
    let address: SocketAddr = match address.parse() {
        Ok(address) => address,
        Err(err) => {
            eprintln!("bare_axum: bad address {address}: {err}");
            return ExitCode::from(2);
        }
    };
    let tls = match (args.next(), args.next()) {
        (Some(cert), Some(key)) => Some(TlsFiles {
            cert: cert.into(),
            key: key.into(),
            client_ca: None,
        }),
        (None, None) => None,
        _ => {
            eprintln!("bare_axum: give both CERT_FILE and KEY_FILE, or neither");
            return ExitCode::from(2);
        }
    };
    let body = match std::fs::read(&body_path) {
        Ok(body) => Bytes::from(body),
        Err(err) => {
            eprintln!("bare_axum: cannot read {body_path}: {err}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("bare_axum: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        let app = Router::new().route(
            "/schemas/ids/{id}",
            get(move || {
                let body = body.clone();
                async move {
                    (
                        [(header::CONTENT_TYPE, herald_registry::http::CONTENT_TYPE)],
                        body,
                    )
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind(address).await?;
        let shutdown = herald_registry::server::shutdown_signal();
        match tls {
            Some(files) => {
                let listener = TlsListener::new(listener, files).map_err(std::io::Error::other)?;
                eprintln!("bare_axum listening on https://{address}");
                axum::serve(listener, app)
                    .with_graceful_shutdown(shutdown)
                    .await
            }
            None => {
                eprintln!("bare_axum listening on http://{address}");
                axum::serve(listener, app)
                    .with_graceful_shutdown(shutdown)
                    .await
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("bare_axum: {err}");
            ExitCode::FAILURE
        }
    }
}
