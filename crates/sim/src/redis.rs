//! Simulated Redis servers: role, replication link and offsets, `SLAVEOF`, `MULTI`/`EXEC`,
//! `CONFIG REWRITE` (what a restart boots from), pub/sub and a realistic `INFO` text.

use crate::net::Net;
use crate::scenario::Time;
use bytes::Bytes;
use rand::rngs::SmallRng;
use rand::Rng;
use std::fmt::Write as _;
use warden_core::Reply;

/// The channel sentinels publish hellos on.
pub const HELLO_CHANNEL: &[u8] = b"__sentinel__:hello";

/// Replication role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// Accepts writes.
    Master,
    /// Replicates from `host:port`.
    Replica {
        /// Master host.
        host: String,
        /// Master port.
        port: u16,
    },
}

/// One Redis server process (and its config file, which outlives it).
#[derive(Debug)]
pub struct Redis {
    /// Host it runs on.
    pub host: usize,
    /// Its address.
    pub ip: String,
    /// Its port.
    pub port: u16,
    /// Whether the process is running.
    pub up: bool,
    /// Bumped at every restart; connections to an older incarnation are dead.
    pub incarnation: u32,
    /// `run_id`, new at every start.
    pub run_id: String,
    /// Current role.
    pub role: Role,
    /// Role in the config file (written by `CONFIG REWRITE`), used at restart.
    pub saved_role: Role,
    /// Replication offset.
    pub offset: u64,
    /// Replication link to the master is up.
    pub link_up: bool,
    /// When the replication link went down (None: never up since start).
    pub link_down_since: Option<Time>,
    /// When an ongoing (re)sync completes.
    pub sync_ready_at: Option<Time>,
    /// `replica-priority`.
    pub priority: u32,
    /// Start time of the current process.
    pub started_at: Time,
    /// Until then the data set is still loading: `PING` answers `-LOADING`.
    pub loading_until: Time,
    /// Indices of the instances it may replicate with (its shard; all by default), so that
    /// replication and `INFO` look at a handful of instances, not the whole fleet.
    pub peers: std::ops::Range<usize>,
}

/// Side effects of a command on the rest of the world.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Deliver to every subscriber of `channel` on this instance.
    Publish {
        /// Channel.
        channel: Bytes,
        /// Payload.
        payload: Bytes,
    },
    /// Close every other connection of this kind (`CLIENT KILL TYPE normal|pubsub`).
    Kill {
        /// `true` for pub/sub connections, `false` for normal ones.
        pubsub: bool,
    },
    /// The role changed (for the trace).
    RoleChanged(String),
}

/// Per-connection server state a command may change.
pub struct Conn<'a> {
    /// Subscribed to the hello channel.
    pub subscribed: &'a mut bool,
    /// Open MULTI queue.
    pub multi: &'a mut Option<Vec<Vec<Bytes>>>,
}

/// A fresh 40-hex-digit run id.
pub fn random_id(rng: &mut SmallRng) -> String {
    (0..40)
        .map(|_| char::from_digit(rng.gen_range(0..16), 16).unwrap_or('0'))
        .collect()
}

impl Redis {
    /// A running instance.
    pub fn new(host: usize, ip: String, role: Role, priority: u32, rng: &mut SmallRng) -> Redis {
        Redis {
            host,
            ip,
            port: 6379,
            up: true,
            incarnation: 0,
            run_id: random_id(rng),
            saved_role: role.clone(),
            role,
            offset: 0,
            link_up: false,
            link_down_since: None,
            sync_ready_at: None,
            priority,
            started_at: 0,
            loading_until: 0,
            peers: 0..usize::MAX,
        }
    }

    /// Kill the process.
    pub fn crash(&mut self) {
        self.up = false;
    }

    /// Start the process again from its config file; the data set (offset) survives on disk.
    pub fn restart(&mut self, now: Time, rng: &mut SmallRng) {
        self.up = true;
        self.incarnation += 1;
        self.run_id = random_id(rng);
        self.role = self.saved_role.clone();
        self.link_up = false;
        self.link_down_since = None;
        self.sync_ready_at = None;
        self.started_at = now;
        self.loading_until = now + rng.gen_range(0..500);
    }

    /// `peers`, within `0..len`.
    fn peer_range(&self, len: usize) -> std::ops::Range<usize> {
        self.peers.start.min(len)..self.peers.end.min(len)
    }

