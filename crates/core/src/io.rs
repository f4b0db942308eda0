//! What goes in and out of the core.
//!
//! The driver owns all sockets. The core names each outgoing connection with a [`LinkId`] and
//! asks for it with [`Action::Connect`]; the driver reports its fate with [`Input::LinkUp`] /
//! [`Input::LinkDown`] and hands every frame received on it back as [`Input::Reply`] (in order,
//! one per reply) or, on a pub/sub link, [`Input::Message`] for published messages.

use crate::config::SentinelConfig;
use crate::reply::Reply;
use crate::Millis;
use bytes::Bytes;

/// Identifies one outgoing connection for its whole life (a reconnect gets a new id).
pub type LinkId = u64;

/// Which of an instance's connections a link is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkKind {
    /// Command connection: PING, INFO, PUBLISH, SLAVEOF transactions, SENTINEL queries.
    Cmd,
    /// Pub/sub connection subscribed to `__sentinel__:hello`.
    PubSub,
}

/// Something that happened outside the core.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// The connection is established; `local_ip` is the socket's local address (used in hellos
    /// when `announce-ip` is unset).
    LinkUp { link: LinkId, local_ip: String },
    /// The connection failed or closed. Every command still pending on it is lost.
    LinkDown { link: LinkId, reason: String },
    /// One reply frame, in the order the commands were sent.
    Reply { link: LinkId, reply: Reply },
    /// A message published on a channel the pub/sub link subscribed to.
    Message {
        link: LinkId,
        channel: Bytes,
        payload: Bytes,
    },
    /// A script started by [`Action::RunScript`] is running as process `pid`.
    ScriptStarted { id: u64, pid: u32 },
    /// A script started by [`Action::RunScript`] ended.
    ScriptExited { id: u64, outcome: ScriptOutcome },
    /// The driver learned the set of addresses assigned to this host's interfaces (used to
    /// decide which node owns a master's VIP).
    LocalAddrs { addrs: Vec<std::net::IpAddr> },
    /// The kernel view of a VIP changed (present or absent on the configured interface).
    VipObserved { master: String, present: bool },
    /// At start-up the VIP was found on its interface with a finite kernel lifetime (left by
    /// the previous process): it is kept, unrenewed, until the VIP rules decide (see
    /// `vip.rs`, rule 5); `lifetime_ms` is what the kernel says is left of it.
    VipFound { master: String, lifetime_ms: u64 },
    /// A routed VIP: this node's routing table has (or no longer has) a route to it learned
    /// from the routing daemon — another node announces it (see `vip.rs`, rule 6). Reported at
    /// start and on every change.
    VipRoute { master: String, present: bool },
}

/// How a notification or reconfiguration script ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScriptOutcome {
    /// Exited normally with this code.
    Exited(i32),
    /// Killed by this signal.
    Signaled(i32),
    /// Could not be started (reported as signal 99, like Redis).
    SpawnFailed,
}

/// Log/publish level of an event, as Redis Sentinel's (`#` warning, `*` notice, `-` verbose,
/// `.` debug).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Not published, logged at debug.
    Debug,
    /// Published, logged at verbose.
    Verbose,
    /// Published and logged.
    Notice,
    /// Published, logged, and runs the notification script.
    Warning,
}

/// A Sentinel event: published on the channel named `kind` with `message` as payload, and logged
/// as `<kind> <message>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Level, which decides publishing, logging and scripts.
    pub level: Level,
    /// Event name, e.g. `+sdown`; also the pub/sub channel.
    pub kind: String,
    /// Payload, e.g. `master mymaster 127.0.0.1 6379`.
    pub message: String,
}

/// Something the core wants the driver to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Open a TCP connection to `host:port` and report it as `link`.
    Connect {
        link: LinkId,
        kind: LinkKind,
        host: String,
        port: u16,
    },
    /// Write these commands, pipelined, on `link`.
    Send {
        link: LinkId,
        commands: Vec<Vec<Bytes>>,
    },
    /// Close `link`; no further input is expected for it.
    Close { link: LinkId },
    /// Publish and log an event.
    Event(Event),
    /// Log a line that is not an event (never published).
    Log { level: Level, message: String },
    /// Start a script as a direct child with only fds 0-2 open.
    RunScript { id: u64, argv: Vec<String> },
    /// Kill a running script (SIGKILL) that exceeded its run time.
    KillScript { id: u64 },
    /// Put the VIP of `master` on this host and announce it, for as long as the lease that
    /// ends at `until` (this core's clock; `None`: no end) lasts: the address is given a
    /// kernel lifetime that ends with the lease, so it goes away even if nothing runs here.
    VipClaim {
        master: String,
        epoch: u64,
        until: Option<Millis>,
    },
    /// The lease of the held VIP of `master` now ends at `until` (`None`: no end): renew the
    /// address's kernel lifetime to match.
    VipLease {
        master: String,
        until: Option<Millis>,
    },
    /// Remove the VIP of `master` from this host; `fence` also asks to kill Redis client
    /// connections that came in through the VIP.
    VipRelease {
        master: String,
        epoch: u64,
        fence: bool,
    },
    /// `SENTINEL SIMULATE-FAILURE` asked the process to crash here (exit code 99).
    Exit { code: i32 },
}

/// The state persisted across restarts; alias kept for readability at call sites.
pub type PersistedState = SentinelConfig;
