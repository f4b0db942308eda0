//! The registry of connected clients: what `CLIENT LIST`/`INFO`/`CLIENT KILL` see of other
//! connections, and the switch that closes a connection from outside its task.

use super::table;
use bytes::Bytes;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;
use tokio::sync::Notify;

/// Asks a connection task to close (CLIENT KILL, ACL DELUSER, pub/sub overflow).
#[derive(Debug, Default)]
pub struct KillSwitch {
    killed: AtomicBool,
    notify: Notify,
}

impl KillSwitch {
    /// Close the connection as soon as possible.
    pub fn kill(&self) {
        self.killed.store(true, Ordering::Release);
        self.notify.notify_one();
    }

    /// Whether [`KillSwitch::kill`] was called.
    pub fn is_killed(&self) -> bool {
        self.killed.load(Ordering::Acquire)
    }

    /// Resolve once killed.
    pub async fn wait(&self) {
        while !self.is_killed() {
            self.notify.notified().await;
        }
    }
}

/// The mutable, rarely-changing part of a client's description.
#[derive(Debug, Clone)]
pub struct ClientState {
    /// `CLIENT SETNAME` name ("" = none).
    pub name: String,
    /// Authenticated user.
    pub user: String,
    /// Protocol version (2/3).
    pub resp: i64,
    /// Subscribed channels.
    pub sub: usize,
    /// Subscribed patterns.
    pub psub: usize,
    /// `CLIENT NO-EVICT on`.
    pub no_evict: bool,
    /// `CLIENT TRACKING` state.
    pub tracking: Tracking,
    /// `CLIENT SETINFO LIB-NAME` ("" = none).
    pub lib_name: String,
    /// `CLIENT SETINFO LIB-VER` ("" = none).
    pub lib_ver: String,
}

/// One connected client, shared between its task and the registry.
#[derive(Debug)]
pub struct ClientInfo {
    /// `CLIENT ID`.
    pub id: u64,
    /// Peer address.
    pub addr: SocketAddr,
    /// Local address.
    pub laddr: SocketAddr,
    /// Socket fd (CLIENT LIST `fd`).
    pub fd: i32,
    /// When the connection was accepted.
    pub created: Instant,
    /// Milliseconds after `created` of the last command.
    last_interaction_ms: AtomicU64,
    /// Id + 1 of the last command's table entry (0 = none yet).
    last_cmd: AtomicUsize,
    state: Mutex<ClientState>,
    /// Closes the connection.
    pub kill: KillSwitch,
}

impl ClientInfo {
    /// Lock the mutable description.
    pub fn state(&self) -> MutexGuard<'_, ClientState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Record a command execution.
    pub fn touch(&self, now: Instant, cmd_id: usize) {
        let ms = now.saturating_duration_since(self.created).as_millis() as u64;
        self.last_interaction_ms.store(ms, Ordering::Relaxed);
        self.last_cmd.store(cmd_id + 1, Ordering::Relaxed);
    }

    /// Seconds since the last command (or since connect).
    pub fn idle_secs(&self, now: Instant) -> u64 {
        let age_ms = now.saturating_duration_since(self.created).as_millis() as u64;
        age_ms.saturating_sub(self.last_interaction_ms.load(Ordering::Relaxed)) / 1000
    }

    /// Table id of the last command, if any.
    pub fn last_cmd(&self) -> Option<usize> {
        self.last_cmd.load(Ordering::Relaxed).checked_sub(1)
    }
}

/// All connected clients by id.
#[derive(Debug, Default)]
pub struct Registry {
    next_id: AtomicU64,
    clients: Mutex<BTreeMap<u64, Arc<ClientInfo>>>,
}

impl Registry {
    fn map(&self) -> MutexGuard<'_, BTreeMap<u64, Arc<ClientInfo>>> {
        self.clients.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Register a new connection authenticated as `user`.
    pub fn register(
        &self,
        addr: SocketAddr,
        laddr: SocketAddr,
        fd: i32,
        user: &str,
    ) -> Arc<ClientInfo> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let info = Arc::new(ClientInfo {
            id,
            addr,
            laddr,
            fd,
            created: Instant::now(),
            last_interaction_ms: AtomicU64::new(0),
            last_cmd: AtomicUsize::new(0),
            state: Mutex::new(ClientState {
                name: String::new(),
                user: user.to_string(),
                resp: 2,
                sub: 0,
                psub: 0,
                no_evict: false,
                tracking: Default::default(),
                lib_name: String::new(),
                lib_ver: String::new(),
            }),
            kill: KillSwitch::default(),
        });
        self.map().insert(id, info.clone());
        info
    }

    /// Forget a closed connection.
    pub fn unregister(&self, id: u64) {
        self.map().remove(&id);
    }

    /// Number of connected clients.
    pub fn len(&self) -> usize {
        self.map().len()
    }

    /// Snapshot of all clients, by id.
    pub fn snapshot(&self) -> Vec<Arc<ClientInfo>> {
        self.map().values().cloned().collect()
    }

    /// A client by id.
    pub fn get(&self, id: u64) -> Option<Arc<ClientInfo>> {
        self.map().get(&id).cloned()
    }
}

/// Client-side caching state (`CLIENT TRACKING`). Sentinel mode has no keys, so no invalidation
/// is ever sent; the state is kept so the commands answer as Redis does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tracking {
    /// Tracking enabled.
    pub on: bool,
    /// Redirect client id (0 = none).
    pub redirect: u64,
    /// `BCAST`.
    pub bcast: bool,
    /// `OPTIN`.
    pub optin: bool,
    /// `OPTOUT`.
    pub optout: bool,
    /// `NOLOOP`.
    pub noloop: bool,
    /// `PREFIX`es (BCAST mode).
    pub prefixes: Vec<Bytes>,
    /// `CLIENT CACHING yes|no` for the next command.
    pub caching: Option<bool>,
}

/// The `CLIENT LIST`/`CLIENT INFO` line of a client (without the newline).
pub fn describe(info: &ClientInfo) -> String {
    let now = Instant::now();
    let state = info.state().clone();
    let mut flags = String::new();
    if state.sub + state.psub > 0 {
        flags.push('P');
    }
    if state.tracking.on {
        flags.push('t');
        if state.tracking.bcast {
            flags.push('B');
        }
    }
    if info.kill.is_killed() {
        flags.push('A');
    }
    if state.no_evict {
        flags.push('e');
    }
    if flags.is_empty() {
        flags.push('N');
    }
    let cmd = info
        .last_cmd()
        .and_then(table::by_id)
        .map_or("NULL", |s| s.name);
    let redir = if !state.tracking.on {
        -1
    } else {
        state.tracking.redirect as i64
    };
    let mut line = String::with_capacity(320);
    let _ = write!(
        line,
        "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={flags} db=0 sub={} psub={} ssub=0 multi=-1 \
         qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=16384 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r cmd={cmd} \
         user={} redir={redir} resp={}",
        info.id,
        info.addr,
        info.laddr,
        info.fd,
        state.name,
        now.saturating_duration_since(info.created).as_secs(),
        info.idle_secs(now),
        state.sub,
        state.psub,
        state.user,
        state.resp
    );
    // Redis 7.2's fields, shown once the client set them (a 7.0.15 client cannot).
    if !state.lib_name.is_empty() || !state.lib_ver.is_empty() {
        let _ = write!(
            line,
            " lib-name={} lib-ver={}",
            state.lib_name, state.lib_ver
        );
    }
    line
}
