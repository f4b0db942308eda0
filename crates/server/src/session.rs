//! What one connection carries from command to command ([`Session`]) and what a command handler
//! works with ([`Ctx`]): the leaf every command family and the connection loop share.

use super::acl::{Denial, User};
use super::clients::{describe, ClientInfo};
use super::pubsub::Subscriber;
use super::resp::{self, Protocol};
use super::Shared;
use bytes::{Bytes, BytesMut};
use std::collections::HashSet;
use std::sync::Arc;
use warden_core::Reply;

/// What `CLIENT REPLY` asked for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReplyMode {
    /// `CLIENT REPLY OFF`.
    pub off: bool,
    /// `CLIENT REPLY SKIP` was the previous command: suppress this command's reply.
    pub skip: bool,
    /// `CLIENT REPLY SKIP` is running: suppress the next command's reply.
    pub skip_next: bool,
}

/// Per-connection protocol state.
pub struct Session {
    /// The registry entry.
    pub info: Arc<ClientInfo>,
    /// RESP2 or RESP3.
    pub proto: Protocol,
    /// Passed authentication (or the default user needs none).
    pub authenticated: bool,
    /// Current user (refreshed when the ACL changes).
    pub user: Arc<User>,
    /// ACL change counter `user` was read at.
    pub acl_epoch: u64,
    /// `CLIENT REPLY` state.
    pub reply: ReplyMode,
    /// Subscribed channels.
    pub channels: HashSet<Bytes>,
    /// Subscribed patterns.
    pub patterns: HashSet<Bytes>,
    /// This connection as a pub/sub subscriber.
    pub subscriber: Subscriber,
    /// Close once the pending output is written.
    pub close: bool,
    /// The save generation the pending output waits for (a `SENTINEL` reply may reveal a
    /// vote or epoch that is not durable yet; 0: none).
    pub durable_barrier: u64,
}

impl Session {
    /// Whether the connection is in subscribed mode.
    pub fn subscribed(&self) -> bool {
        !self.channels.is_empty() || !self.patterns.is_empty()
    }

    /// Whether replies are currently written.
    pub fn replies_on(&self) -> bool {
        !self.reply.off && !self.reply.skip
    }

    /// Publish the subscription counts to the registry.
    pub fn sync_sub_counts(&self) {
        let mut state = self.info.state();
        state.sub = self.channels.len();
        state.psub = self.patterns.len();
    }
}

/// What a command handler works with.
pub struct Ctx<'a> {
    /// Server-wide state.
    pub shared: &'a Shared,
    /// The connection's state.
    pub session: &'a mut Session,
    /// Output buffer.
    pub out: &'a mut BytesMut,
    /// Error replies produced (INFO `total_error_replies`).
    pub errors: u64,
}

impl Ctx<'_> {
    /// Encode a reply unless `CLIENT REPLY` suppresses it.
    pub fn reply(&mut self, reply: &Reply) {
        if matches!(reply, Reply::Error(_)) {
            self.errors += 1;
        }
        if self.session.replies_on() {
            resp::encode(self.out, self.session.proto, reply);
        }
    }

    /// Record an ACL denial for this client.
    pub fn log_denial(&self, reason: Denial, object: &str, username: &str) {
        let line = describe(&self.session.info);
        self.shared
            .acl
            .modify_log(|acl| acl.log(reason, object, username, line));
    }
}
