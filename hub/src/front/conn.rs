//! One unit connection: rustls' unbuffered server connection over a tokio
//! `TcpStream`, MQTT packets to and from the unit's session.
//!
//! Memory is what makes this module: an idle connection holds its rustls
//! state (keys, the unit's certificate), the socket registration and this
//! task, and no buffer. Reads go into a per-thread scratch buffer; only the
//! bytes of an incomplete TLS record or MQTT packet are kept, and every
//! buffer is released once it is empty.

use std::cell::RefCell;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use picket_mqtt::codec::{self, ConnectReturn, Packet, encode_connack};
use picket_mqtt::session::{Action, Refusal, UpMessage};
use picket_proto::ids::UnitId;
use rustls::server::UnbufferedServerConnection;
use rustls::unbuffered::{ConnectionState, EncodeError, EncryptError, UnbufferedStatus};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::Instant;

use super::{CONNECT_TIMEOUT, Shared, Slot, tls};

/// The most one read takes from the socket: a whole TLS record (16 KiB of
/// plaintext plus the largest expansion) and its header.
const READ_CHUNK: usize = 16 * 1024 + 2048 + 5;
/// How long a write may block before the unit is considered gone.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// Keep-alive when a unit asks for none (MQTT's 0): the hub still wants to
/// notice a unit that vanished.
const MAX_SILENCE: Duration = Duration::from_secs(600);

thread_local! {
    static SCRATCH: RefCell<Vec<u8>> = RefCell::new(vec![0; READ_CHUNK]);
}

/// Why a connection ended.
#[derive(Debug)]
enum End {
    /// The unit sent DISCONNECT.
    Disconnect,
    /// The socket closed or failed.
    Gone(String),
    /// Nothing heard within 1.5 × keep-alive (or no CONNECT in time).
    Silent,
    /// TLS failed (handshake refused, bad record).
    Tls(rustls::Error),
    /// The unit broke the rules; logged as a refusal.
    Refused(String),
    /// Another connection of the same unit took over.
    TakenOver,
    /// The hub is stopping.
    Shutdown,
}

/// The unit's session once CONNECT was accepted.
struct Attached {
    slot: Arc<Slot>,
    link: u64,
    unit: UnitId,
}

struct Conn<'s> {
    shared: &'s Shared,
    stream: TcpStream,
    peer: SocketAddr,
    tls: UnbufferedServerConnection,
    /// TLS bytes received and not yet processed.
    incoming: Vec<u8>,
    /// Decrypted MQTT bytes not yet a whole packet.
    plain: Vec<u8>,
    /// MQTT bytes to send.
    out: Vec<u8>,
    /// TLS bytes to write.
    tls_out: Vec<u8>,
    /// The unit the certificate names, or why it names none.
    identity: Option<Result<UnitId, String>>,
    attached: Option<Attached>,
    /// CONNECT, then the keep-alive, must come before this.
    deadline: Instant,
    keep_alive: Duration,
    /// Set when the connection must close once `out` is sent.
    closing: Option<End>,
}

/// Serves one accepted connection until it ends.
pub(super) async fn serve(
    shared: &Shared,
    stream: TcpStream,
    peer: SocketAddr,
    shutdown: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let tls = match UnbufferedServerConnection::new(shared.tls.clone()) {
        Ok(tls) => tls,
        Err(e) => {
            tracing::error!(%peer, error = %e, "cannot start TLS for a unit connection");
            return;
        }
    };
    let mut conn = Conn {
        shared,
        stream,
        peer,
        tls,
        incoming: Vec::new(),
        plain: Vec::new(),
        out: Vec::new(),
        tls_out: Vec::new(),
        identity: None,
        attached: None,
        deadline: Instant::now() + CONNECT_TIMEOUT,
        keep_alive: MAX_SILENCE,
        closing: None,
    };
    let end = match conn.run(shutdown).await {
        Ok(()) => conn.closing.take().unwrap_or(End::Shutdown),
        Err(end) => end,
    };
    Box::pin(conn.finish(end)).await;
}

