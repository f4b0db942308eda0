//! The TCP model: handshakes with SYN retransmission, ordered delivery per direction, segments
//! held while a path is cut and retransmitted when it heals, connections that break (simulated
//! loss, user timeout, peer reset) and the client-side inputs all this produces.

use super::{Ev, World, SENTINEL_PORT};
use crate::link::{Dir, Endpoint, Link, Route, Segment, State};
use crate::scenario::Time;
use crate::trace::Detail;
use bytes::Bytes;
use warden_core::{Input, LinkId, LinkKind};

/// SYN (re)transmission times after `connect()`, as Linux does (1 s initial RTO, doubling).
const SYN_SCHEDULE_MS: [Time; 7] = [0, 1_000, 3_000, 7_000, 15_000, 31_000, 63_000];
/// `connect()` gives up this long after the first SYN.
const CONNECT_TIMEOUT_MS: Time = 127_000;

impl World {
    fn resolve(&self, host: &str, port: u16) -> Option<(usize, Endpoint, u32)> {
        let h = self.ips.iter().position(|ip| ip == host)?;
        match port {
            SENTINEL_PORT if h < self.nodes.len() => {
                Some((h, Endpoint::Sentinel(h), self.nodes[h].incarnation))
            }
            _ => {
                let r = *self.addr_index.get(&(h, port))?;
                Some((h, Endpoint::Redis(r), self.redis[r].incarnation))
            }
        }
    }

    fn target_up(&self, target: Endpoint) -> Option<u32> {
        match target {
            Endpoint::Redis(r) => self.redis[r].up.then_some(self.redis[r].incarnation),
            Endpoint::Sentinel(n) => self.nodes[n]
                .core
                .is_some()
                .then_some(self.nodes[n].incarnation),
        }
    }

    pub(super) fn connect(
        &mut self,
        node: usize,
        id: LinkId,
        kind: LinkKind,
        host: &str,
        port: u16,
    ) {
        let incarnation = self.nodes[node].incarnation;
        let src_host = self.nodes[node].host;
        let key = self.next_key;
        self.next_key += 1;
        let who = format!("s{node}");
        self.trace.log(Detail::Links, self.now, &who, || {
            format!("connect link {id} {kind:?} {host}:{port}")
        });
        if kind == LinkKind::Cmd {
            self.checker.connect_attempt(node, host, port);
        }
        let resolved = self.resolve(host, port);
        let route = match resolved {
            Some((dst_host, target, target_incarnation)) => Route {
                src_host,
                dst_host,
                target,
                target_incarnation,
            },
            None => Route {
                src_host,
                dst_host: src_host,
                target: Endpoint::Sentinel(node),
                target_incarnation: 0,
            },
        };
        self.insert_link(key, Link::new(node, incarnation, id, kind, route));
        if self.by_id.insert((node, incarnation, id), key).is_some() {
            self.checker.report(
                self.now,
                Some(node),
                "link-id-reused",
                format!("link id {id} reused while open"),
            );
        }
        let open = self.open_links[node];
        let bound = 4 * (self.redis.len() + self.nodes.len()) + 16;
        if open == bound + 1 {
            self.checker.report(
                self.now,
                Some(node),
                "unbounded-links",
                format!("{open} open links"),
            );
        }
        if resolved.is_none() {
            self.break_link(key, "No route to host");
        } else {
            self.schedule(self.now, Ev::SynAttempt { key });
        }
    }

    pub(super) fn syn_attempt(&mut self, key: u64) {
        let Some(link) = self.links.get(&key) else {
            return;
        };
        let State::Connecting { attempt } = link.state else {
            return;
        };
        let (src, dst, target) = (link.src_host, link.dst_host, link.target);
        if self.net.open_both(src, dst) {
            let rtt = self.net.latency(src, dst, &mut self.rng)
                + self.net.latency(dst, src, &mut self.rng);
            match self.target_up(target) {
                Some(incarnation) => {
                    let now = self.now;
                    let Some(link) = self.links.get_mut(&key) else {
                        return;
                    };
                    link.state = State::Up;
                    link.target_incarnation = incarnation;
                    link.stream(Dir::ToClient).last_arrival = now + rtt;
                    self.schedule(now + rtt, Ev::Established { key });
                }
                None => {
                    if let Some(link) = self.links.get_mut(&key) {
                        link.state = State::Dying;
                        link.down_scheduled = true;
                    }
                    self.schedule(
                        self.now + rtt,
                        Ev::LinkDown {
                            key,
                            reason: "Connection refused".into(),
                        },
                    );
                }
            }
            return;
        }
        let next = attempt + 1;
        let Some(link) = self.links.get_mut(&key) else {
            return;
        };
        if next < SYN_SCHEDULE_MS.len() {
            link.state = State::Connecting { attempt: next };
            let wait = SYN_SCHEDULE_MS[next] - SYN_SCHEDULE_MS[attempt];
            self.schedule(self.now + wait, Ev::SynAttempt { key });
        } else {
            link.state = State::Dying;
            link.down_scheduled = true;
            let wait = CONNECT_TIMEOUT_MS - SYN_SCHEDULE_MS[attempt];
            self.schedule(
                self.now + wait,
                Ev::LinkDown {
                    key,
                    reason: "Connection timed out".into(),
                },
            );
        }
    }

