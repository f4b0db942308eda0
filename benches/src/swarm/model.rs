//! The simulated Redis instances of a swarm: roles, replication (simulated: a replica follows its
//! master's offset once its link is up), pub/sub, a few keys, per-command counters and the
//! `INFO` text Sentinel parses. Pure state; the sockets are in [`super::server`].
//!
//! (The simulator's model in `warden-sim` rebuilds a master's replica list by scanning every
//! instance at each `INFO`, which does not scale to thousands of instances, and is tied to the
//! simulator's virtual clock and network; this one keeps each master's followers.)

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use tokio::sync::mpsc::UnboundedSender;

use super::resp::Reply;

/// How long after `REPLICAOF` a replica reports its link to the new master up (a short sync).
pub const LINK_DELAY: Duration = Duration::from_millis(100);
/// Most keys one instance keeps (the bench writes one key per shard).
const MAX_KEYS: usize = 64;
/// Replication bytes a master produces per millisecond (its offset grows with time).
const OFFSET_PER_MS: u128 = 8;

/// Command kinds counted for `INFO commandstats`, as Redis names them.
pub const KINDS: [&str; 18] = [
    "ping",
    "info",
    "publish",
    "subscribe",
    "psubscribe",
    "unsubscribe",
    "role",
    "replicaof",
    "slaveof",
    "multi",
    "exec",
    "config",
    "client",
    "set",
    "get",
    "auth",
    "script",
    "other",
];

/// Replication role.
#[derive(Clone, Debug, PartialEq)]
enum Role {
    Master,
    /// Replicates from `port` on 127.0.0.1 (or `host`, outside the swarm: never up) since `since`.
    Replica {
        host: String,
        port: u16,
        since: Instant,
    },
}

/// One subscription of one connection.
struct Subscription {
    conn: u64,
    pattern: bool,
    channel: Vec<u8>,
    tx: UnboundedSender<Vec<u8>>,
}

/// One simulated instance.
pub struct Instance {
    /// Its port on 127.0.0.1.
    pub port: u16,
    run_id: String,
    role: Role,
    /// When it was killed (`None`: running).
    pub killed_at: Option<Instant>,
    /// Instances that were told to replicate from this one.
    followers: Vec<usize>,
    calls: [u64; KINDS.len()],
    keys: HashMap<Vec<u8>, Vec<u8>>,
    subscriptions: Vec<Subscription>,
}

/// Per-connection state a command may change.
pub struct Conn {
    /// Unique id (to drop its subscriptions when it closes).
    pub id: u64,
    /// Open `MULTI` queue.
    pub multi: Option<Vec<Vec<Vec<u8>>>>,
    /// Channels and patterns subscribed to (replies change shape in that mode).
    pub subscriptions: usize,
    /// Where pushed messages go.
    pub tx: UnboundedSender<Vec<u8>>,
}

/// What a command asks the server to do besides replying.
#[derive(Debug, PartialEq)]
pub enum Effect {
    /// Nothing.
    None,
    /// Kill this instance (`SHUTDOWN`, `DEBUG SEGFAULT`).
    Kill,
}

/// Every instance of the swarm.
pub struct Swarm {
    instances: Vec<Instance>,
    by_port: HashMap<u16, usize>,
    start: Instant,
}

impl Swarm {
    /// A master on each pair's first port with a replica (in sync) on its second.
    pub fn new(pairs: &[(u16, u16)]) -> Swarm {
        let start = Instant::now();
        let mut swarm = Swarm {
            instances: Vec::with_capacity(pairs.len() * 2),
            by_port: HashMap::with_capacity(pairs.len() * 2),
            start,
        };
        for (i, &(master, replica)) in pairs.iter().enumerate() {
            swarm.add(master, Role::Master, i as u64 * 2);
            let since = start.checked_sub(LINK_DELAY).unwrap_or(start);
            let r = swarm.add(
                replica,
                Role::Replica {
                    host: "127.0.0.1".into(),
                    port: master,
                    since,
                },
                i as u64 * 2 + 1,
            );
            let m = swarm.by_port[&master];
            swarm.instances[m].followers.push(r);
        }
        swarm
    }