    fn replicates_from(&self, ip: &str, port: u16) -> bool {
        matches!(&self.role, Role::Replica { host, port: p } if host == ip && *p == port)
    }
}

fn upper(word: &[u8]) -> String {
    String::from_utf8_lossy(word).to_ascii_uppercase()
}

fn arity() -> Reply {
    Reply::err("ERR wrong number of arguments")
}

/// Execute one command from a client connection on instance `me`.
pub fn execute(
    instances: &mut [Redis],
    me: usize,
    conn: Conn<'_>,
    cmd: &[Bytes],
    now: Time,
    effects: &mut Vec<Effect>,
) -> Reply {
    let Some(name) = cmd.first().map(|w| upper(w)) else {
        return Reply::err("ERR empty command");
    };
    if let Some(queue) = conn.multi.as_mut() {
        match name.as_str() {
            "EXEC" => {}
            "DISCARD" => {
                *conn.multi = None;
                return Reply::ok();
            }
            "MULTI" => return Reply::err("ERR MULTI calls can not be nested"),
            _ => {
                queue.push(cmd.to_vec());
                return Reply::Status("QUEUED".into());
            }
        }
    }
    match name.as_str() {
        "PING" if now < instances[me].loading_until => {
            Reply::err("LOADING Redis is loading the dataset in memory")
        }
        "PING" => Reply::Status("PONG".into()),
        "AUTH" => Reply::err(
            "ERR AUTH <password> called without any password configured for the default user. \
             Are you sure your configuration is correct?",
        ),
        "CLIENT" => client(cmd, effects),
        "INFO" => Reply::bulk(info(instances, me, now)),
        "PUBLISH" => {
            if cmd.len() != 3 {
                return arity();
            }
            effects.push(Effect::Publish {
                channel: cmd[1].clone(),
                payload: cmd[2].clone(),
            });
            // The count is filled in by the world, which knows the subscribers.
            Reply::Int(0)
        }
        "SUBSCRIBE" => {
            if cmd.len() < 2 {
                return arity();
            }
            if cmd[1..].iter().any(|c| c.as_ref() == HELLO_CHANNEL) {
                *conn.subscribed = true;
            }
            Reply::Array(vec![
                Reply::bulk("subscribe"),
                Reply::Bulk(cmd[1].clone()),
                Reply::Int(1),
            ])
        }
        "MULTI" => {
            *conn.multi = Some(Vec::new());
            Reply::ok()
        }
        "EXEC" => match conn.multi.take() {
            None => Reply::err("ERR EXEC without MULTI"),
            Some(queued) => {
                let mut replies = Vec::with_capacity(queued.len());
                for queued_cmd in &queued {
                    let inner = Conn {
                        subscribed: &mut *conn.subscribed,
                        multi: &mut None,
                    };
                    replies.push(execute(instances, me, inner, queued_cmd, now, effects));
                }
                Reply::Array(replies)
            }
        },
        "DISCARD" => Reply::err("ERR DISCARD without MULTI"),
        "SLAVEOF" | "REPLICAOF" => slaveof(&mut instances[me], cmd, now, effects),
        "CONFIG" => {
            if cmd.get(1).map(|w| upper(w)).as_deref() == Some("REWRITE") {
                let inst = &mut instances[me];
                inst.saved_role = inst.role.clone();
                Reply::ok()
            } else {
                Reply::err("ERR unsupported CONFIG subcommand in the simulator")
            }
        }
        "SCRIPT" => Reply::err("NOTBUSY No scripts in execution right now."),
        "ROLE" => role_reply(&instances[me]),
        _ => Reply::err(format!(
            "ERR unknown command '{}'",
            String::from_utf8_lossy(&cmd[0])
        )),
    }
}

fn client(cmd: &[Bytes], effects: &mut Vec<Effect>) -> Reply {
    match cmd.get(1).map(|w| upper(w)).as_deref() {
        Some("SETNAME") if cmd.len() == 3 => Reply::ok(),
        Some("KILL") if cmd.len() == 4 && upper(&cmd[2]) == "TYPE" => match upper(&cmd[3]).as_str()
        {
            "NORMAL" => {
                effects.push(Effect::Kill { pubsub: false });
                Reply::Int(0)
            }
            "PUBSUB" => {
                effects.push(Effect::Kill { pubsub: true });
                Reply::Int(0)
            }
            _ => Reply::err("ERR Unknown client type"),
        },
        _ => Reply::err("ERR unsupported CLIENT subcommand in the simulator"),
    }
}

