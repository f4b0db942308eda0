//! The client-facing RESP server (port 26379): listeners, connections and the generic command
//! surface of Redis Sentinel 7.0.15 (PING, INFO, ROLE, HELLO, AUTH, ACL, CLIENT, COMMAND, pub/sub,
//! SHUTDOWN), with `SENTINEL` delegated to the core through [`App`].
//!
//! Layout: `listener` accepts (protected mode, maxclients), `conn` runs one task per connection
//! (framing in `request`, encoding in `resp`), `dispatch` resolves commands against `table` and
//! enforces authentication, ACLs and the subscribed-mode rules, then one module per command family
//! executes it. Shared state lives in [`Shared`].

pub(crate) mod acl;
mod acl_cmd;
mod auth;
mod client;
mod clients;
mod command;
mod conn;
mod dispatch;
mod docs_data;
mod hello;
mod info;
mod listener;
mod pubsub;
pub(crate) mod request;
pub(crate) mod resp;
mod role;
mod sentinel;
mod settings;
mod shutdown;
mod sockopt;
mod stats;
mod subscribe;
mod table;
mod table_data;

#[cfg(test)]
mod tests;

pub use listener::{bind_all, Server};
pub use pubsub::PubSubHub;
pub use settings::{effective_compat, ServerSettings};
pub use shutdown::Shutdown;

use crate::app::App;
use std::sync::Arc;
use std::time::Instant;

/// State shared by every connection.
pub(crate) struct Shared {
    /// The sentinel core.
    pub app: Arc<App>,
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
    pub pause: client::Pause,
    /// When the server started (INFO uptime, client ages).
    pub started: Instant,
    /// Random per-process run id (INFO `run_id`), distinct from the sentinel's persisted id.
    pub run_id: String,
}

impl Shared {
    /// Build the shared state; fails when the ACL configuration is invalid.
    pub fn new(
        app: Arc<App>,
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
            pause: client::Pause::default(),
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
