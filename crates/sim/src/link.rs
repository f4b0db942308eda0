//! One simulated TCP connection opened by a sentinel: two ordered, reliable byte streams that
//! can stall (segments held while the path is cut, retransmitted when it heals) and break.

use crate::scenario::Time;
use bytes::Bytes;
use std::collections::VecDeque;
use warden_core::{LinkId, LinkKind, Reply};

/// What a connection is attached to on the server side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Endpoint {
    /// A Redis instance (index into the world's instances).
    Redis(usize),
    /// Another sentinel's listener (index into the world's nodes).
    Sentinel(usize),
}

/// Direction of a stream within a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    /// Client (the sentinel that opened the link) to server.
    ToServer,
    /// Server to client.
    ToClient,
}

impl Dir {
    fn index(self) -> usize {
        match self {
            Dir::ToServer => 0,
            Dir::ToClient => 1,
        }
    }
}

/// A unit carried by a stream; each is delivered whole and in order.
#[derive(Debug, Clone)]
pub enum Segment {
    /// Pipelined commands.
    Commands(Vec<Vec<Bytes>>),
    /// Replies, one per command, in order.
    Replies(Vec<Reply>),
    /// A message published on a subscribed channel.
    Message {
        /// Channel name.
        channel: Bytes,
        /// Payload.
        payload: Bytes,
    },
    /// The server closed the connection (FIN/RST); the reason is reported to the client.
    Close(String),
}

/// One direction of a connection.
#[derive(Debug, Default)]
pub struct Stream {
    /// Arrival time of the last segment scheduled: later segments never arrive earlier.
    pub last_arrival: Time,
    /// Segments waiting for a cut path to heal, oldest first.
    pub stalled: VecDeque<Segment>,
    /// When the oldest stalled segment was sent (drives the TCP user timeout).
    pub stalled_since: Option<Time>,
}

/// Lifecycle of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// SYN sent; `attempt` retransmissions so far.
    Connecting {
        /// Number of SYN attempts made.
        attempt: usize,
    },
    /// Established on the server side (the client hears about it one round trip later).
    Up,
    /// Broken or closed by the server: the client will get `LinkDown`; no new traffic.
    Dying,
}

/// A connection as the world tracks it.
#[derive(Debug)]
pub struct Link {
    /// The sentinel that opened it.
    pub node: usize,
    /// That sentinel's incarnation (a restart abandons every link of the old process).
    pub incarnation: u32,
    /// The core's name for it.
    pub id: LinkId,
    /// Cmd or PubSub.
    pub kind: LinkKind,
    /// Client host.
    pub src_host: usize,
    /// Server host.
    pub dst_host: usize,
    /// What it is connected to.
    pub target: Endpoint,
    /// The server process incarnation it reached (a restarted server resets it).
    pub target_incarnation: u32,
    /// Lifecycle.
    pub state: State,
    /// Commands sent before the handshake finished (hiredis queues them).
    pub preconnect: Vec<Segment>,
    streams: [Stream; 2],
    /// Commands sent whose replies the client has not received yet.
    pub pending: usize,
    /// Whether the server side has subscribed this connection to `__sentinel__:hello`.
    pub subscribed: bool,
    /// Commands queued inside MULTI on the server side.
    pub multi: Option<Vec<Vec<Bytes>>>,
    /// Whether the unbounded-queue violation was already reported for it.
    pub overflow_reported: bool,
    /// Whether the client's `LinkDown` is already on its way.
    pub down_scheduled: bool,
}

/// Where a connection's endpoints and target are, for [`Link::new`].
#[derive(Debug, Clone, Copy)]
pub struct Route {
    /// Client host.
    pub src_host: usize,
    /// Server host.
    pub dst_host: usize,
    /// Server process.
    pub target: Endpoint,
    /// Server process incarnation at connect time.
    pub target_incarnation: u32,
}

impl Link {
    /// A connection being opened by `node` (incarnation `incarnation`) as `id`.
    pub fn new(node: usize, incarnation: u32, id: LinkId, kind: LinkKind, route: Route) -> Link {
        Link {
            node,
            incarnation,
            id,
            kind,
            src_host: route.src_host,
            dst_host: route.dst_host,
            target: route.target,
            target_incarnation: route.target_incarnation,
            state: State::Connecting { attempt: 0 },
            preconnect: Vec::new(),
            streams: [Stream::default(), Stream::default()],
            pending: 0,
            subscribed: false,
            multi: None,
            overflow_reported: false,
            down_scheduled: false,
        }
    }

    /// The stream in direction `dir`.
    pub fn stream(&mut self, dir: Dir) -> &mut Stream {
        &mut self.streams[dir.index()]
    }

    /// (sender host, receiver host) for direction `dir`.
    pub fn hosts(&self, dir: Dir) -> (usize, usize) {
        match dir {
            Dir::ToServer => (self.src_host, self.dst_host),
            Dir::ToClient => (self.dst_host, self.src_host),
        }
    }

    /// Whether any stream holds stalled segments.
    pub fn has_stalled(&self) -> bool {
        self.streams.iter().any(|s| !s.stalled.is_empty())
    }
}