fn slaveof(inst: &mut Redis, cmd: &[Bytes], now: Time, effects: &mut Vec<Effect>) -> Reply {
    if cmd.len() != 3 {
        return arity();
    }
    if upper(&cmd[1]) == "NO" && upper(&cmd[2]) == "ONE" {
        if inst.role != Role::Master {
            inst.role = Role::Master;
            inst.link_up = false;
            inst.link_down_since = None;
            inst.sync_ready_at = None;
            effects.push(Effect::RoleChanged("SLAVEOF NO ONE: now master".into()));
        }
        return Reply::ok();
    }
    let host = String::from_utf8_lossy(&cmd[1]).into_owned();
    let Some(port) = std::str::from_utf8(&cmd[2])
        .ok()
        .and_then(|p| p.parse::<u16>().ok())
    else {
        return Reply::err("ERR value is not an integer or out of range");
    };
    if inst.replicates_from(&host, port) {
        return Reply::Status("OK Already connected to specified master".into());
    }
    effects.push(Effect::RoleChanged(format!("SLAVEOF {host} {port}")));
    inst.role = Role::Replica { host, port };
    inst.link_up = false;
    inst.link_down_since = Some(now);
    inst.sync_ready_at = None;
    Reply::ok()
}

fn role_reply(inst: &Redis) -> Reply {
    match &inst.role {
        Role::Master => Reply::Array(vec![
            Reply::bulk("master"),
            Reply::Int(inst.offset as i64),
            Reply::Array(vec![]),
        ]),
        Role::Replica { host, port } => Reply::Array(vec![
            Reply::bulk("slave"),
            Reply::bulk(host),
            Reply::Int(i64::from(*port)),
            Reply::bulk(if inst.link_up { "connected" } else { "connect" }),
            Reply::Int(inst.offset as i64),
        ]),
    }
}

/// The `INFO` text of instance `me` (Server and Replication sections, CRLF line ends).
pub fn info(instances: &[Redis], me: usize, now: Time) -> String {
    let inst = &instances[me];
    let mut s = String::new();
    let _ = write!(
        s,
        "# Server\r\nredis_version:7.0.15\r\nredis_mode:standalone\r\nrun_id:{}\r\ntcp_port:{}\r\nuptime_in_seconds:{}\r\n\r\n# Persistence\r\nloading:{}\r\n\r\n# Replication\r\n",
        inst.run_id,
        inst.port,
        now.saturating_sub(inst.started_at) / 1000,
        u8::from(now < inst.loading_until)
    );
    match &inst.role {
        Role::Master => {
            let replicas: Vec<&Redis> = instances[inst.peer_range(instances.len())]
                .iter()
                .filter(|r| r.up && r.link_up && r.replicates_from(&inst.ip, inst.port))
                .collect();
            let _ = write!(s, "role:master\r\nconnected_slaves:{}\r\n", replicas.len());
            for (i, r) in replicas.iter().enumerate() {
                let _ = write!(
                    s,
                    "slave{i}:ip={},port={},state=online,offset={},lag=0\r\n",
                    r.ip, r.port, r.offset
                );
            }
        }
        Role::Replica { host, port } => {
            let _ = write!(
                s,
                "role:slave\r\nmaster_host:{host}\r\nmaster_port:{port}\r\nmaster_link_status:{}\r\nmaster_last_io_seconds_ago:{}\r\nmaster_sync_in_progress:{}\r\nslave_read_repl_offset:{}\r\nslave_repl_offset:{}\r\n",
                if inst.link_up { "up" } else { "down" },
                if inst.link_up { 0 } else { -1 },
                u8::from(inst.sync_ready_at.is_some()),
                inst.offset,
                inst.offset
            );
            if !inst.link_up {
                let since = inst
                    .link_down_since
                    .map_or(-1, |t| (now.saturating_sub(t) / 1000) as i64);
                let _ = write!(s, "master_link_down_since_seconds:{since}\r\n");
            }
            let _ = write!(
                s,
                "slave_priority:{}\r\nslave_read_only:1\r\nreplica_announced:1\r\nconnected_slaves:0\r\n",
                inst.priority
            );
        }
    }
    let _ = write!(
        s,
        "master_failover_state:no-failover\r\nmaster_replid:{}\r\nmaster_repl_offset:{}\r\n",
        inst.run_id, inst.offset
    );
    s
}