    fn add(&mut self, port: u16, role: Role, n: u64) -> usize {
        let index = self.instances.len();
        self.instances.push(Instance {
            port,
            // Distinct, stable, 40 hex digits.
            run_id: format!(
                "{:016x}{:024x}",
                0x5a5a_0000_0000_0000u64 | n,
                port as u64 * 7919
            ),
            role,
            killed_at: None,
            followers: Vec::new(),
            calls: [0; KINDS.len()],
            keys: HashMap::new(),
            subscriptions: Vec::new(),
        });
        self.by_port.insert(port, index);
        index
    }

    /// Every instance's port, in order (masters and replicas interleaved).
    pub fn ports(&self) -> Vec<u16> {
        self.instances.iter().map(|i| i.port).collect()
    }

    /// The index of the instance on `port`.
    pub fn index(&self, port: u16) -> Option<usize> {
        self.by_port.get(&port).copied()
    }

    /// Whether instance `i` is running.
    pub fn alive(&self, i: usize) -> bool {
        self.instances[i].killed_at.is_none()
    }

    /// Marks instance `i` killed (its subscriptions go with its connections).
    pub fn kill(&mut self, i: usize, now: Instant) {
        let inst = &mut self.instances[i];
        if inst.killed_at.is_none() {
            inst.killed_at = Some(now);
            inst.subscriptions.clear();
        }
    }

    /// Forgets the subscriptions of connection `conn` of instance `i` (it closed).
    pub fn closed(&mut self, i: usize, conn: u64) {
        self.instances[i].subscriptions.retain(|s| s.conn != conn);
    }

    fn offset(&self, at: Instant) -> u64 {
        (at.saturating_duration_since(self.start).as_millis() * OFFSET_PER_MS) as u64
    }

    /// Whether replica `i`'s link is up, and else since when it is down.
    fn link(&self, i: usize, now: Instant) -> Result<(), Instant> {
        let Role::Replica { host, port, since } = &self.instances[i].role else {
            return Err(now);
        };
        let master = (host == "127.0.0.1" || host == "localhost")
            .then(|| self.index(*port))
            .flatten()
            .map(|m| &self.instances[m]);
        match master {
            Some(m) if m.killed_at.is_some() => Err(m.killed_at.unwrap_or(now).max(*since)),
            Some(m) if m.role == Role::Master && now >= *since + LINK_DELAY => Ok(()),
            _ => Err(*since),
        }
    }

    /// Runs one command from connection `conn` of instance `me`.
    pub fn execute(
        &mut self,
        me: usize,
        conn: &mut Conn,
        cmd: &[Vec<u8>],
        now: Instant,
    ) -> (Reply, Effect) {
        let Some(name) = cmd.first().map(|w| upper(w)) else {
            return (Reply::err("ERR empty command"), Effect::None);
        };
        if let Some(queue) = conn.multi.as_mut() {
            match name.as_str() {
                "EXEC" | "DISCARD" | "MULTI" => {}
                _ => {
                    queue.push(cmd.to_vec());
                    return (Reply::Status("QUEUED".into()), Effect::None);
                }
            }
        }
        let kind = KINDS
            .iter()
            .position(|k| k.eq_ignore_ascii_case(&name))
            .unwrap_or(KINDS.len() - 1);
        let reply = self.run(me, conn, &name, cmd, now);
        self.instances[me].calls[kind] += 1;
        reply
    }

