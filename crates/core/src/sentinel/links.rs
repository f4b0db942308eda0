//! Instance links: the (one or two) connections to an instance and their timing, with the
//! queue of replies each connection still owes us.
//!
//! A link to another sentinel is shared by every master that sentinel also monitors
//! (`link-refcount`), like Redis Sentinel's `instanceLink`.

use super::instance::LinkKey;
use crate::io::{LinkId, LinkKind};
use crate::Millis;
use rustc_hash::FxHashMap;
use std::collections::VecDeque;

/// What a pending reply answers, so it can be routed when it arrives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// A reply nobody reads (AUTH, CLIENT SETNAME, the MULTI transaction...).
    Ignore,
    /// PING.
    Ping,
    /// INFO.
    Info,
    /// PUBLISH of a hello to `master`'s instance at `target` (see [`Target`]).
    Publish(Target),
    /// `SENTINEL get-master-addr-by-name` sent to peer `runid` at `sent` to confirm the VIP
    /// lease of `master` (see `sentinel/vip.rs`).
    VipConfirm {
        /// Master name.
        master: String,
        /// The asked sentinel's run id.
        runid: String,
        /// When the question was sent (the lease runs from there).
        sent: crate::Millis,
    },
    /// `SENTINEL VIP <master>` sent to peer `runid` while waiting to take a VIP over: a Warden
    /// there that no longer holds it lets us claim at once.
    VipProbe {
        /// Master name.
        master: String,
        /// The asked sentinel's run id.
        runid: String,
    },
    /// The fencing `CLIENT KILL` sent to the instance of `master` (see `sentinel/fence.rs`).
    Fence {
        /// Master name.
        master: String,
    },
    /// `FAILOVER TO ...` sent to the old master of `master` (coordinated switchover).
    Handover(String),
    /// `SENTINEL is-master-down-by-addr` sent about `master` to the sentinel `runid`.
    MasterDown {
        /// Master name.
        master: String,
        /// The asked sentinel's run id.
        runid: String,
        /// It asks for a vote (our run id, not `*`): the epoch it carries is adopted by the
        /// receiver, so it must be durable first. A plain question's epoch is ignored.
        vote: bool,
    },
}

/// Identifies one instance entry: a master, or one of its replicas or sentinels.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    /// The master `name` itself.
    Master(String),
    /// Replica `ip:port` of master `name`.
    Replica(String, String, u16),
    /// Sentinel `runid` of master `name`.
    Sentinel(String, String),
}

/// One open connection of a link.
#[derive(Debug, Clone)]
pub struct Conn {
    /// Driver-visible id.
    pub id: LinkId,
    /// Replies still expected, oldest first.
    pub expect: VecDeque<Expect>,
}

/// The connections to one instance and their timing (Redis's `instanceLink`).
#[derive(Debug, Clone)]
pub struct Link {
    /// Command connection.
    pub cmd: Option<Conn>,
    /// Pub/sub connection (masters and replicas only).
    pub pubsub: Option<Conn>,
    /// Whether this link needs a pub/sub connection.
    pub wants_pubsub: bool,
    /// Number of instance entries sharing the link.
    pub refcount: u32,
    /// Commands sent and not yet answered on `cmd`.
    pub pending_commands: u32,
    /// When `cmd` was opened.
    pub cc_conn_time: Millis,
    /// When `pubsub` was opened.
    pub pc_conn_time: Millis,
    /// Last frame received on `pubsub`.
    pub pc_last_activity: Millis,
    /// Last valid PING reply (PONG, LOADING, MASTERDOWN).
    pub last_avail_time: Millis,
    /// Send time of the oldest unanswered PING (0 = none pending).
    pub act_ping_time: Millis,
    /// Last PING sent.
    pub last_ping_time: Millis,
    /// Last PING reply of any kind.
    pub last_pong_time: Millis,
    /// Last reconnection attempt.
    pub last_reconn_time: Millis,
    /// Local address of the command connection, once known.
    pub local_ip: Option<String>,
    /// The down-after of the master this link serves, if it is a master's link: the timer is
    /// woken the moment the master would become SDOWN.
    pub sdown_watch: Option<Millis>,
    /// The master or replica entry this (unshared) link belongs to, so a reply finds its
    /// instance without a walk over every master (`None` for peer-sentinel links).
    pub owner: Option<Target>,
}

impl Link {
    fn new(wants_pubsub: bool, now: Millis) -> Self {
        Link {
            cmd: None,
            pubsub: None,
            wants_pubsub,
            refcount: 1,
            pending_commands: 0,
            cc_conn_time: 0,
            pc_conn_time: 0,
            pc_last_activity: 0,
            last_avail_time: now,
            act_ping_time: now,
            last_ping_time: 0,
            last_pong_time: now,
            last_reconn_time: 0,
            local_ip: None,
            sdown_watch: None,
            owner: None,
        }
    }

    /// When an instance with `down_after` on this link becomes SDOWN without a reply: counted
    /// from the oldest unanswered PING, or from the last reply while disconnected.
    pub fn sdown_due(&self, down_after: Millis) -> Option<Millis> {
        let since = if self.act_ping_time != 0 {
            self.act_ping_time
        } else if self.disconnected() {
            self.last_avail_time
        } else {
            return None;
        };
        Some(since + down_after + 1)
    }

