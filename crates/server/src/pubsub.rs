//! Pub/sub fan-out of Sentinel events to subscribed clients.
//!
//! Each subscribed connection owns a bounded queue. Publishing never blocks and never grows
//! memory without bound: a subscriber whose queue is full is disconnected, like Redis closes a
//! pub/sub client that exceeds its output buffer limit.

use super::clients::ClientInfo;
use bytes::Bytes;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::mpsc;
use warden_core::glob::glob_match;

/// Messages a subscriber may have queued before it is disconnected. Redis bounds only the
/// bytes; this bound is far above what the byte limit allows for real events (a mass failover
/// of a thousand masters publishes ~15,000 events within a second; 4096 dropped the subscriber).
pub const SUBSCRIBER_QUEUE: usize = 1 << 17;
/// Bytes a subscriber may have queued before it is disconnected (Redis' pub/sub hard
/// output-buffer limit, 32 MB).
pub const SUBSCRIBER_BYTES: usize = 32 * 1024 * 1024;

/// One message on its way to a subscriber.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The pattern that matched, for `pmessage`; `None` for a channel subscription.
    pub pattern: Option<Bytes>,
    /// Channel published on.
    pub channel: Bytes,
    /// Payload.
    pub payload: Bytes,
}

/// A subscribed connection: where its messages go, and how to disconnect it.
#[derive(Debug, Clone)]
pub struct Subscriber {
    /// The connection's queue.
    pub tx: mpsc::Sender<Delivery>,
    /// The connection, killed on overflow.
    pub client: Arc<ClientInfo>,
    /// Bytes queued and not yet taken by the connection.
    pub pending: Arc<AtomicUsize>,
}

impl Delivery {
    /// Bytes accounted against the subscriber's limit.
    pub fn size(&self) -> usize {
        self.channel.len() + self.payload.len() + self.pattern.as_ref().map_or(0, Bytes::len)
    }
}

#[derive(Default)]
struct Subscriptions {
    channels: HashMap<Bytes, HashMap<u64, Subscriber>>,
    patterns: HashMap<Bytes, HashMap<u64, Subscriber>>,
}

/// The channel and pattern subscription tables.
#[derive(Default)]
pub struct PubSubHub {
    subs: Mutex<Subscriptions>,
}

impl PubSubHub {
    /// An empty hub.
    pub fn new() -> Arc<PubSubHub> {
        Arc::new(PubSubHub::default())
    }

    fn subs(&self) -> MutexGuard<'_, Subscriptions> {
        self.subs.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Deliver `payload` to subscribers of `channel` and of matching patterns; returns how many
    /// deliveries were queued. Called by the driver for every published Sentinel event.
    pub fn publish(&self, channel: &str, payload: &str) -> usize {
        let channel = Bytes::copy_from_slice(channel.as_bytes());
        let payload = Bytes::copy_from_slice(payload.as_bytes());
        let subs = self.subs();
        let mut delivered = 0;
        let mut send = |sub: &Subscriber, pattern: Option<&Bytes>| {
            let delivery = Delivery {
                pattern: pattern.cloned(),
                channel: channel.clone(),
                payload: payload.clone(),
            };
            let size = delivery.size();
            if sub.pending.load(Ordering::Relaxed) + size > SUBSCRIBER_BYTES {
                overflow(sub);
                return;
            }
            match sub.tx.try_send(delivery) {
                Ok(()) => {
                    sub.pending.fetch_add(size, Ordering::Relaxed);
                    delivered += 1;
                }
                Err(mpsc::error::TrySendError::Full(_)) => overflow(sub),
                // The connection is closing and will unsubscribe itself.
                Err(mpsc::error::TrySendError::Closed(_)) => {}
            }
        };
        if let Some(subscribers) = subs.channels.get(&channel) {
            subscribers.values().for_each(|sub| send(sub, None));
        }
        for (pattern, subscribers) in &subs.patterns {
            if glob_match(pattern, &channel, false) {
                subscribers
                    .values()
                    .for_each(|sub| send(sub, Some(pattern)));
            }
        }
        delivered
    }