    fn run(
        &mut self,
        me: usize,
        conn: &mut Conn,
        name: &str,
        cmd: &[Vec<u8>],
        now: Instant,
    ) -> (Reply, Effect) {
        let arg = |i: usize| cmd.get(i).map(|w| upper(w)).unwrap_or_default();
        let reply = match name {
            "PING" if conn.subscriptions > 0 => {
                Reply::Array(vec![Reply::bulk("pong"), Reply::bulk("")])
            }
            "PING" => Reply::Status("PONG".into()),
            "ECHO" if cmd.len() == 2 => Reply::Bulk(cmd[1].clone()),
            "AUTH" | "SELECT" => Reply::ok(),
            "INFO" => Reply::Bulk(
                self.info(me, &arg(1).to_ascii_lowercase(), now)
                    .into_bytes(),
            ),
            "ROLE" => self.role(me, now),
            "SLAVEOF" | "REPLICAOF" if cmd.len() == 3 => self.replicaof(me, cmd, now),
            "MULTI" => {
                if conn.multi.is_some() {
                    Reply::err("ERR MULTI calls can not be nested")
                } else {
                    conn.multi = Some(Vec::new());
                    Reply::ok()
                }
            }
            "DISCARD" => match conn.multi.take() {
                Some(_) => Reply::ok(),
                None => Reply::err("ERR DISCARD without MULTI"),
            },
            "EXEC" => match conn.multi.take() {
                None => Reply::err("ERR EXEC without MULTI"),
                Some(queued) => {
                    let mut replies = Vec::with_capacity(queued.len());
                    let mut effect = Effect::None;
                    for queued_cmd in &queued {
                        let (reply, e) = self.execute(me, conn, queued_cmd, now);
                        replies.push(reply);
                        if e == Effect::Kill {
                            effect = Effect::Kill;
                        }
                    }
                    return (Reply::Array(replies), effect);
                }
            },
            "CONFIG" => match arg(1).as_str() {
                "REWRITE" | "SET" | "RESETSTAT" => Reply::ok(),
                "GET" => Reply::Array(Vec::new()),
                _ => Reply::err("ERR unknown CONFIG subcommand"),
            },
            "CLIENT" => match arg(1).as_str() {
                "SETNAME" => Reply::ok(),
                "GETNAME" => Reply::Null,
                "ID" => Reply::Int(conn.id as i64),
                // Other connections are not closed (sentinels reconnect either way).
                "KILL" => Reply::Int(0),
                "LIST" | "INFO" => Reply::bulk(format!(
                    "id={} addr=127.0.0.1:0 name= db=0 cmd=client|list\n",
                    conn.id
                )),
                _ => Reply::ok(),
            },
            "PUBLISH" if cmd.len() == 3 => Reply::Int(self.publish(me, &cmd[1], &cmd[2])),
            "SUBSCRIBE" | "PSUBSCRIBE" if cmd.len() >= 2 => {
                let pattern = name == "PSUBSCRIBE";
                let mut replies = Vec::new();
                for channel in &cmd[1..] {
                    conn.subscriptions += 1;
                    self.instances[me].subscriptions.push(Subscription {
                        conn: conn.id,
                        pattern,
                        channel: channel.clone(),
                        tx: conn.tx.clone(),
                    });
                    replies.push(Reply::Array(vec![
                        Reply::bulk(name.to_ascii_lowercase()),
                        Reply::Bulk(channel.clone()),
                        Reply::Int(conn.subscriptions as i64),
                    ]));
                }
                Reply::Several(replies)
            }
            "UNSUBSCRIBE" | "PUNSUBSCRIBE" => {
                self.instances[me]
                    .subscriptions
                    .retain(|s| s.conn != conn.id);
                conn.subscriptions = 0;
                Reply::Array(vec![
                    Reply::bulk(name.to_ascii_lowercase()),
                    Reply::Null,
                    Reply::Int(0),
                ])
            }
            "SET" if cmd.len() >= 3 => {
                let inst = &mut self.instances[me];
                if inst.role != Role::Master {
                    Reply::err("READONLY You can't write against a read only replica.")
                } else {
                    if inst.keys.len() >= MAX_KEYS && !inst.keys.contains_key(&cmd[1]) {
                        inst.keys.clear();
                    }
                    inst.keys.insert(cmd[1].clone(), cmd[2].clone());
                    Reply::ok()
                }
            }
            "GET" if cmd.len() == 2 => self.instances[me]
                .keys
                .get(&cmd[1])
                .map_or(Reply::Null, |v| Reply::Bulk(v.clone())),
            "SCRIPT" => Reply::err("NOTBUSY No scripts in execution right now."),
            "SHUTDOWN" => return (Reply::ok(), Effect::Kill),
            "DEBUG" if arg(1) == "SEGFAULT" => return (Reply::ok(), Effect::Kill),
            "DEBUG" => Reply::ok(),
            "COMMAND" => Reply::Array(Vec::new()),
            "SLAVEOF" | "REPLICAOF" | "ECHO" | "PUBLISH" | "SUBSCRIBE" | "PSUBSCRIBE" | "SET"
            | "GET" => Reply::err(format!(
                "ERR wrong number of arguments for '{}' command",
                name.to_ascii_lowercase()
            )),
            _ => Reply::err(format!(
                "ERR unknown command '{}', with args beginning with: ",
                String::from_utf8_lossy(&cmd[0])
            )),
        };
        (reply, Effect::None)
    }

