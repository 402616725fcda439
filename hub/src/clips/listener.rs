//! The units' HTTPS listener: TLS with client certificates required (the
//! same configuration as the MQTT front), each handshake on its own task
//! with a deadline so a slow client holds up no one, and every connection
//! tagged with the unit its certificate names.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::connect_info::Connected;
use axum::serve::IncomingStream;
use picket_proto::ids::UnitId;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use crate::front::tls::unit_of;

/// A handshake that takes longer than this is dropped.
pub const HANDSHAKE_DEADLINE: Duration = Duration::from_secs(10);

/// Who is at the other end of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnitPeer {
    /// The client's address.
    pub addr: SocketAddr,
    /// The unit its certificate names.
    pub unit: UnitId,
}

/// A unit's TLS connection.
#[derive(Debug)]
pub struct UnitStream {
    inner: TlsStream<TcpStream>,
    unit: UnitId,
}

impl AsyncRead for UnitStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for UnitStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Accepts units' TLS connections for `axum::serve`.
#[derive(Debug)]
pub struct UnitListener {
    ready: mpsc::Receiver<(UnitStream, SocketAddr)>,
    local: SocketAddr,
}

impl UnitListener {
    /// Listens on `listener` with `tls` (client certificates required).
    pub fn new(listener: TcpListener, tls: Arc<rustls::ServerConfig>) -> std::io::Result<Self> {
        let local = listener.local_addr()?;
        let (tx, ready) = mpsc::channel(64);
        let acceptor = TlsAcceptor::from(tls);
        tokio::spawn(async move {
            loop {
                let (tcp, addr) = match listener.accept().await {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        tracing::warn!(error = %e, "units' HTTPS: accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                if tx.is_closed() {
                    return;
                }
                let _ = tcp.set_nodelay(true);
                let acceptor = acceptor.clone();
                let tx = tx.clone();
                tokio::spawn(async move {
                    let tls = match tokio::time::timeout(HANDSHAKE_DEADLINE, acceptor.accept(tcp))
                        .await
                    {
                        Ok(Ok(tls)) => tls,
                        Ok(Err(e)) => {
                            tracing::info!(%addr, error = %e, "units' HTTPS: TLS handshake refused");
                            return;
                        }
                        Err(_) => {
                            tracing::info!(%addr, "units' HTTPS: no TLS handshake within the deadline");
                            return;
                        }
                    };
                    match unit_of(tls.get_ref().1.peer_certificates()) {
                        Ok(unit) => {
                            let _ = tx.send((UnitStream { inner: tls, unit }, addr)).await;
                        }
                        Err(why) => {
                            tracing::warn!(%addr, why, "units' HTTPS: certificate names no unit; refused");
                        }
                    }
                });
            }
        });
        Ok(UnitListener { ready, local })
    }
}

impl axum::serve::Listener for UnitListener {
    type Io = UnitStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(accepted) => accepted,
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}

impl Connected<IncomingStream<'_, UnitListener>> for UnitPeer {
    fn connect_info(stream: IncomingStream<'_, UnitListener>) -> Self {
        UnitPeer {
            addr: *stream.remote_addr(),
            unit: stream.io().unit,
        }
    }
}