    pub(super) fn established(&mut self, key: u64) {
        let Some(link) = self.links.get_mut(&key) else {
            return;
        };
        let (node, id, local_ip) = (link.node, link.id, self.ips[link.src_host].clone());
        let queued = std::mem::take(&mut link.preconnect);
        self.trace
            .log(Detail::Links, self.now, &format!("s{node}"), || {
                format!("link {id} up")
            });
        self.step(node, |c, now| {
            c.handle(Input::LinkUp { link: id, local_ip }, now)
        });
        for seg in queued {
            if self.links.get(&key).is_some_and(|l| l.state == State::Up) {
                self.transmit(key, Dir::ToServer, seg);
            }
        }
    }

    pub(super) fn send(&mut self, node: usize, id: LinkId, commands: Vec<Vec<Bytes>>) {
        let incarnation = self.nodes[node].incarnation;
        let Some(&key) = self.by_id.get(&(node, incarnation, id)) else {
            self.trace
                .log(Detail::Links, self.now, &format!("s{node}"), || {
                    format!("send on unknown link {id}")
                });
            return;
        };
        let Some(link) = self.links.get_mut(&key) else {
            return;
        };
        link.pending += commands.len();
        if link.pending > self.max_pending && !link.overflow_reported {
            link.overflow_reported = true;
            let detail = format!(
                "{} commands pending on link {id} ({:?})",
                link.pending, link.kind
            );
            self.checker
                .report(self.now, Some(node), "unbounded-pending", detail);
        }
        match link.state {
            State::Connecting { .. } => link.preconnect.push(Segment::Commands(commands)),
            State::Up => self.transmit(key, Dir::ToServer, Segment::Commands(commands)),
            State::Dying => {}
        }
    }

    /// Put `seg` on the wire in direction `dir`.
    pub(super) fn transmit(&mut self, key: u64, dir: Dir, seg: Segment) {
        let Some(link) = self.links.get(&key) else {
            return;
        };
        let (from, to) = link.hosts(dir);
        if !matches!(seg, Segment::Close(_)) && self.net.breaks(&mut self.rng) {
            self.break_link(key, "Connection reset by peer");
            return;
        }
        let latency = self.net.latency(from, to, &mut self.rng);
        let open = self.net.open(from, to);
        let (now, timeout) = (self.now, self.net.params().tcp_user_timeout_ms);
        let Some(link) = self.links.get_mut(&key) else {
            return;
        };
        let stream = link.stream(dir);
        if !open || !stream.stalled.is_empty() {
            stream.stalled.push_back(seg);
            if stream.stalled_since.is_none() {
                stream.stalled_since = Some(now);
                self.schedule(
                    now + timeout,
                    Ev::StallTimeout {
                        key,
                        dir,
                        since: now,
                    },
                );
            }
            return;
        }
        let arrival = (now + latency).max(stream.last_arrival);
        stream.last_arrival = arrival;
        self.schedule(arrival, Ev::Arrive { key, dir, seg });
    }

    /// Retransmit every held segment whose path is open again.
    pub(super) fn resume_stalled(&mut self) {
        let keys: Vec<u64> = self
            .links
            .iter()
            .filter(|(_, l)| l.has_stalled())
            .map(|(k, _)| *k)
            .collect();
        for key in keys {
            for dir in [Dir::ToServer, Dir::ToClient] {
                let Some(link) = self.links.get_mut(&key) else {
                    break;
                };
                let (from, to) = link.hosts(dir);
                if !self.net.open(from, to) {
                    continue;
                }
                let stream = link.stream(dir);
                stream.stalled_since = None;
                let held: Vec<Segment> = stream.stalled.drain(..).collect();
                for seg in held {
                    let latency = self.net.latency(from, to, &mut self.rng);
                    let Some(link) = self.links.get_mut(&key) else {
                        break;
                    };
                    let stream = link.stream(dir);
                    let arrival = (self.now + latency).max(stream.last_arrival);
                    stream.last_arrival = arrival;
                    self.schedule(arrival, Ev::Arrive { key, dir, seg });
                }
            }
        }
    }

