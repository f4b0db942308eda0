//! The registry of connected clients: what `CLIENT LIST`/`INFO`/`CLIENT KILL` see of other
//! connections, and the switch that closes a connection from outside its task.

use std::collections::BTreeMap;
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
    pub tracking: super::client::Tracking,
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