impl Conn<'_> {
    async fn run(&mut self, mut shutdown: watch::Receiver<bool>) -> Result<(), End> {
        loop {
            // The TLS and packet work is boxed while it runs, so the task
            // (parked in the select below almost all the time) does not
            // reserve room for those futures' states.
            Box::pin(self.pump()).await?;
            if self.closing.is_some() {
                return Ok(());
            }
            if self.identity.is_none() && self.tls.peer_certificates().is_some() {
                self.identity = Some(tls::unit_of(self.tls.peer_certificates()));
            }
            if Box::pin(self.handle_packets()).await? {
                // Something to send: encrypt and write it first.
                continue;
            }
            // Wait for the socket, the hub, the deadline or shutdown. The
            // wake-up is armed before the session is checked, so a message
            // queued in between is not missed.
            let slot = self.attached.as_ref().map(|a| a.slot.clone());
            let mut wake = pin!(slot.as_ref().map(|s| s.wake.notified()));
            if let Some(notified) = wake.as_mut().as_pin_mut() {
                notified.enable();
            }
            if let Some(attached) = &self.attached {
                let mut session = attached.slot.session();
                if !session.is_current(attached.link) {
                    return Err(End::TakenOver);
                }
                session.flush(&mut self.out);
            }
            if !self.out.is_empty() {
                continue;
            }
            let woken = async {
                match wake.as_mut().as_pin_mut() {
                    Some(notified) => notified.await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                ready = self.stream.readable() => {
                    ready.map_err(|e| End::Gone(e.to_string()))?;
                    self.read()?;
                }
                () = woken => {}
                () = tokio::time::sleep_until(self.deadline) => return Err(End::Silent),
                _ = shutdown.wait_for(|stop| *stop) => return Err(End::Shutdown),
            }
        }
    }

    /// Reads what the socket has into `incoming`, through the thread's
    /// scratch buffer.
    fn read(&mut self) -> Result<(), End> {
        SCRATCH.with_borrow_mut(|scratch| match self.stream.try_read(scratch) {
            Ok(0) => Err(End::Gone("closed by the unit".into())),
            Ok(n) => {
                self.incoming.extend_from_slice(&scratch[..n]);
                Ok(())
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Ok(()),
            Err(e) => Err(End::Gone(e.to_string())),
        })
    }

    /// Runs TLS until it needs more input: sends handshake records,
    /// decrypts application data into `plain`, and encrypts and sends `out`
    /// once the handshake allows.
    async fn pump(&mut self) -> Result<(), End> {
        loop {
            let UnbufferedStatus { mut discard, state } =
                self.tls.process_tls_records(&mut self.incoming);
            let state = match state {
                Ok(state) => state,
                Err(e) => {
                    self.incoming.drain(..discard);
                    self.send_alert().await;
                    return Err(End::Tls(e));
                }
            };
            let mut blocked = false;
            match state {
                ConnectionState::ReadTraffic(mut traffic) => {
                    while let Some(record) = traffic.next_record() {
                        let record = record.map_err(End::Tls)?;
                        discard += record.discard;
                        self.plain.extend_from_slice(record.payload);
                    }
                }
                ConnectionState::EncodeTlsData(mut encode) => {
                    let start = self.tls_out.len();
                    self.tls_out.resize(start + 4096, 0);
                    let n = match encode.encode(&mut self.tls_out[start..]) {
                        Ok(n) => n,
                        Err(EncodeError::InsufficientSize(need)) => {
                            self.tls_out.resize(start + need.required_size, 0);
                            encode
                                .encode(&mut self.tls_out[start..])
                                .map_err(|e| End::Gone(format!("TLS encode: {e}")))?
                        }
                        Err(e) => return Err(End::Gone(format!("TLS encode: {e}"))),
                    };
                    self.tls_out.truncate(start + n);
                }
                ConnectionState::TransmitTlsData(transmit) => {
                    write_all(&mut self.stream, &mut self.tls_out).await?;
                    transmit.done();
                }
                ConnectionState::WriteTraffic(mut write) => {
                    if self.out.is_empty() {
                        blocked = true;
                    } else {
                        let start = self.tls_out.len();
                        // Records of at most 16 KiB, each with a few dozen
                        // bytes of overhead.
                        let bound = self.out.len() + (self.out.len() / 16_384 + 1) * 64;
                        self.tls_out.resize(start + bound, 0);
                        let n = match write.encrypt(&self.out, &mut self.tls_out[start..]) {
                            Ok(n) => n,
                            Err(EncryptError::InsufficientSize(need)) => {
                                self.tls_out.resize(start + need.required_size, 0);
                                write
                                    .encrypt(&self.out, &mut self.tls_out[start..])
                                    .map_err(|e| End::Gone(format!("TLS encrypt: {e}")))?
                            }
                            Err(e) => return Err(End::Gone(format!("TLS encrypt: {e}"))),
                        };
                        self.tls_out.truncate(start + n);
                        self.out = Vec::new();
                        write_all(&mut self.stream, &mut self.tls_out).await?;
                    }
                }
                ConnectionState::BlockedHandshake => blocked = true,
                ConnectionState::PeerClosed | ConnectionState::Closed => {
                    return Err(End::Gone("TLS closed by the unit".into()));
                }
                other => {
                    return Err(End::Refused(format!("unexpected TLS state {other:?}")));
                }
            }
            self.incoming.drain(..discard);
            if blocked {
                if self.incoming.is_empty() {
                    self.incoming = Vec::new();
                }
                return Ok(());
            }
        }
    }

    /// After a TLS error, sends the alert rustls queued for it (so the unit
    /// learns why: unknown CA, certificate required, ...), best effort.
    async fn send_alert(&mut self) {
        // rustls hands out queued records before looking at the buffer
        // again (and keeps offsets into the buffer it saw: pass the same).
        for _ in 0..4 {
            let Ok(ConnectionState::EncodeTlsData(mut encode)) =
                self.tls.process_tls_records(&mut self.incoming).state
            else {
                break;
            };
            let start = self.tls_out.len();
            self.tls_out.resize(start + 512, 0);
            match encode.encode(&mut self.tls_out[start..]) {
                Ok(n) => self.tls_out.truncate(start + n),
                Err(_) => {
                    self.tls_out.truncate(start);
                    break;
                }
            }
        }
        if !self.tls_out.is_empty() {
            let _ = write_all(&mut self.stream, &mut self.tls_out).await;
        }
    }

    /// Handles every whole MQTT packet in `plain`. Returns whether there is
    /// something to send.
    async fn handle_packets(&mut self) -> Result<bool, End> {
        let mut ups: Vec<(UpMessage, Option<u16>)> = Vec::new();
        let mut used = 0;
        while self.closing.is_none() {
            let decoded = codec::decode(&self.plain[used..], self.shared.max_packet);
            let (packet, size) = match decoded {
                Ok(Some(decoded)) => decoded,
                Ok(None) => break,
                Err(e) => return Err(End::Refused(format!("malformed MQTT: {e}"))),
            };
            used += size;
            self.deadline = Instant::now() + self.keep_alive.mul_f32(1.5);
            let Some(attached) = &self.attached else {
                let Packet::Connect(connect) = packet else {
                    return Err(End::Refused(format!("{} before CONNECT", packet.name())));
                };
                let keep_alive = match connect.keep_alive {
                    0 => MAX_SILENCE,
                    s => Duration::from_secs(u64::from(s)).min(MAX_SILENCE),
                };
                let unit = match &self.identity {
                    Some(Ok(unit)) => *unit,
                    Some(Err(why)) => {
                        encode_connack(&mut self.out, false, ConnectReturn::NotAuthorized);
                        self.closing = Some(End::Refused(why.clone()));
                        break;
                    }
                    None => return Err(End::Refused("CONNECT before the TLS handshake".into())),
                };
                let connected = &self.shared.stats.connected;
                if connected.load(Ordering::Relaxed) >= self.shared.max_connections {
                    encode_connack(&mut self.out, false, ConnectReturn::Unavailable);
                    self.closing = Some(End::Refused(format!(
                        "the hub is full ({} units connected)",
                        self.shared.max_connections
                    )));
                    break;
                }
                let slot = self.shared.slot(unit);
                let link = self.shared.next_link.fetch_add(1, Ordering::Relaxed);
                let result = slot.session().connect(link, &connect, &mut self.out);
                match result {
                    Ok(attached) => {
                        connected.fetch_add(1, Ordering::Relaxed);
                        if let Some(why) = attached.will_refused {
                            tracing::warn!(%unit, peer = %self.peer, %why, "refused a last will");
                        }
                        if attached.replaced.is_some() {
                            slot.wake.notify_waiters();
                        }
                        tracing::info!(%unit, peer = %self.peer, session_present = attached.session_present, "unit connected");
                        self.keep_alive = keep_alive;
                        self.deadline = Instant::now() + keep_alive.mul_f32(1.5);
                        self.attached = Some(Attached { slot, link, unit });
                    }
                    Err(refusal) => {
                        self.closing = Some(End::Refused(refusal.to_string()));
                        break;
                    }
                }
                continue;
            };
            let result = attached
                .slot
                .session()
                .handle(attached.link, packet, &mut self.out);
            match result {
                Ok(Action::None) => {}
                Ok(Action::Up(message, pid)) => ups.push((message, pid)),
                Ok(Action::Disconnect) => {
                    self.closing = Some(End::Disconnect);
                    break;
                }
                Err(Refusal::TakenOver) => return Err(End::TakenOver),
                Err(refusal) => return Err(End::Refused(refusal.to_string())),
            }
        }
        self.plain.drain(..used);
        if self.plain.is_empty() {
            self.plain = Vec::new();
        }
        if let Some(attached) = &self.attached {
            for (message, pid) in ups {
                // A full channel waits here: the unit's in-flight window
                // fills and it slows down; nothing is dropped.
                if self.shared.up.send_async(message).await.is_err() {
                    return Err(End::Shutdown);
                }
                attached.slot.session().up_accepted(pid, &mut self.out);
            }
        }
        Ok(!self.out.is_empty())
    }

    /// Logs the end, detaches from the session and hands a due will to
    /// ingest.
    async fn finish(self, end: End) {
        let peer = self.peer;
        let unit = self.attached.as_ref().map(|a| a.unit.to_string());
        let unit = unit.as_deref().unwrap_or("-");
        match &end {
            End::Disconnect => tracing::info!(%unit, %peer, "unit disconnected"),
            End::Gone(why) => tracing::info!(%unit, %peer, %why, "unit connection lost"),
            End::Silent if self.attached.is_none() => {
                tracing::warn!(%peer, "no CONNECT in time; closed");
            }
            End::Silent => {
                tracing::info!(%unit, %peer, "unit silent beyond its keep-alive; closed")
            }
            End::Tls(e) => {
                self.shared.stats.refused.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(%unit, %peer, error = %e, "TLS refused or failed");
            }
            End::Refused(why) => {
                self.shared.stats.refused.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(%unit, %peer, %why, "refused a unit connection");
            }
            End::TakenOver => {
                tracing::info!(%unit, %peer, "replaced by a newer connection of the same unit");
            }
            End::Shutdown => {}
        }
        let Some(attached) = self.attached else {
            return;
        };
        self.shared.stats.connected.fetch_sub(1, Ordering::Relaxed);
        let graceful = matches!(end, End::Disconnect | End::Shutdown);
        let will = attached.slot.session().detach(attached.link, graceful);
        if let Some(will) = will {
            let _ = self.shared.up.send_async(will).await;
        }
    }
}

/// Writes and releases `buf`, bounded by [`WRITE_TIMEOUT`].
async fn write_all(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Result<(), End> {
    match tokio::time::timeout(WRITE_TIMEOUT, stream.write_all(buf)).await {
        Ok(Ok(())) => {
            *buf = Vec::new();
            Ok(())
        }
        Ok(Err(e)) => Err(End::Gone(e.to_string())),
        Err(_) => Err(End::Gone("write blocked; the unit is not reading".into())),
    }
}