    /// The connection breaks now (reset, timeout): the client hears about it once.
    pub(super) fn break_link(&mut self, key: u64, reason: &str) {
        let Some(link) = self.links.get_mut(&key) else {
            return;
        };
        if link.down_scheduled {
            return;
        }
        link.down_scheduled = true;
        link.state = State::Dying;
        let (from, to) = link.hosts(Dir::ToClient);
        let delay = self.net.latency(from, to, &mut self.rng);
        self.schedule(
            self.now + delay,
            Ev::LinkDown {
                key,
                reason: reason.into(),
            },
        );
    }

    /// The server side closes the connection: a FIN travels behind what was already sent.
    pub(super) fn server_close(&mut self, key: u64, reason: &str) {
        let Some(link) = self.links.get_mut(&key) else {
            return;
        };
        if link.state == State::Dying {
            return;
        }
        link.state = State::Dying;
        self.transmit(key, Dir::ToClient, Segment::Close(reason.into()));
    }

    pub(super) fn link_down(&mut self, key: u64, reason: String) {
        let Some(link) = self.remove_link(key) else {
            return;
        };
        self.by_id.remove(&(link.node, link.incarnation, link.id));
        if self.nodes[link.node].incarnation != link.incarnation {
            return;
        }
        let (node, id) = (link.node, link.id);
        self.trace
            .log(Detail::Links, self.now, &format!("s{node}"), || {
                format!("link {id} down: {reason}")
            });
        self.step(node, |c, now| {
            c.handle(Input::LinkDown { link: id, reason }, now)
        });
    }

    /// A segment reaches its receiver.
    pub(super) fn arrive(&mut self, key: u64, dir: Dir, seg: Segment) {
        let Some(link) = self.links.get(&key) else {
            return;
        };
        let (node, id, target) = (link.node, link.id, link.target);
        if self.trace.wants(Detail::Wire) {
            let (who, what) = match dir {
                Dir::ToServer => (
                    format!("{target:?}"),
                    format!("from s{node} link {id}: {}", describe(&seg)),
                ),
                Dir::ToClient => (
                    format!("s{node}"),
                    format!("link {id} from {target:?}: {}", describe(&seg)),
                ),
            };
            self.trace.log(Detail::Wire, self.now, &who, || what);
        }
        match (dir, seg) {
            (Dir::ToServer, Segment::Commands(commands)) => {
                if link.state != State::Up {
                    return;
                }
                match target {
                    Endpoint::Redis(r) => self.redis_serve(key, r, commands),
                    Endpoint::Sentinel(t) => self.sentinel_serve(key, t, commands),
                }
            }
            (Dir::ToClient, Segment::Replies(replies)) => {
                for reply in replies {
                    let Some(link) = self.links.get_mut(&key) else {
                        return;
                    };
                    link.pending = link.pending.saturating_sub(1);
                    if let Endpoint::Sentinel(peer) = target {
                        self.contact(node, peer);
                    }
                    self.step(node, |c, now| {
                        c.handle(Input::Reply { link: id, reply }, now)
                    });
                    if self.stop {
                        return;
                    }
                }
            }
            (Dir::ToClient, Segment::Message { channel, payload }) => {
                if let Some(sender) = self.hello_sender(&payload) {
                    self.contact(node, sender);
                }
                self.step(node, |c, now| {
                    c.handle(
                        Input::Message {
                            link: id,
                            channel,
                            payload,
                        },
                        now,
                    )
                });
            }
            (Dir::ToClient, Segment::Close(reason)) => self.link_down(key, reason),
            _ => {}
        }
    }

    /// The sentinel whose run id a hello payload carries (field 3).
    fn hello_sender(&self, payload: &[u8]) -> Option<usize> {
        let text = std::str::from_utf8(payload).ok()?;
        let runid = text.split(',').nth(2)?;
        self.nodes.iter().position(|n| n.myid == runid)
    }

    /// `node` just heard from `peer` (evidence used by the VIP lease check).
    pub(super) fn contact(&mut self, node: usize, peer: usize) {
        if node != peer {
            let wall = self.wall(node) as i64;
            self.nodes[node].contact[peer] = Some(wall);
        }
    }
}

/// A one-line rendering of a segment for the wire-level trace.
fn describe(seg: &Segment) -> String {
    let words = |cmd: &Vec<Bytes>| {
        cmd.iter()
            .map(|w| String::from_utf8_lossy(w).into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    };
    match seg {
        Segment::Commands(cmds) => cmds.iter().map(words).collect::<Vec<_>>().join(" | "),
        Segment::Replies(replies) => replies
            .iter()
            .map(|r| match r.as_str() {
                Some(text) if text.len() > 60 => {
                    format!("\"{}...\"", text.chars().take(60).collect::<String>())
                }
                Some(text) => format!("{text:?}"),
                None => format!("{r:?}"),
            })
            .collect::<Vec<_>>()
            .join(" | "),
        Segment::Message { payload, .. } => format!("message {}", String::from_utf8_lossy(payload)),
        Segment::Close(reason) => format!("closed: {reason}"),
    }
}
