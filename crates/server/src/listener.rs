//! Listening sockets and the accept loop: `bind` addresses, protected mode, `maxclients`, and
//! a graceful stop that waits for every connection task.

use super::stats::{Stats, SAMPLE_PERIOD};
use super::{conn, PubSubHub, ServerSettings, Shared, Shutdown};
use crate::tls::Tls;
use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::task::JoinSet;

/// Redis' `tcp-backlog` default.
const BACKLOG: u32 = 511;

/// The text protected mode answers to a non-loopback client (Redis 7.0.15, verbatim).
const DENIED: &[u8] = b"-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";

/// A bound but not yet running server. Use: [`Server::bind`], then spawn [`Server::run`], which
/// serves clients until the `shutdown` signal is triggered (by `SHUTDOWN` or the caller), closes
/// every connection and returns.
///
/// The `hub` passed to `bind` is the pub/sub fan-out the driver publishes Sentinel events into
/// ([`PubSubHub::publish`]).
pub struct Server {
    shared: Arc<Shared>,
    /// Each listener, with the TLS contexts its connections are served through (`tls-port`).
    listeners: Vec<(TcpListener, Option<Arc<Tls>>)>,
}

/// Why [`Server::bind`] failed.
#[derive(Debug)]
pub enum BindError {
    /// The ACL configuration (`user` lines, `aclfile`) is invalid.
    Acl(String),
    /// A listening socket could not be created on `port` (`tls-port` if `tls`); `reason` reads
    /// `<addr>:<port>: bind: <why>`.
    Listen {
        /// The port.
        port: u16,
        /// Whether it is the TLS port.
        tls: bool,
        /// What failed.
        reason: io::Error,
    },
}

impl fmt::Display for BindError {
    /// Redis's log lines for the failure.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BindError::Acl(e) => write!(f, "{e}"),
            BindError::Listen { port, tls, reason } => write!(
                f,
                "Could not create server TCP listening socket: {reason}\nFailed listening on port {port} ({}), aborting.",
                if *tls { "TLS" } else { "TCP" }
            ),
        }
    }
}

impl Server {
    /// Validate the ACL configuration and bind every listener (no client is served yet): on
    /// `port` unless it is 0 while `tls-port` is set (`port 0` alone keeps a listener on a
    /// port the kernel picks, which tests use), and on `tls-port` when `tls` has one.
    pub async fn bind(
        app: Arc<dyn crate::SentinelPort>,
        hub: Arc<PubSubHub>,
        settings: ServerSettings,
        shutdown: Shutdown,
        tls: Option<Arc<Tls>>,
    ) -> Result<Server, BindError> {
        let shared = Shared::new(app, hub, settings, shutdown).map_err(BindError::Acl)?;
        let (bind, port) = (&shared.settings.bind, shared.settings.port);
        let tls_port = tls.as_ref().and_then(|tls| tls.port());
        let mut listeners = Vec::new();
        if port != 0 || tls_port.is_none() {
            let plain = bind_all(bind, port)
                .await
                .map_err(|reason| BindError::Listen {
                    port,
                    tls: false,
                    reason,
                })?;
            listeners.extend(plain.into_iter().map(|l| (l, None)));
        }
        if let (Some(tls), Some(tls_port)) = (tls, tls_port) {
            let secure = bind_all(bind, tls_port)
                .await
                .map_err(|reason| BindError::Listen {
                    port: tls_port,
                    tls: true,
                    reason,
                })?;
            listeners.extend(secure.into_iter().map(|l| (l, Some(tls.clone()))));
        }
        Ok(Server {
            shared: Arc::new(shared),
            listeners,
        })
    }

    /// The addresses actually bound (tests bind port 0).
    #[cfg(test)]
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.listeners
            .iter()
            .filter_map(|(l, _)| l.local_addr().ok())
            .collect()
    }

    /// Accept and serve until shutdown; returns once every connection task has ended.
    pub async fn run(self) {
        let mut accept_loops = JoinSet::new();
        for (listener, tls) in self.listeners {
            accept_loops.spawn(accept_loop(listener, tls, self.shared.clone()));
        }
        let shared = self.shared.clone();
        let sampler = tokio::spawn(async move {
            let mut ticks = tokio::time::interval(SAMPLE_PERIOD);
            loop {
                tokio::select! {
                    _ = shared.shutdown.wait() => return,
                    _ = ticks.tick() => shared.stats.sample(std::time::Instant::now()),
                }
            }
        });
        while accept_loops.join_next().await.is_some() {}
        let _ = sampler.await;
    }
}

