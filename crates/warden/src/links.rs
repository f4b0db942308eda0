//! Outgoing connections to monitored instances and peer sentinels.
//!
//! Each [`warden_core::Action::Connect`] becomes one tokio task owning one TCP connection. The
//! task reports [`Input::LinkUp`] (with the socket's local address) or [`Input::LinkDown`], writes
//! the command batches it receives (coalescing whatever is queued into one write), and feeds every
//! reply frame back in order as [`Input::Reply`] — or, on a pub/sub link, published messages as
//! [`Input::Message`]. Closing a link aborts its task: no input follows a close.

pub(crate) mod codec;

use crate::ports::InputSink;
use bytes::{Bytes, BytesMut};
use codec::{as_message, decode_frame, encode_commands, FrameScanner};
use rustc_hash::FxHashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use warden_core::{Input, LinkId, LinkKind};
use warden_server::strerror;
use warden_server::tls::{Stream, Tls};

/// How long a connection attempt (name resolution included) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(1000);
/// Read buffer growth step. Most replies are a few bytes (PONG, +OK, a vote). Kept small: a
/// fleet has thousands of links, and 16 KiB each was most of the sentinel's memory.
const READ_CHUNK: usize = 1024;
/// Most reserved at once for the rest of a large reply whose header is in (INFO: a few KiB,
/// every 10 s), so it takes one read rather than one per chunk; bounded so a hostile header
/// cannot make the link allocate more than the bytes actually sent.
const READ_AHEAD_MAX: usize = 64 * 1024;

/// A batch of pipelined commands.
type Batch = Vec<Vec<Bytes>>;

/// How links connect.
#[derive(Clone, Default)]
pub struct Outgoing {
    /// The address links leave from (`bind-source-addr`); else the kernel picks one.
    pub source: Option<IpAddr>,
    /// TLS contexts when links use TLS (`tls-replication yes`).
    pub tls: Option<Arc<Tls>>,
}

/// The set of open links.
pub struct Links {
    sink: Arc<dyn InputSink>,
    outgoing: Outgoing,
    conns: FxHashMap<LinkId, Conn>,
}

/// One link's task and the queue feeding it.
struct Conn {
    outgoing: mpsc::UnboundedSender<Batch>,
    task: JoinHandle<()>,
}

impl Links {
    /// No links yet; inputs go to `sink`; connections are made as `outgoing` says.
    pub fn new(sink: Arc<dyn InputSink>, outgoing: Outgoing) -> Links {
        Links {
            sink,
            outgoing,
            conns: FxHashMap::default(),
        }
    }

    /// Start connecting `link` to `host:port`. Must be called inside a tokio runtime.
    pub fn connect(&mut self, link: LinkId, kind: LinkKind, host: String, port: u16) {
        // Forget links whose connection ended on its own (the core already got their LinkDown).
        self.conns.retain(|_, conn| !conn.task.is_finished());
        let (outgoing, queue) = mpsc::unbounded_channel();
        let sink = self.sink.clone();
        let how = self.outgoing.clone();
        let task = tokio::spawn(async move {
            if let Some(reason) = run(link, kind, (&host, port, &how), &*sink, queue).await {
                sink.input(Input::LinkDown { link, reason });
            }
        });
        if let Some(old) = self.conns.insert(link, Conn { outgoing, task }) {
            old.task.abort();
        }
    }

    /// Queue `commands` on `link`; ignored if the link is gone (its LinkDown is already on its
    /// way to the core, and with it the loss of pending commands).
    pub fn send(&mut self, link: LinkId, commands: Batch) {
        if let Some(conn) = self.conns.get(&link) {
            let _ = conn.outgoing.send(commands);
        }
    }

    /// Drop `link` silently.
    pub fn close(&mut self, link: LinkId) {
        if let Some(conn) = self.conns.remove(&link) {
            conn.task.abort();
        }
    }
}

impl Drop for Links {
    fn drop(&mut self) {
        for conn in self.conns.values() {
            conn.task.abort();
        }
    }
}