/// Advance replication by one cron step: masters take writes, replicas (re)sync when their
/// master is reachable and follow its offset, and notice when it is not.
pub fn cron(instances: &mut [Redis], net: &Net, now: Time, rng: &mut SmallRng) {
    for i in 0..instances.len() {
        if !instances[i].up {
            continue;
        }
        let Role::Replica { host, port } = instances[i].role.clone() else {
            instances[i].offset += rng.gen_range(0..200);
            continue;
        };
        let upstream = instances[instances[i].peer_range(instances.len())]
            .iter()
            .find(|r| r.ip == host && r.port == port)
            .filter(|r| {
                r.up && (r.role == Role::Master || r.link_up)
                    && net.open_both(instances[i].host, r.host)
            })
            .map(|r| r.offset);
        let inst = &mut instances[i];
        match upstream {
            Some(offset) if inst.link_up => inst.offset = offset,
            Some(offset) => match inst.sync_ready_at {
                None => inst.sync_ready_at = Some(now + rng.gen_range(100..1_500)),
                Some(ready) if now >= ready => {
                    inst.link_up = true;
                    inst.link_down_since = None;
                    inst.sync_ready_at = None;
                    inst.offset = offset;
                }
                Some(_) => {}
            },
            None => {
                if inst.link_up {
                    inst.link_up = false;
                    inst.link_down_since = Some(now);
                }
                inst.sync_ready_at = None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn pair() -> (Vec<Redis>, SmallRng) {
        let mut rng = SmallRng::seed_from_u64(1);
        let master = Redis::new(0, "10.0.0.1".into(), Role::Master, 100, &mut rng);
        let replica = Redis::new(
            1,
            "10.0.0.2".into(),
            Role::Replica {
                host: "10.0.0.1".into(),
                port: 6379,
            },
            100,
            &mut rng,
        );
        (vec![master, replica], rng)
    }

    fn cmd(words: &[&str]) -> Vec<Bytes> {
        words
            .iter()
            .map(|w| Bytes::copy_from_slice(w.as_bytes()))
            .collect()
    }

    fn run(
        instances: &mut [Redis],
        me: usize,
        words: &[&str],
        multi: &mut Option<Vec<Vec<Bytes>>>,
    ) -> Reply {
        let mut subscribed = false;
        let mut effects = Vec::new();
        execute(
            instances,
            me,
            Conn {
                subscribed: &mut subscribed,
                multi,
            },
            &cmd(words),
            0,
            &mut effects,
        )
    }

    #[test]
    fn replica_syncs_then_master_lists_it() {
        let (mut instances, mut rng) = pair();
        let net = Net::new(
            2,
            crate::scenario::NetParams {
                base_latency_ms: 0,
                jitter_ms: 0,
                break_per_million: 0,
                dup_per_million: 0,
                tcp_user_timeout_ms: 1,
            },
        );
        for t in (0..3_000).step_by(100) {
            cron(&mut instances, &net, t, &mut rng);
        }
        assert!(instances[1].link_up);
        let text = info(&instances, 0, 3_000);
        assert!(
            text.contains("slave0:ip=10.0.0.2,port=6379,state=online"),
            "{text}"
        );
        let text = info(&instances, 1, 3_000);
        assert!(
            text.contains("master_link_status:up") && !text.contains("master_link_down_since"),
            "{text}"
        );
    }

    #[test]
    fn multi_exec_promotes_and_rewrite_persists() {
        let (mut instances, mut rng) = pair();
        let mut multi = None;
        assert_eq!(run(&mut instances, 1, &["MULTI"], &mut multi), Reply::ok());
        assert_eq!(
            run(&mut instances, 1, &["SLAVEOF", "NO", "ONE"], &mut multi),
            Reply::Status("QUEUED".into())
        );
        run(&mut instances, 1, &["CONFIG", "REWRITE"], &mut multi);
        assert_eq!(
            instances[1].role,
            Role::Replica {
                host: "10.0.0.1".into(),
                port: 6379
            },
            "queued only"
        );
        let Reply::Array(replies) = run(&mut instances, 1, &["EXEC"], &mut multi) else {
            panic!("EXEC reply")
        };
        assert_eq!(replies.len(), 2);
        assert_eq!(instances[1].role, Role::Master);
        instances[1].crash();
        instances[1].restart(10, &mut rng);
        assert_eq!(
            instances[1].role,
            Role::Master,
            "rewritten config survives restart"
        );
        assert!(info(&instances, 1, 10).contains("role:master"));
    }
}