    fn publish(&mut self, me: usize, channel: &[u8], payload: &[u8]) -> i64 {
        let mut delivered = 0;
        for s in &self.instances[me].subscriptions {
            let message = if s.pattern {
                if !glob(&s.channel, channel) {
                    continue;
                }
                warden_integration::resp::encode_command(&[
                    b"pmessage",
                    &s.channel[..],
                    channel,
                    payload,
                ])
            } else {
                if s.channel != channel {
                    continue;
                }
                warden_integration::resp::encode_command(&[&b"message"[..], channel, payload])
            };
            if s.tx.send(message).is_ok() {
                delivered += 1;
            }
        }
        delivered
    }

    fn replicaof(&mut self, me: usize, cmd: &[Vec<u8>], now: Instant) -> Reply {
        let old = match &self.instances[me].role {
            Role::Replica { host, port, .. } if host == "127.0.0.1" => self.index(*port),
            _ => None,
        };
        let unfollow = |swarm: &mut Swarm| {
            if let Some(m) = old {
                swarm.instances[m].followers.retain(|&f| f != me);
            }
        };
        if upper(&cmd[1]) == "NO" && upper(&cmd[2]) == "ONE" {
            unfollow(self);
            self.instances[me].role = Role::Master;
            return Reply::ok();
        }
        let host = String::from_utf8_lossy(&cmd[1]).into_owned();
        let Some(port) = std::str::from_utf8(&cmd[2])
            .ok()
            .and_then(|p| p.parse::<u16>().ok())
        else {
            return Reply::err("ERR value is not an integer or out of range");
        };
        if matches!(&self.instances[me].role, Role::Replica { host: h, port: p, .. } if *h == host && *p == port)
        {
            return Reply::Status("OK Already connected to specified master".into());
        }
        unfollow(self);
        self.instances[me].role = Role::Replica {
            host: host.clone(),
            port,
            since: now,
        };
        if host == "127.0.0.1" || host == "localhost" {
            if let Some(m) = self.index(port) {
                self.instances[m].followers.push(me);
            }
        }
        Reply::ok()
    }

    fn role(&self, me: usize, now: Instant) -> Reply {
        let inst = &self.instances[me];
        match &inst.role {
            Role::Master => Reply::Array(vec![
                Reply::bulk("master"),
                Reply::Int(self.offset(now) as i64),
                Reply::Array(
                    self.online_followers(me, now)
                        .map(|f| {
                            Reply::Array(vec![
                                Reply::bulk("127.0.0.1"),
                                Reply::bulk(self.instances[f].port.to_string()),
                                Reply::bulk(self.offset(now).to_string()),
                            ])
                        })
                        .collect(),
                ),
            ]),
            Role::Replica { host, port, .. } => {
                let link = self.link(me, now);
                Reply::Array(vec![
                    Reply::bulk("slave"),
                    Reply::bulk(host),
                    Reply::Int(i64::from(*port)),
                    Reply::bulk(if link.is_ok() { "connected" } else { "connect" }),
                    Reply::Int(self.offset(link.err().unwrap_or(now)) as i64),
                ])
            }
        }
    }