/// Connect and serve one link until it fails (returns the reason) or its queue is dropped
/// (returns `None`: closed by us, nothing to report).
async fn run(
    link: LinkId,
    kind: LinkKind,
    (host, port, outgoing): (&str, u16, &Outgoing),
    sink: &dyn InputSink,
    mut queue: mpsc::UnboundedReceiver<Batch>,
) -> Option<String> {
    let stream = match tokio::time::timeout(CONNECT_TIMEOUT, open(host, port, outgoing)).await {
        Err(_) => return Some("Connection timed out".into()),
        Ok(Err(e)) => return Some(strerror(&e)),
        Ok(Ok(stream)) => stream,
    };
    let local_ip = match stream.tcp().local_addr() {
        Ok(addr) => addr.ip().to_string(),
        Err(e) => return Some(strerror(&e)),
    };
    sink.input(Input::LinkUp { link, local_ip });

    let (mut reader, mut writer) = tokio::io::split(stream);
    let mut inbuf = BytesMut::with_capacity(READ_CHUNK);
    let mut outbuf = BytesMut::new();
    let mut scanner = FrameScanner::default();
    loop {
        inbuf.reserve(
            scanner
                .missing(inbuf.len())
                .clamp(READ_CHUNK, READ_AHEAD_MAX),
        );
        tokio::select! {
            batch = queue.recv() => {
                let batch = batch?;
                encode_commands(&mut outbuf, &batch);
                while let Ok(more) = queue.try_recv() {
                    encode_commands(&mut outbuf, &more);
                }
                if let Err(e) = writer.write_all(&outbuf).await {
                    return Some(strerror(&e));
                }
                outbuf.clear();
            }
            read = reader.read_buf(&mut inbuf) => {
                match read {
                    Ok(0) => return Some("Server closed the connection".into()),
                    Ok(_) => {}
                    Err(e) => return Some(strerror(&e)),
                }
                loop {
                    let reply = match scanner.scan(&inbuf) {
                        Ok(None) => break,
                        Ok(Some(len)) => decode_frame(&inbuf.split_to(len).freeze()),
                        Err(e) => Err(e),
                    };
                    let reply = match reply {
                        Ok(reply) => reply,
                        Err(e) => {
                            tracing::warn!("Closing link to {host}:{port}: {e}");
                            return Some(e.to_string());
                        }
                    };
                    let input = match (kind, as_message(&reply)) {
                        (LinkKind::PubSub, Some((channel, payload))) => {
                            Input::Message { link, channel, payload }
                        }
                        _ => Input::Reply { link, reply },
                    };
                    sink.input(input);
                }
            }
        }
    }
}

/// Connect to `host:port` as `outgoing` says, and complete the TLS handshake if links use TLS
/// (within the same connect timeout, as hiredis's connect covers Redis's handshake).
async fn open(host: &str, port: u16, outgoing: &Outgoing) -> io::Result<Stream> {
    let tcp = open_tcp(host, port, outgoing.source).await?;
    // Best effort: a socket that refuses NODELAY still works.
    let _ = tcp.set_nodelay(true);
    match &outgoing.tls {
        None => Ok(Stream::Plain(tcp)),
        Some(tls) => Ok(Stream::Tls(Box::new(tls.connect(tcp).await?))),
    }
}

/// Connect to `host:port`, from `source` if given (only addresses of its family are tried).
async fn open_tcp(host: &str, port: u16, source: Option<IpAddr>) -> io::Result<TcpStream> {
    let Some(source) = source else {
        return TcpStream::connect((host, port)).await;
    };
    let mut last_error = None;
    for addr in tokio::net::lookup_host((host, port)).await? {
        if addr.is_ipv4() != source.is_ipv4() {
            continue;
        }
        let socket = if addr.is_ipv4() {
            TcpSocket::new_v4()?
        } else {
            TcpSocket::new_v6()?
        };
        socket.bind(SocketAddr::new(source, 0))?;
        match socket.connect(addr).await {
            Ok(stream) => return Ok(stream),
            Err(e) => last_error = Some(e),
        }
    }
    Err(last_error.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::AddrNotAvailable,
            format!("no address of {host} in the family of {source}"),
        )
    }))
}

/// Resolve `host` to the text of its first address (Redis's `resolve-hostnames yes` lookup);
/// blocking, like Redis's own resolution.
pub fn resolve_host(host: &str) -> Option<String> {
    use std::net::ToSocketAddrs;
    let mut addrs = (host, 0).to_socket_addrs().ok()?;
    addrs.next().map(|addr| addr.ip().to_string())
}

#[cfg(test)]
mod tests;