    /// `disconnected` in Redis terms: a needed connection is missing.
    pub fn disconnected(&self) -> bool {
        self.cmd.is_none() || (self.wants_pubsub && self.pubsub.is_none())
    }
}

/// All links, and the routing of driver connection ids to them.
#[derive(Debug, Default)]
pub struct Links {
    // Keyed by our own sequential ids: a fast hasher (these maps are hit on every reply and
    // every instance of every timer run).
    links: FxHashMap<LinkKey, Link>,
    conns: FxHashMap<LinkId, (LinkKey, LinkKind)>,
    next_key: LinkKey,
    next_conn: LinkId,
}

impl Links {
    /// Create a new unconnected link.
    pub fn create(&mut self, wants_pubsub: bool, now: Millis) -> LinkKey {
        self.next_key += 1;
        self.links
            .insert(self.next_key, Link::new(wants_pubsub, now));
        self.next_key
    }

    /// Add a reference to a shared link.
    pub fn share(&mut self, key: LinkKey) {
        if let Some(link) = self.links.get_mut(&key) {
            link.refcount += 1;
        }
    }

    /// Drop one reference; returns the connection ids to close if it was the last one.
    pub fn release(&mut self, key: LinkKey) -> Vec<LinkId> {
        let Some(link) = self.links.get_mut(&key) else {
            return Vec::new();
        };
        link.refcount = link.refcount.saturating_sub(1);
        if link.refcount > 0 {
            return Vec::new();
        }
        let link = self.links.remove(&key).expect("present");
        let ids: Vec<LinkId> = link
            .cmd
            .iter()
            .chain(link.pubsub.iter())
            .map(|c| c.id)
            .collect();
        for id in &ids {
            self.conns.remove(id);
        }
        ids
    }

    /// The link behind `key`.
    pub fn get(&self, key: LinkKey) -> Option<&Link> {
        self.links.get(&key)
    }

    /// Mutable access to the link behind `key`.
    pub fn get_mut(&mut self, key: LinkKey) -> Option<&mut Link> {
        self.links.get_mut(&key)
    }

    /// Open a new connection of `kind` on `key`; returns its driver id.
    pub fn open(&mut self, key: LinkKey, kind: LinkKind, now: Millis) -> LinkId {
        self.next_conn += 1;
        let id = self.next_conn;
        let conn = Conn {
            id,
            expect: VecDeque::new(),
        };
        if let Some(link) = self.links.get_mut(&key) {
            match kind {
                LinkKind::Cmd => {
                    link.cmd = Some(conn);
                    link.cc_conn_time = now;
                    link.pending_commands = 0;
                }
                LinkKind::PubSub => {
                    link.pubsub = Some(conn);
                    link.pc_conn_time = now;
                    link.pc_last_activity = now;
                }
            }
        }
        self.conns.insert(id, (key, kind));
        id
    }

    /// Forget connection `id` (closed by us or by the peer); returns whether it was known.
    pub fn drop_conn(&mut self, id: LinkId) -> bool {
        let Some((key, kind)) = self.conns.remove(&id) else {
            return false;
        };
        if let Some(link) = self.links.get_mut(&key) {
            match kind {
                LinkKind::Cmd => {
                    link.cmd = None;
                    link.pending_commands = 0;
                }
                LinkKind::PubSub => link.pubsub = None,
            }
        }
        true
    }

    /// Records which master or replica entry the link belongs to.
    pub fn set_owner(&mut self, key: LinkKey, owner: Target) {
        if let Some(link) = self.links.get_mut(&key) {
            link.owner = Some(owner);
        }
    }

    /// Sets (or clears) the down-after the link's SDOWN deadline is watched with.
    pub fn watch_sdown(&mut self, key: LinkKey, down_after: Option<Millis>) {
        if let Some(link) = self.links.get_mut(&key) {
            link.sdown_watch = down_after;
        }
    }

    /// Connection `id` broke: if no PING is unanswered, the broken command connection stands
    /// for an unanswered PING, so the down-after clock keeps running across the reconnection
    /// (Redis restarts it at the reconnection's PING). For a watched master link it runs from
    /// the last valid reply (Redis's rule while disconnected: a dead master is judged from its
    /// last sign of life, not from when this sentinel got to read the break — on a loaded host
    /// that took 100–200 ms in a mass kill; sentinels then differ by their ping phases, at most
    /// one master ping period), but from no earlier than half of down-after before the break,
    /// so a live master whose connections were killed has that long to answer the
    /// reconnection; other links count from the break. The connection is dropped. Returns when
    /// the master becomes SDOWN, for a watched master link.
    pub fn conn_lost(&mut self, id: LinkId, now: Millis) -> Option<Millis> {
        let (key, kind) = self.route(id)?;
        if let (Some(link), LinkKind::Cmd) = (self.links.get_mut(&key), kind) {
            if link.act_ping_time == 0 {
                let since = match link.sdown_watch {
                    Some(down_after) => {
                        link.last_avail_time.max(now.saturating_sub(down_after / 2))
                    }
                    None => now,
                };
                // 0 would mean "none pending".
                link.act_ping_time = since.max(1);
            }
        }
        self.drop_conn(id);
        let link = self.links.get(&key)?;
        link.sdown_due(link.sdown_watch?)
    }

    /// The link and kind a connection id belongs to.
    pub fn route(&self, id: LinkId) -> Option<(LinkKey, LinkKind)> {
        self.conns.get(&id).copied()
    }
}