    /// Subscribe to a channel; false if already subscribed.
    pub fn subscribe(&self, channel: &Bytes, sub: &Subscriber) -> bool {
        self.subs()
            .channels
            .entry(channel.clone())
            .or_default()
            .insert(sub.client.id, sub.clone())
            .is_none()
    }

    /// Subscribe to a pattern; false if already subscribed.
    pub fn psubscribe(&self, pattern: &Bytes, sub: &Subscriber) -> bool {
        self.subs()
            .patterns
            .entry(pattern.clone())
            .or_default()
            .insert(sub.client.id, sub.clone())
            .is_none()
    }

    /// Unsubscribe `client` from a channel; false if it was not subscribed.
    pub fn unsubscribe(&self, channel: &Bytes, client: u64) -> bool {
        remove(&mut self.subs().channels, channel, client)
    }

    /// Unsubscribe `client` from a pattern; false if it was not subscribed.
    pub fn punsubscribe(&self, pattern: &Bytes, client: u64) -> bool {
        remove(&mut self.subs().patterns, pattern, client)
    }

    /// Clients authenticated as `user` holding a subscription that `allowed(channel, is_pattern)`
    /// rejects (after an ACL change, such clients are disconnected, as in Redis).
    pub fn violators(
        &self,
        user: &str,
        allowed: impl Fn(&[u8], bool) -> bool,
    ) -> Vec<Arc<ClientInfo>> {
        let subs = self.subs();
        let mut found: HashMap<u64, Arc<ClientInfo>> = HashMap::new();
        let tables = [(&subs.channels, false), (&subs.patterns, true)];
        for (table, is_pattern) in tables {
            for (key, subscribers) in table {
                if allowed(key, is_pattern) {
                    continue;
                }
                for sub in subscribers
                    .values()
                    .filter(|s| s.client.state().user == user)
                {
                    found.insert(sub.client.id, sub.client.clone());
                }
            }
        }
        found.into_values().collect()
    }

    /// Number of channels and of patterns with at least one subscriber (INFO).
    pub fn counts(&self) -> (usize, usize) {
        let subs = self.subs();
        (subs.channels.len(), subs.patterns.len())
    }
}

/// Disconnect a subscriber that cannot keep up.
fn overflow(sub: &Subscriber) {
    if !sub.client.kill.is_killed() {
        tracing::warn!(
            "Client id={} addr={} scheduled to be closed ASAP for overcoming of output buffer limits.",
            sub.client.id,
            sub.client.addr
        );
    }
    sub.client.kill.kill();
}

fn remove(table: &mut HashMap<Bytes, HashMap<u64, Subscriber>>, key: &Bytes, client: u64) -> bool {
    let Some(subscribers) = table.get_mut(key) else {
        return false;
    };
    let removed = subscribers.remove(&client).is_some();
    if subscribers.is_empty() {
        table.remove(key);
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_rules() {
        let m = |p: &str, t: &str| glob_match(p.as_bytes(), t.as_bytes(), false);
        assert!(m("*", ""));
        assert!(m("+*", "+switch-master"));
        assert!(m("*master", "+switch-master"));
        assert!(!m("*master", "+switch-masters"));
        assert!(m("h?llo", "hello"));
        assert!(!m("h?llo", "hllo"));
        assert!(m("h[ae]llo", "hallo"));
        assert!(!m("h[^e]llo", "hello"));
        assert!(m("h[a-c]llo", "hbllo"));
        assert!(m("h[c-a]llo", "hbllo"));
        assert!(m("a\\*b", "a*b"));
        assert!(!m("a\\*b", "axb"));
        assert!(m("*a*b*c*", "xxaxxbxxcxx"));
        assert!(!m("*a*b*c*", "xxaxxcxxbxx"));
        assert!(m("my*", "mymaster"));
        assert!(!m("My*", "mymaster"));
        assert!(glob_match(b"My*", b"mymaster", true));
        assert!(!m("\\a", "\\a"));
        assert!(m("a\\", "a\\"));
    }
}
