//! Warden's client-facing RESP server (port 26379): listeners (plain and TLS), connections and the
//! generic command surface of Redis Sentinel 7.0.15 (PING, INFO, ROLE, HELLO, AUTH, ACL, CLIENT,
//! COMMAND, pub/sub, SHUTDOWN), with `SENTINEL` delegated to the sentinel through one small trait,
//! [`SentinelPort`] — the crate's only way into it.
//!
//! Layout: `listener` accepts (protected mode, maxclients), `conn` runs one task per connection
//! (framing in `request`, encoding in `resp`), `dispatch` resolves commands against `table`
//! (entries described in `spec`, data in `table_data` and `docs_data`) and enforces
//! authentication, ACLs (`acl`) and the subscribed-mode rules, then the family's module in `cmd/`
//! executes it (every family has the same entry point, `run(ctx, spec, args) -> Outcome`). Every family and the connection loop share one leaf, `session` (the connection's
//! state and the handler context), so the module graph has no cycles. Server-wide state lives
//! in [`Shared`]: the client registry (`clients`), `CLIENT PAUSE` (`pause`), the pub/sub hub,
//! counters. `tls` holds the OpenSSL setup the listeners and the binary's outgoing links share;
//! `sys` every call into C.
//!
//! May use: `warden-core` (replies, configuration types), tokio, OpenSSL. Not the binary's
//! driver, links, VIP or config file: whatever the server needs from them goes through
//! [`SentinelPort`].

#![deny(unsafe_code)]

pub mod acl;
mod clients;
mod cmd;
mod conn;
mod dispatch;
mod docs_data;
mod listener;
mod pause;
mod port;
mod pubsub;
pub mod request;
pub mod resp;
mod session;
mod settings;
mod shutdown;
mod spec;
mod stats;
#[allow(unsafe_code)]
mod sys;
mod table;
mod table_data;
pub mod tls;

#[cfg(test)]
mod tests;

pub use listener::{bind_all, BindError, Server};
pub use port::{SentinelPort, Wait};
pub use pubsub::PubSubHub;
pub use settings::{effective_compat, ServerSettings};
pub use shutdown::Shutdown;

use std::sync::Arc;
use std::time::Instant;

/// State shared by every connection.
pub(crate) struct Shared {
    /// The sentinel.
    pub app: Arc<dyn SentinelPort>,
    /// Pub/sub fan-out.
    pub hub: Arc<PubSubHub>,
    /// Static settings.
    pub settings: ServerSettings,
    /// Users and the ACL log.
    pub acl: acl::AclStore,
    /// Connected clients.
    pub clients: clients::Registry,
    /// Counters for INFO.
    pub stats: stats::Stats,
    /// Process stop signal.
    pub shutdown: Shutdown,
    /// `CLIENT PAUSE` state.
    pub pause: pause::Pause,
    /// When the server started (INFO uptime, client ages).
    pub started: Instant,
    /// Random per-process run id (INFO `run_id`), distinct from the sentinel's persisted id.
    pub run_id: String,
}

impl Shared {
    /// Build the shared state; fails when the ACL configuration is invalid.
    pub fn new(
        app: Arc<dyn SentinelPort>,
        hub: Arc<PubSubHub>,
        settings: ServerSettings,
        shutdown: Shutdown,
    ) -> Result<Shared, String> {
        let acl = acl::Acl::from_settings(&settings)?;
        Ok(Shared {
            app,
            hub,
            acl: acl::AclStore::new(acl),
            clients: clients::Registry::default(),
            stats: stats::Stats::default(),
            shutdown,
            pause: pause::Pause::default(),
            started: Instant::now(),
            run_id: random_hex(40),
            settings,
        })
    }
}

/// `len` random lower-case hex digits.
pub(crate) fn random_hex(len: usize) -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| char::from_digit(rng.gen_range(0..16), 16).unwrap_or('0'))
        .collect()
}

/// `strerror(errno)` text of an I/O error: std's `Display` without its ` (os error N)` suffix, as
/// Redis prints it.
pub fn strerror(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.rfind(" (os error ") {
        Some(cut) => text[..cut].to_string(),
        None => text,
    }
}

/// A request's arguments from words (tests).
#[cfg(test)]
pub(crate) fn test_args(words: &[&str]) -> Vec<bytes::Bytes> {
    words
        .iter()
        .map(|w| bytes::Bytes::copy_from_slice(w.as_bytes()))
        .collect()
}