async fn accept_loop(listener: TcpListener, tls: Option<Arc<Tls>>, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    let shutdown = shared.shutdown.clone();
    loop {
        while connections.try_join_next().is_some() {}
        let accepted = tokio::select! {
            _ = shutdown.wait() => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, addr) = match accepted {
            Ok(pair) => pair,
            Err(e) => {
                tracing::warn!("Accepting client connection: {e}");
                // Out of fds and similar: back off briefly instead of spinning.
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        let refused = refusal(&shared, &addr);
        // Like Redis: connections over maxclients are "rejected", the others (including those
        // protected mode turns away after accepting them) are "received".
        if refused == Some(REFUSED_MAXCLIENTS) {
            Stats::add(&shared.stats.rejected_connections, 1);
        } else {
            Stats::add(&shared.stats.connections_received, 1);
        }
        if let Some(text) = refused {
            connections.spawn(refuse(stream, text));
            continue;
        }
        let (shared, tls) = (shared.clone(), tls.clone());
        connections.spawn(async move { conn::run(stream, addr, tls, shared).await });
    }
    drop(listener);
    while connections.join_next().await.is_some() {}
}

const REFUSED_MAXCLIENTS: &[u8] = b"-ERR max number of clients reached\r\n";

/// Why a new connection is refused, as the bytes to send before closing it.
fn refusal(shared: &Shared, addr: &SocketAddr) -> Option<&'static [u8]> {
    if shared.clients.len() >= shared.settings.maxclients as usize {
        return Some(REFUSED_MAXCLIENTS);
    }
    if shared.settings.protected_mode
        && shared.acl.read().default_user_nopass()
        && !is_loopback(addr.ip())
    {
        return Some(DENIED);
    }
    None
}

fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

async fn refuse(mut stream: TcpStream, text: &'static [u8]) {
    // Best effort, like Redis: the client may already be gone.
    let _ = stream.write_all(text).await;
}

/// Bind every configured address; an empty list means all IPv4 and (optionally) all IPv6.
pub async fn bind_all(bind: &[String], port: u16) -> io::Result<Vec<TcpListener>> {
    let defaults = ["*".to_string(), "-::*".to_string()];
    let entries = if bind.is_empty() { &defaults[..] } else { bind };
    let mut listeners = Vec::new();
    for entry in entries {
        let (optional, name) = match entry.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, entry.as_str()),
        };
        match bind_one(name, port).await {
            Ok(found) => listeners.extend(found),
            Err(_) if optional => {}
            Err(e) => {
                return Err(io::Error::new(
                    e.kind(),
                    format!("{name}:{port}: bind: {}", crate::strerror(&e)),
                ))
            }
        }
    }
    if listeners.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::AddrNotAvailable,
            format!("Failed listening on port {port} (TCP)"),
        ));
    }
    Ok(listeners)
}

async fn bind_one(name: &str, port: u16) -> io::Result<Vec<TcpListener>> {
    let ips: Vec<IpAddr> = match name {
        "*" => vec![IpAddr::V4(Ipv4Addr::UNSPECIFIED)],
        "::*" => vec![IpAddr::V6(Ipv6Addr::UNSPECIFIED)],
        _ => match name.parse::<IpAddr>() {
            Ok(ip) => vec![ip],
            Err(_) => tokio::net::lookup_host((name, port))
                .await?
                .map(|a| a.ip())
                .collect(),
        },
    };
    ips.into_iter()
        .map(|ip| listen(SocketAddr::new(ip, port)))
        .collect()
}

fn listen(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    if addr.is_ipv6() {
        set_v6only(&socket)?;
    }
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}

/// IPv6 listeners accept only IPv6, so `*` and `::*` can both be bound (as Redis does).
fn set_v6only(socket: &TcpSocket) -> io::Result<()> {
    socket2::SockRef::from(socket).set_only_v6(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_addresses() {
        for ip in ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"] {
            assert!(is_loopback(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["10.0.0.1", "192.168.1.1", "::ffff:10.0.0.1", "fe80::1"] {
            assert!(!is_loopback(ip.parse().unwrap()), "{ip}");
        }
    }
}
