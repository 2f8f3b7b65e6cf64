//! The TLS listener: handshakes on tasks of their own, each bounded by [`HANDSHAKE_TIMEOUT`],
//! so a slow or silent client never holds up the others; a failed handshake (a plain-HTTP
//! request on the HTTPS port, a client that does not trust the certificate, a client
//! without an acceptable certificate under mutual TLS) is logged and dropped.
//!
//! The configuration is reloaded from the [`TlsFiles`] on SIGHUP and when one of the files
//! changes (polled every [`RELOAD_POLL`]). A reload only affects handshakes that start
//! after it: open connections keep the certificate they were made with.

use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, SystemTime};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use super::{TlsError, TlsFiles};

/// How long a client may take to complete its handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How often the certificate, key and client CA files are checked for changes.
pub const RELOAD_POLL: Duration = Duration::from_secs(1);

/// A listener that hands the server TLS streams whose handshake completed.
#[derive(Debug)]
pub struct TlsListener {
    local: SocketAddr,
    verifies_clients: bool,
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
}

impl TlsListener {
    /// Accepts TCP connections on `listener` and completes their handshakes, in the
    /// background, with the configuration `files` describe, reloaded when they change.
    /// Fails when the files do not load now.
    pub fn new(listener: TcpListener, files: TlsFiles) -> Result<Self, TlsError> {
        let local = listener.local_addr().map_err(TlsError::Listen)?;
        let verifies_clients = files.client_ca.is_some();
        let (current, acceptor) = watch::channel(TlsAcceptor::from(files.server_config()?));
        tokio::spawn(reload(files, current));
        let (handed, ready) = mpsc::channel(64);
        tokio::spawn(async move {
            while !handed.is_closed() {
                let (tcp, peer) = match listener.accept().await {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        // Out of file descriptors and the like: wait instead of spinning.
                        tracing::warn!(%error, "accepting a connection failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let (acceptor, handed) = (acceptor.borrow().clone(), handed.clone());
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                        Ok(Ok(stream)) => {
                            // The server stopped accepting: the stream is simply dropped.
                            let _ = handed.send((stream, peer)).await;
                        }
                        Ok(Err(error)) => tracing::info!(%peer, %error, "TLS handshake failed"),
                        Err(_) => tracing::info!(%peer, "TLS handshake timed out"),
                    }
                });
            }
        });
        Ok(TlsListener {
            local,
            verifies_clients,
            ready,
        })
    }

    /// Whether clients must present a certificate the client CA bundle verifies (mutual
    /// TLS), so that requests carry their connection's [`Peer`](super::Peer).
    pub fn verifies_clients(&self) -> bool {
        self.verifies_clients
    }
}

/// When each file was last changed, and its size (a rewrite within the clock's resolution
/// usually changes the size).
fn stamps(files: &TlsFiles) -> Vec<Option<(SystemTime, u64)>> {
    let stamp = |path: &Path| {
        let metadata = std::fs::metadata(path).ok()?;
        Some((metadata.modified().ok()?, metadata.len()))
    };
    files.paths().map(stamp).collect()
}

/// Replaces the acceptor in `current` on SIGHUP and when a file changes, until the listener
/// is gone.
async fn reload(files: TlsFiles, current: watch::Sender<TlsAcceptor>) {
    let mut hangup = hangups();
    let mut seen = stamps(&files);
    let mut poll = tokio::time::interval(RELOAD_POLL);
    while !current.is_closed() {
        let cause = tokio::select! {
            Some(()) = hangup.recv() => "SIGHUP",
            _ = poll.tick() => {
                let now = stamps(&files);
                if now == seen {
                    continue;
                }
                seen = now;
                "a file changed"
            }
        };
        match files.server_config() {
            Ok(config) => {
                current.send_replace(TlsAcceptor::from(config));
                tracing::info!(cause, cert = %files.cert.display(), "TLS configuration reloaded");
            }
            Err(error) => tracing::error!(
                cause,
                %error,
                "TLS configuration not reloaded; the previous one stays in use"
            ),
        }
    }
}

/// A channel that receives `()` on every SIGHUP; on platforms without it, never.
fn hangups() -> mpsc::Receiver<()> {
    let (sender, receiver) = mpsc::channel(1);
    #[cfg(unix)]
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
        Ok(mut signal) => {
            tokio::spawn(async move {
                while signal.recv().await.is_some() {
                    if sender.send(()).await.is_err() {
                        break;
                    }
                }
            });
        }
        Err(error) => {
            tracing::warn!(%error, "no SIGHUP handler: certificates reload on file changes only");
            drop(sender);
        }
    }
    #[cfg(not(unix))]
    drop(sender);
    receiver
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(accepted) => accepted,
            // The accepting task only ends once this listener is gone.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(self.local)
    }
}