    fn online_followers(&self, me: usize, now: Instant) -> impl Iterator<Item = usize> + '_ {
        self.instances[me]
            .followers
            .iter()
            .copied()
            .filter(move |&f| self.alive(f) && self.link(f, now).is_ok())
    }

    /// The `INFO` text for `section` (`""`: server and replication; `commandstats`; `all`).
    fn info(&self, me: usize, section: &str, now: Instant) -> String {
        let inst = &self.instances[me];
        let all = matches!(section, "all" | "everything");
        let default = section.is_empty() || section == "default" || all;
        let mut s = String::new();
        if default || section == "server" {
            let _ = write!(
                s,
                "# Server\r\nredis_version:7.0.15\r\nredis_mode:standalone\r\nos:Linux (redis-swarm)\r\nprocess_id:{}\r\nrun_id:{}\r\ntcp_port:{}\r\nuptime_in_seconds:{}\r\nhz:10\r\n\r\n",
                std::process::id(),
                inst.run_id,
                inst.port,
                now.saturating_duration_since(self.start).as_secs()
            );
        }
        if default || section == "replication" {
            s.push_str("# Replication\r\n");
            let offset;
            match &inst.role {
                Role::Master => {
                    offset = self.offset(now);
                    let online: Vec<usize> = self.online_followers(me, now).collect();
                    let _ = write!(s, "role:master\r\nconnected_slaves:{}\r\n", online.len());
                    for (n, f) in online.iter().enumerate() {
                        let _ = write!(
                            s,
                            "slave{n}:ip=127.0.0.1,port={},state=online,offset={offset},lag=0\r\n",
                            self.instances[*f].port
                        );
                    }
                }
                Role::Replica { host, port, .. } => {
                    let link = self.link(me, now);
                    offset = self.offset(link.err().unwrap_or(now));
                    let _ = write!(
                        s,
                        "role:slave\r\nmaster_host:{host}\r\nmaster_port:{port}\r\nmaster_link_status:{}\r\nmaster_last_io_seconds_ago:{}\r\nmaster_sync_in_progress:0\r\nslave_read_repl_offset:{offset}\r\nslave_repl_offset:{offset}\r\n",
                        if link.is_ok() { "up" } else { "down" },
                        if link.is_ok() { 0 } else { -1 },
                    );
                    if let Err(since) = link {
                        let _ = write!(
                            s,
                            "master_link_down_since_seconds:{}\r\n",
                            now.saturating_duration_since(since).as_secs()
                        );
                    }
                    s.push_str("slave_priority:100\r\nslave_read_only:1\r\nreplica_announced:1\r\nconnected_slaves:0\r\n");
                }
            }
            let _ = write!(
                s,
                "master_failover_state:no-failover\r\nmaster_replid:{}\r\nmaster_replid2:0000000000000000000000000000000000000000\r\nmaster_repl_offset:{offset}\r\nsecond_repl_offset:-1\r\nrepl_backlog_active:1\r\nrepl_backlog_size:1048576\r\nrepl_backlog_first_byte_offset:1\r\nrepl_backlog_histlen:{offset}\r\n\r\n",
                inst.run_id
            );
        }
        if all || section == "commandstats" {
            s.push_str("# Commandstats\r\n");
            for (kind, calls) in KINDS.iter().zip(inst.calls) {
                if calls > 0 {
                    let _ = write!(
                        s,
                        "cmdstat_{kind}:calls={calls},usec=0,usec_per_call=0.00,rejected_calls=0,failed_calls=0\r\n"
                    );
                }
            }
            s.push_str("\r\n");
        }
        s
    }
}

fn upper(word: &[u8]) -> String {
    String::from_utf8_lossy(word).to_ascii_uppercase()
}

/// Redis-style glob match of `text` against `pattern` (`*`, `?`, `\x`; no classes).
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some((b'*', rest)) => (0..=text.len()).any(|i| glob(rest, &text[i..])),
        Some((b'?', rest)) => !text.is_empty() && glob(rest, &text[1..]),
        Some((b'\\', rest)) if !rest.is_empty() => {
            text.first() == rest.first() && glob(&rest[1..], &text[1..])
        }
        Some((c, rest)) => text.first() == Some(c) && glob(rest, &text[1..]),
    }
}
