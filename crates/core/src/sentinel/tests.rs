//! Scenario tests of the state machine with a simulated clock: the test plays every Redis
//! instance and peer sentinel by answering the core's actions by hand. The ones written as data
//! are in `tests/scenarios/*.scn`, run by `tests/scenario.rs`.

mod scenario;

use super::*;
use crate::config::VipConfig;
use crate::io::{LinkId, LinkKind};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

const MASTER_RUNID: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const R1_RUNID: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const R2_RUNID: &str = "cccccccccccccccccccccccccccccccccccccccc";
const PEER1: &str = "1111111111111111111111111111111111111111";
const PEER2: &str = "2222222222222222222222222222222222222222";

#[derive(Clone, Default)]
struct MemPersist(Arc<Mutex<Vec<SentinelConfig>>>);

impl Persist for MemPersist {
    fn save(
        &mut self,
        _generation: u64,
        state: SentinelConfig,
        _wait: bool,
    ) -> Result<Saved, String> {
        self.0.lock().unwrap().push(state);
        Ok(Saved::Durable)
    }
}

/// A connection as the test sees it.
#[derive(Debug, Clone)]
struct Conn {
    kind: LinkKind,
    port: u16,
}

struct Harness {
    s: Sentinel,
    now: Millis,
    conns: HashMap<LinkId, Conn>,
    /// Commands received per connection, not yet answered, oldest first.
    inbox: Vec<(LinkId, Vec<String>)>,
    events: Vec<(String, String)>,
    vips: Vec<Action>,
    saved: MemPersist,
}

fn master_cfg(quorum: u32) -> MasterConfig {
    let mut m = MasterConfig::new("mymaster", "127.0.0.1", 6379, quorum);
    m.down_after_ms = 1000;
    m.failover_timeout_ms = 10_000;
    m
}

impl Harness {
    fn new(master: MasterConfig) -> Harness {
        let saved = MemPersist::default();
        let cfg = SentinelConfig {
            myid: Some("f".repeat(40)),
            deny_scripts_reconfig: true,
            masters: vec![master],
            ..Default::default()
        };
        let s = Sentinel::new(
            cfg,
            Options::new(26379, None, 7),
            Box::new(saved.clone()),
            1_000_000,
        )
        .unwrap();
        let mut h = Harness {
            s,
            now: 1_000_000,
            conns: HashMap::new(),
            inbox: Vec::new(),
            events: Vec::new(),
            vips: Vec::new(),
            saved,
        };
        h.drain();
        h
    }

    fn drain(&mut self) {
        while let Some(a) = self.s.poll_action() {
            match a {
                Action::Connect {
                    link, kind, port, ..
                } => {
                    self.conns.insert(link, Conn { kind, port });
                    self.s.handle(
                        Input::LinkUp {
                            link,
                            local_ip: "127.0.0.1".into(),
                        },
                        self.now,
                    );
                }
                Action::Send { link, commands } => {
                    for c in commands {
                        let words = c
                            .iter()
                            .map(|w| String::from_utf8_lossy(w).into_owned())
                            .collect();
                        self.inbox.push((link, words));
                    }
                }
                Action::Close { link } => {
                    self.conns.remove(&link);
                    self.inbox.retain(|(l, _)| *l != link);
                }
                Action::Event(e) => self.events.push((e.kind, e.message)),
                Action::VipClaim { .. } | Action::VipRelease { .. } => self.vips.push(a),
                _ => {}
            }
        }
    }

    fn tick(&mut self, ms: Millis) {
        self.now += ms;
        self.s.tick(self.now);
        self.drain();
    }

    /// `n` timer runs 100 ms apart, every instance answering as a healthy one.
    fn healthy_ticks(&mut self, n: usize) {
        self.ticks(n, healthy);
    }

    /// `n` timer runs 100 ms apart, each followed by `answer` for what is pending.
    fn ticks(
        &mut self,
        n: usize,
        mut answer: impl FnMut(u16, LinkKind, &[String]) -> Option<Reply>,
    ) {
        for _ in 0..n {
            self.tick(100);
            self.answer(&mut answer);
        }
    }

    /// Answer every pending command with `answer(port, kind, words)`; `None` leaves it unanswered.
    fn answer(&mut self, mut answer: impl FnMut(u16, LinkKind, &[String]) -> Option<Reply>) {
        let inbox = std::mem::take(&mut self.inbox);
        let mut keep = Vec::new();
        let mut blocked: Vec<LinkId> = Vec::new();
        for (link, words) in inbox {
            let Some(conn) = self.conns.get(&link).cloned() else {
                continue;
            };
            if blocked.contains(&link) {
                keep.push((link, words));
                continue;
            }
            match answer(conn.port, conn.kind, &words) {
                Some(reply) => {
                    self.s.handle(Input::Reply { link, reply }, self.now);
                    self.drain();
                }
                None => {
                    blocked.push(link);
                    keep.push((link, words));
                }
            }
        }
        keep.append(&mut self.inbox);
        self.inbox = keep;
    }

    fn kill_port(&mut self, port: u16) {
        let ids: Vec<_> = self
            .conns
            .iter()
            .filter(|(_, c)| c.port == port)
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            self.conns.remove(&id);
            self.inbox.retain(|(l, _)| *l != id);
            self.s.handle(
                Input::LinkDown {
                    link: id,
                    reason: "refused".into(),
                },
                self.now,
            );
        }
        self.drain();
    }

    fn has_event(&self, kind: &str) -> bool {
        self.events.iter().any(|(k, _)| k == kind)
    }

    fn event_kinds(&self) -> Vec<&str> {
        self.events.iter().map(|(k, _)| k.as_str()).collect()
    }

    fn command(&mut self, words: &[&str]) -> Reply {
        let args: Vec<Bytes> = words
            .iter()
            .map(|w| Bytes::copy_from_slice(w.as_bytes()))
            .collect();
        let r = self.s.command(&args, self.now);
        self.drain();
        r
    }
}

fn info_master(replicas: &[(u16, u64)]) -> String {
    let mut s = format!("run_id:{MASTER_RUNID}\r\nrole:master\r\n");
    for (i, (port, off)) in replicas.iter().enumerate() {
        // Each instance has its own loopback address (127.0.0.1 for the master), so tests can
        // tell hosts apart for the VIP.
        let ip = if *port == 6379 {
            "127.0.0.1".to_string()
        } else {
            format!("127.0.0.{}", port - 6378)
        };
        s.push_str(&format!(
            "slave{i}:ip={ip},port={port},state=online,offset={off},lag=0\r\n"
        ));
    }
    s
}

fn info_replica(runid: &str, master_port: u16, offset: u64, link_up: bool) -> String {
    let master_ip = if master_port == 6379 {
        "127.0.0.1".to_string()
    } else {
        format!("127.0.0.{}", master_port - 6378)
    };
    format!(
        "run_id:{runid}\r\nrole:slave\r\nmaster_host:{master_ip}\r\nmaster_port:{master_port}\r\n\
master_link_status:{}\r\nslave_priority:100\r\nslave_repl_offset:{offset}\r\nreplica_announced:1\r\n",
        if link_up { "up" } else { "down" }
    )
}

/// A healthy 1 master + 2 replicas world.
fn healthy(port: u16, _kind: LinkKind, words: &[String]) -> Option<Reply> {
    Some(match words[0].as_str() {
        "PING" => Reply::Status("PONG".into()),
        "INFO" => Reply::bulk(match port {
            6379 => info_master(&[(6380, 100), (6381, 90)]),
            6380 => info_replica(R1_RUNID, 6379, 100, true),
            _ => info_replica(R2_RUNID, 6379, 90, true),
        }),
        _ => Reply::ok(),
    })
}

#[test]
fn startup_monitors_and_discovers_replicas() {
    let mut h = Harness::new(master_cfg(2));
    assert_eq!(
        h.events[0],
        (
            "+monitor".to_string(),
            "master mymaster 127.0.0.1 6379 quorum 2".to_string()
        )
    );
    h.tick(100);
    // Cmd + pubsub to the master, with the handshake and an immediate PING and INFO.
    assert_eq!(h.conns.values().filter(|c| c.port == 6379).count(), 2);
    assert!(h
        .inbox
        .iter()
        .any(|(_, w)| w[0] == "CLIENT" && w[2] == "sentinel-ffffffff-cmd"));
    assert!(h
        .inbox
        .iter()
        .any(|(_, w)| w[0] == "SUBSCRIBE" && w[1] == "__sentinel__:hello"));
    h.answer(healthy);
    let slaves: Vec<_> = h
        .events
        .iter()
        .filter(|(k, _)| k == "+slave")
        .map(|(_, m)| m.clone())
        .collect();
    assert_eq!(
        slaves,
        vec![
            "slave 127.0.0.2:6380 127.0.0.2 6380 @ mymaster 127.0.0.1 6379",
            "slave 127.0.0.3:6381 127.0.0.3 6381 @ mymaster 127.0.0.1 6379"
        ]
    );
    // Discovery was persisted.
    let last = h.saved.0.lock().unwrap().last().cloned().unwrap();
    assert_eq!(last.masters[0].known_replicas.len(), 2);
    h.tick(100);
    h.answer(healthy);
    let Reply::Array(replicas) = h.command(&["REPLICAS", "mymaster"]) else {
        panic!()
    };
    assert_eq!(replicas.len(), 2);
    let Reply::Map(fields) = h.command(&["MASTER", "mymaster"]) else {
        panic!()
    };
    assert_eq!(fields.len(), 20);
    assert_eq!(fields[4].1, Reply::bulk("master"));
    assert_eq!(fields[16].0, Reply::bulk("num-other-sentinels"));
}

/// Run a whole failover with a single sentinel (quorum 1): the replica with the larger offset
/// is promoted, the other is re-pointed, and the configuration switches.
#[test]
fn full_failover_single_sentinel() {
    let mut h = Harness::new(master_cfg(1));
    h.tick(100);
    h.answer(healthy);
    h.tick(100);
    h.answer(healthy);
    h.kill_port(6379);
    let mut promoted = false;
    let mut r2_master = 6379;
    for _ in 0..60 {
        h.tick(100);
        h.answer(|port, kind, words| {
            if port == 6379 {
                return None;
            }
            if words[0] == "SLAVEOF" {
                if port == 6380 && words[1] == "NO" {
                    promoted = true;
                } else if port == 6381 {
                    assert_eq!(words[1], "127.0.0.2");
                    r2_master = words[2].parse().unwrap();
                }
            }
            if words[0] == "INFO" && port == 6380 && promoted {
                return Some(Reply::bulk(format!("run_id:{R1_RUNID}\r\nrole:master\r\n")));
            }
            if words[0] == "INFO" && port == 6381 {
                return Some(Reply::bulk(info_replica(R2_RUNID, r2_master, 90, true)));
            }
            healthy(port, kind, words)
        });
        // The dead master refuses new connections.
        h.kill_port(6379);
        if h.has_event("+switch-master") {
            break;
        }
    }
    let kinds = h.event_kinds();
    let expected = [
        "+sdown",
        "+odown",
        "+new-epoch",
        "+try-failover",
        "+vote-for-leader",
        "+elected-leader",
        "+failover-state-select-slave",
        "+selected-slave",
        "+failover-state-send-slaveof-noone",
        "+failover-state-wait-promotion",
        "+promoted-slave",
        "+failover-state-reconf-slaves",
        "+slave-reconf-sent",
        "+slave-reconf-inprog",
        "+slave-reconf-done",
        "-odown",
        "+failover-end",
        "+switch-master",
    ];
    let mut pos = 0;
    for e in expected {
        let found = kinds[pos..]
            .iter()
            .position(|k| *k == e)
            .unwrap_or_else(|| panic!("{e} missing after {pos}: {kinds:?}"));
        pos += found + 1;
    }
    let switch = h
        .events
        .iter()
        .find(|(k, _)| k == "+switch-master")
        .unwrap();
    assert_eq!(switch.1, "mymaster 127.0.0.1 6379 127.0.0.2 6380");
    assert_eq!(
        h.command(&["GET-MASTER-ADDR-BY-NAME", "mymaster"]),
        Reply::Array(vec![Reply::bulk("127.0.0.2"), Reply::bulk("6380")])
    );
    // The history keeps the failover: who led it, from where to where, and its events in
    // order with their times from the master's SDOWN.
    let Reply::Array(records) = h.command(&["HISTORY", "mymaster"]) else {
        panic!("HISTORY is an array")
    };
    assert_eq!(records.len(), 1);
    let Reply::Map(record) = &records[0] else {
        panic!("a record is a map")
    };
    let field = |name: &str| {
        record
            .iter()
            .find(|(k, _)| *k == Reply::bulk(name))
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no {name}"))
    };
    assert_eq!(field("result"), Reply::bulk("switched"));
    assert_eq!(field("from"), Reply::bulk("127.0.0.1:6379"));
    assert_eq!(field("to"), Reply::bulk("127.0.0.2:6380"));
    assert_eq!(field("epoch"), Reply::Int(1));
    assert_eq!(field("leader"), Reply::bulk("f".repeat(40)));
    let Reply::Array(events) = field("events") else {
        panic!("events")
    };
    let timeline: Vec<(String, i64)> = events
        .iter()
        .map(|e| {
            let Reply::Map(e) = e else { panic!("event") };
            let (Some(kind), Reply::Int(ms)) = (e[0].1.to_text(), &e[2].1) else {
                panic!("{e:?}")
            };
            (kind, *ms)
        })
        .collect();
    assert_eq!(timeline[0], ("+sdown".to_string(), 0));
    assert_eq!(timeline.last().unwrap().0, "+switch-master");
    assert!(
        timeline.windows(2).all(|w| w[0].1 <= w[1].1),
        "{timeline:?}"
    );
    for kind in ["+odown", "+elected-leader", "+promoted-slave"] {
        assert!(
            timeline.iter().any(|(k, _)| k == kind),
            "{kind}: {timeline:?}"
        );
    }
    assert!(
        !timeline.iter().any(|(k, _)| k == "+slave-reconf-sent"),
        "replicas' own events stay out"
    );
    assert!(matches!(h.command(&["HISTORY", "nosuch"]), Reply::Error(_)));
    let cfg = h.saved.0.lock().unwrap().last().cloned().unwrap();
    assert_eq!(cfg.masters[0].port, 6380);
    assert_eq!(cfg.masters[0].config_epoch, 1);
    assert_eq!(cfg.current_epoch, 1);
    let mut known: Vec<u16> = cfg.masters[0].known_replicas.iter().map(|r| r.1).collect();
    known.sort();
    assert_eq!(known, vec![6379, 6381]);
}

#[test]
fn failover_aborts_without_good_replica() {
    let mut h = Harness::new(master_cfg(1));
    h.tick(100);
    h.answer(|p, k, w| {
        if w[0] == "INFO" && p != 6379 {
            return Some(Reply::bulk(
                info_replica(R1_RUNID, 6379, 1, true)
                    .replace("slave_priority:100", "slave_priority:0"),
            ));
        }
        healthy(p, k, w)
    });
    h.kill_port(6379);
    for _ in 0..30 {
        h.tick(100);
        h.answer(|p, k, w| {
            if p == 6379 {
                None
            } else {
                healthy(p, k, w).map(|r| match (w[0].as_str(), r) {
                    ("INFO", _) => Reply::bulk(
                        info_replica(R1_RUNID, 6379, 1, true)
                            .replace("slave_priority:100", "slave_priority:0"),
                    ),
                    (_, r) => r,
                })
            }
        });
        h.kill_port(6379);
    }
    assert!(h.has_event("-failover-abort-no-good-slave"));
    assert!(!h.has_event("+selected-slave"));
}

#[test]
fn votes_once_per_epoch_and_adopts_newer_epochs() {
    let mut h = Harness::new(master_cfg(2));
    let ask = |h: &mut Harness, epoch: &str, runid: &str| {
        h.command(&["IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", "6379", epoch, runid])
    };
    let vote = |leader: &str, epoch: i64| {
        Reply::Array(vec![Reply::Int(0), Reply::bulk(leader), Reply::Int(epoch)])
    };
    assert_eq!(ask(&mut h, "0", "*"), vote("*", 0));
    assert_eq!(ask(&mut h, "5", PEER1), vote(PEER1, 5));
    // Second request in the same epoch: the first vote stands.
    assert_eq!(ask(&mut h, "5", PEER2), vote(PEER1, 5));
    // An older epoch gets the existing vote.
    assert_eq!(ask(&mut h, "4", PEER2), vote(PEER1, 5));
    assert_eq!(ask(&mut h, "6", PEER2), vote(PEER2, 6));
    assert_eq!(
        h.events
            .iter()
            .filter(|(k, _)| k == "+vote-for-leader")
            .count(),
        2
    );
    // Votes are persisted before they are announced.
    let cfg = h.saved.0.lock().unwrap().last().cloned().unwrap();
    assert_eq!((cfg.current_epoch, cfg.masters[0].leader_epoch), (6, 6));
    // Unknown master address: no vote.
    assert_eq!(
        h.command(&["IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", "1", "9", PEER1]),
        vote("*", 0)
    );
    assert_eq!(
        h.command(&["IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", "x", "9", PEER1]),
        Reply::err("ERR value is not an integer or out of range")
    );
}

#[test]
fn hello_discovers_sentinels_and_follows_newer_config() {
    let mut h = Harness::new(master_cfg(2));
    h.tick(100);
    h.answer(healthy);
    let hello = format!("127.0.0.1,26380,{PEER1},3,mymaster,127.0.0.1,6379,0");
    h.s.receive_hello(hello.as_bytes(), h.now);
    h.drain();
    assert!(h.has_event("+sentinel"));
    assert!(h.has_event("+new-epoch"));
    // Same runid at a new address: address switch, still one sentinel.
    let moved = format!("127.0.0.1,26390,{PEER1},3,mymaster,127.0.0.1,6379,0");
    h.s.receive_hello(moved.as_bytes(), h.now);
    h.drain();
    assert!(h.has_event("+sentinel-address-switch"));
    // Another runid at that address evicts the stale entry.
    let other = format!("127.0.0.1,26390,{PEER2},3,mymaster,127.0.0.1,6379,0");
    h.s.receive_hello(other.as_bytes(), h.now);
    h.drain();
    assert!(h.has_event("+sentinel-invalid-addr"));
    let Reply::Array(sentinels) = h.command(&["SENTINELS", "mymaster"]) else {
        panic!()
    };
    assert_eq!(sentinels.len(), 1);
    // A newer config epoch with another address switches the master.
    let newer = format!("127.0.0.1,26390,{PEER2},3,mymaster,127.0.0.1,6380,3");
    h.s.receive_hello(newer.as_bytes(), h.now);
    h.drain();
    let kinds = h.event_kinds();
    let cu = kinds
        .iter()
        .position(|k| *k == "+config-update-from")
        .expect("config update");
    assert_eq!(kinds[cu + 1], "+switch-master");
    assert_eq!(
        h.command(&["GET-MASTER-ADDR-BY-NAME", "mymaster"]),
        Reply::Array(vec![Reply::bulk("127.0.0.1"), Reply::bulk("6380")])
    );
    // Our own hellos and garbage are ignored.
    let before = h.events.len();
    h.s.receive_hello(
        format!(
            "127.0.0.1,26379,{},9,mymaster,127.0.0.1,1,9",
            "f".repeat(40)
        )
        .as_bytes(),
        h.now,
    );
    h.s.receive_hello(b"\x00\xffgarbage,,,", h.now);
    h.drain();
    assert_eq!(h.events.len(), before);
}

#[test]
fn clock_jump_enters_tilt_and_suspends_detection() {
    let mut h = Harness::new(master_cfg(1));
    h.tick(100);
    h.answer(healthy);
    h.tick(5000);
    assert!(h.has_event("+tilt"));
    assert!(h.s.in_tilt());
    // The master is silent for longer than down-after, but TILT suppresses SDOWN.
    for _ in 0..20 {
        h.tick(100);
    }
    assert!(!h.has_event("+sdown"));
    assert_eq!(
        h.command(&["IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", "6379", "0", "*"]),
        Reply::Array(vec![Reply::Int(0), Reply::bulk("*"), Reply::Int(0)])
    );
    for _ in 0..300 {
        h.tick(100);
    }
    assert!(h.has_event("-tilt"));
}

/// In deadline mode (`timer`), a clock that goes back must not leave the next tick seconds in
/// the future: the next call ticks and enters TILT at once.
#[test]
fn the_timer_ticks_at_once_when_the_clock_goes_back() {
    let mut h = Harness::new(master_cfg(1));
    h.tick(100);
    h.answer(healthy);
    h.now -= 8_000;
    h.s.timer(h.now);
    h.drain();
    assert!(h.has_event("+tilt"), "{:?}", h.event_kinds());
    assert!(
        h.s.next_deadline(h.now) <= h.now + 200,
        "ticks on the new clock"
    );
}

#[test]
fn sentinel_set_and_errors() {
    let mut h = Harness::new(master_cfg(2));
    assert_eq!(
        h.command(&[
            "SET",
            "mymaster",
            "quorum",
            "3",
            "down-after-milliseconds",
            "5000"
        ]),
        Reply::ok()
    );
    assert_eq!(h.events.iter().filter(|(k, _)| k == "+set").count(), 2);
    assert_eq!(
        h.command(&["SET", "mymaster", "quorum", "0"]),
        Reply::err("ERR Invalid argument '0' for SENTINEL SET 'quorum'")
    );
    assert_eq!(
        h.command(&["SET", "mymaster", "foo", "1"]),
        Reply::err("ERR Unknown option or number of arguments for SENTINEL SET 'foo'")
    );
    assert_eq!(
        h.command(&["SET", "nope", "quorum", "1"]),
        Reply::err("ERR No such master with that name")
    );
    assert_eq!(
        h.command(&["SET", "mymaster", "quorum"]),
        Reply::err("ERR wrong number of arguments for 'sentinel|set' command")
    );
    assert_eq!(
        h.command(&["BOGUS"]),
        Reply::err("ERR unknown subcommand 'BOGUS'. Try SENTINEL HELP.")
    );
    h.command(&["SET", "mymaster", "auth-pass", "secret"]);
    assert_eq!(
        h.events.last().unwrap().1,
        "master mymaster 127.0.0.1 6379 auth-pass ******"
    );
    let cfg = h.s.config();
    assert_eq!(
        (cfg.masters[0].quorum, cfg.masters[0].down_after_ms),
        (3, 5000)
    );
    assert!(
        matches!(h.command(&["CKQUORUM", "mymaster"]), Reply::Error(e) if e.starts_with("NOQUORUM 1 usable Sentinels. Not enough available Sentinels to reach the specified quorum for this master"))
    );
    assert_eq!(
        h.command(&["MONITOR", "x", "127.0.0.1", "1", "0"]),
        Reply::err("ERR Quorum must be 1 or greater.")
    );
    assert_eq!(
        h.command(&["MONITOR", "x", "not-an-ip", "1", "1"]),
        Reply::err("ERR Invalid IP address or hostname specified")
    );
    assert_eq!(
        h.command(&["MONITOR", "mymaster", "127.0.0.1", "1", "1"]),
        Reply::err("ERR Duplicate master name.")
    );
    assert_eq!(
        h.command(&["MONITOR", "x", "127.0.0.1", "70000", "1"]),
        Reply::err("ERR Invalid port number.")
    );
    assert_eq!(h.command(&["RESET", "my*"]), Reply::Int(1));
    assert_eq!(h.command(&["REMOVE", "mymaster"]), Reply::ok());
    assert_eq!(h.command(&["MASTERS"]), Reply::Array(vec![]));
}

#[test]
fn glob_matching() {
    use crate::glob::glob_match;
    for (p, t, nocase, want) in [
        ("*", "anything", false, true),
        ("my*", "mymaster", false, true),
        ("MY*", "mymaster", false, false),
        ("MY*", "mymaster", true, true),
        ("m?master", "mymaster", false, true),
        ("[a-m]ymaster", "mymaster", false, true),
        ("[^m]ymaster", "mymaster", false, false),
        ("announce-*", "announce-ip", true, true),
        ("*-ip", "resolve-hostnames", true, false),
    ] {
        assert_eq!(
            glob_match(p.as_bytes(), t.as_bytes(), nocase),
            want,
            "{p} {t}"
        );
    }
}

/// `SENTINEL FAILOVER <name> COORDINATED` hands over with `FAILOVER TO` on the old master
/// (never SLAVEOF NO ONE on the replica), then proceeds like any failover.
#[test]
fn coordinated_failover_uses_failover_to() {
    let mut h = Harness::new(master_cfg(1));
    h.healthy_ticks(3);
    assert_eq!(
        h.command(&["FAILOVER", "mymaster", "COORDINATED"]),
        Reply::ok()
    );
    let mut handed_over = false;
    let mut slaveof_no_one = false;
    for _ in 0..30 {
        h.tick(100);
        h.answer(|port, kind, words| {
            if words[0] == "FAILOVER" {
                assert_eq!(port, 6379);
                assert_eq!(
                    &words[1..4],
                    &[
                        "TO".to_string(),
                        "127.0.0.2".to_string(),
                        "6380".to_string()
                    ]
                );
                handed_over = true;
            }
            if words[0] == "SLAVEOF" && words[1] == "NO" {
                slaveof_no_one = true;
            }
            if words[0] == "INFO" && port == 6380 && handed_over {
                return Some(Reply::bulk(format!("run_id:{R1_RUNID}\r\nrole:master\r\n")));
            }
            if words[0] == "INFO" && port == 6379 && handed_over {
                return Some(Reply::bulk(info_replica(MASTER_RUNID, 6380, 100, true)));
            }
            healthy(port, kind, words)
        });
        if h.has_event("+promoted-slave") {
            break;
        }
    }
    assert!(handed_over);
    assert!(!slaveof_no_one);
    assert!(h.has_event("+promoted-slave"));
    assert_eq!(
        h.command(&["GET-MASTER-ADDR-BY-NAME", "mymaster"]),
        Reply::Array(vec![Reply::bulk("127.0.0.2"), Reply::bulk("6380")])
    );
}

#[test]
fn coordinated_failover_aborts_on_handover_error() {
    let mut h = Harness::new(master_cfg(1));
    h.healthy_ticks(3);
    assert_eq!(
        h.command(&["FAILOVER", "mymaster", "COORDINATED"]),
        Reply::ok()
    );
    for _ in 0..5 {
        h.tick(100);
        h.answer(|port, kind, words| {
            if words[0] == "FAILOVER" {
                return Some(Reply::err("ERR FAILOVER target replica is not online."));
            }
            healthy(port, kind, words)
        });
    }
    assert!(h.has_event("-failover-abort-handover"));
    assert!(!h.has_event("+promoted-slave"));
    assert_eq!(
        h.command(&["FAILOVER", "mymaster", "bogus"]),
        Reply::err("ERR syntax error")
    );
}

fn vip_actions(h: &mut Harness) -> Vec<Action> {
    h.drain();
    std::mem::take(&mut h.vips)
}

/// The VIP follows the master: held at start-up by the master's host, claimed by the promoted
/// replica's host at `+promoted-slave` (before `+switch-master`).
#[test]
fn vip_claimed_at_promotion_on_the_promoted_host() {
    let mut cfg = master_cfg(1);
    cfg.vip = Some(VipConfig::new(
        "10.9.9.9".parse().unwrap(),
        32,
        "eth0",
        1000,
    ));
    let mut h = Harness::new(cfg);
    // This Warden runs on the host of replica 6380 (127.0.0.2).
    h.s.handle(
        Input::LocalAddrs {
            addrs: vec!["127.0.0.2".parse().unwrap()],
        },
        h.now,
    );
    assert!(vip_actions(&mut h).is_empty(), "not the master's host");
    let Reply::Map(vip) = h.command(&["VIP", "mymaster"]) else {
        panic!()
    };
    assert_eq!(vip[3], (Reply::bulk("state"), Reply::bulk("standby")));
    h.tick(100);
    h.answer(healthy);
    h.kill_port(6379);
    let mut promoted = false;
    let mut claimed_at_promotion = None;
    for _ in 0..60 {
        h.tick(100);
        let claims = vip_actions(&mut h);
        if !claims.is_empty() {
            claimed_at_promotion =
                Some(h.has_event("+promoted-slave") && !h.has_event("+switch-master"));
            assert_eq!(
                claims,
                vec![Action::VipClaim {
                    master: "mymaster".into(),
                    epoch: 1,
                    until: None
                }]
            );
        }
        h.answer(|port, kind, words| {
            if port == 6379 {
                return None;
            }
            if words[0] == "SLAVEOF" && port == 6380 && words[1] == "NO" {
                promoted = true;
            }
            if words[0] == "INFO" && port == 6380 && promoted {
                return Some(Reply::bulk(format!("run_id:{R1_RUNID}\r\nrole:master\r\n")));
            }
            healthy(port, kind, words)
        });
        h.kill_port(6379);
        if claimed_at_promotion.is_some() {
            break;
        }
    }
    assert!(
        h.events
            .iter()
            .any(|(k, m)| k == "+vip-claimed" && m.contains("mymaster")),
        "{:?}",
        h.event_kinds()
    );
    assert_eq!(claimed_at_promotion, Some(true));
}

/// A Warden on the master's host holds the VIP at start-up and releases it when a newer
/// configuration moves the master elsewhere.
#[test]
fn vip_released_when_master_moves_away() {
    let mut cfg = master_cfg(1);
    cfg.vip = Some(VipConfig::new(
        "10.9.9.9".parse().unwrap(),
        32,
        "eth0",
        1000,
    ));
    let mut h = Harness::new(cfg);
    h.s.handle(
        Input::LocalAddrs {
            addrs: vec!["127.0.0.1".parse().unwrap()],
        },
        h.now,
    );
    assert_eq!(
        vip_actions(&mut h),
        vec![Action::VipClaim {
            master: "mymaster".into(),
            epoch: 0,
            until: None
        }]
    );
    let newer = format!("127.0.0.9,26390,{PEER2},3,mymaster,127.0.0.2,6380,3");
    h.s.receive_hello(newer.as_bytes(), h.now);
    assert_eq!(
        vip_actions(&mut h),
        vec![Action::VipRelease {
            master: "mymaster".into(),
            epoch: 0,
            fence: false
        }]
    );
}

/// Taking the VIP over from a Warden that is alive: a peer at the old master's host that says
/// (via `SENTINEL VIP`) it no longer holds the VIP lets the new host claim at once instead of
/// waiting out the lease.
#[test]
fn vip_takeover_after_explicit_release_does_not_wait_for_the_lease() {
    let mut h = vip_harness("127.0.0.2", "127.0.0.1", |cfg| {
        if let Some(vip) = cfg.vip.as_mut() {
            vip.lease_ms = 10_000;
        }
    });
    let switched = std::cell::Cell::new(false);
    let peers = |port: u16, kind: LinkKind, words: &[String]| -> Option<Reply> {
        if words[0] == "SENTINEL" && words[1].eq_ignore_ascii_case("get-master-addr-by-name") {
            let (ip, port) = if switched.get() {
                ("127.0.0.2", "6380")
            } else {
                ("127.0.0.1", "6379")
            };
            return Some(Reply::Array(vec![Reply::bulk(ip), Reply::bulk(port)]));
        }
        if words[0] == "SENTINEL" && words[1] == "VIP" {
            assert_eq!(
                port, 26380,
                "only asked while waiting; both peers are asked"
            );
            return Some(Reply::Array(
                ["held", "0", "target", "127.0.0.2", "epoch", "3"]
                    .iter()
                    .map(Reply::bulk)
                    .collect(),
            ));
        }
        healthy(port, kind, words)
    };
    // PEER2 (a redis-sentinel, say) never answers the release probe.
    let peer2_never_answers_vip = |p: u16, k: LinkKind, w: &[String]| {
        if p == 26381 && w[0] == "SENTINEL" && w[1] == "VIP" {
            None
        } else {
            peers(p, k, w)
        }
    };
    for _ in 0..5 {
        h.tick(100);
        h.answer(&peer2_never_answers_vip);
    }
    switched.set(true);
    let newer = format!("127.0.0.3,26381,{PEER2},3,mymaster,127.0.0.2,6380,3");
    h.s.receive_hello(newer.as_bytes(), h.now);
    h.drain();
    let switch_at = h.now;
    let mut claimed_at = None;
    for _ in 0..600 {
        h.tick(5);
        h.answer(&peer2_never_answers_vip);
        if h.vips.iter().any(|a| matches!(a, Action::VipClaim { .. })) {
            claimed_at = Some(h.now);
            break;
        }
    }
    // The release is probed every TAKEOVER_PROBE_PERIOD while waiting: the claim follows it
    // within about one period, not after the 10 s lease.
    let waited = claimed_at.expect("claimed") - switch_at;
    assert!(
        waited <= 2 * super::vip::TAKEOVER_PROBE_PERIOD,
        "claimed {waited} ms after the switch, the lease is 10 s"
    );
}

/// The selected replica accepts the promotion transaction but never reports `role:master`:
/// after failover-timeout the failover is aborted with `-failover-abort-slave-timeout`, and the
/// replica loses its `promoted` flag.
#[test]
fn failover_aborts_when_the_promotion_never_shows() {
    let mut h = Harness::new(master_cfg(1));
    h.tick(100);
    h.answer(healthy);
    h.kill_port(6379);
    for _ in 0..130 {
        h.tick(100);
        // Replicas keep answering as replicas, whatever they are told.
        h.answer(|p, k, w| if p == 6379 { None } else { healthy(p, k, w) });
        h.kill_port(6379);
        if h.has_event("-failover-abort-slave-timeout") {
            break;
        }
    }
    let kinds = h.event_kinds();
    let waited = kinds
        .iter()
        .position(|k| *k == "+failover-state-wait-promotion")
        .expect("waited");
    let aborted = kinds
        .iter()
        .position(|k| *k == "-failover-abort-slave-timeout")
        .expect("aborted");
    assert!(waited < aborted);
    assert!(!h.has_event("+promoted-slave"));
    let Reply::Array(replicas) = h.command(&["REPLICAS", "mymaster"]) else {
        panic!()
    };
    for r in replicas {
        let Reply::Map(fields) = r else { panic!() };
        let flags = fields
            .iter()
            .find(|(k, _)| *k == Reply::bulk("flags"))
            .map(|(_, v)| v.clone());
        assert_eq!(flags, Some(Reply::bulk("slave")));
    }
}

/// A split vote (the only reachable peer voted for itself in epoch 1; the third sentinel is
/// unreachable) is detected as lost at once and retried in a new epoch after a short back-off,
/// instead of waiting for the election timeout and 2 × failover-timeout.
#[test]
fn split_vote_is_retried_quickly_in_a_new_epoch() {
    let mut h = with_two_peers(2);
    h.kill_port(6379);
    let start = h.now;
    for _ in 0..40 {
        h.tick(100);
        h.answer(|p, k, w| match p {
            6379 | 26381 => None,
            26380 if w[0] == "SENTINEL" && w[1].eq_ignore_ascii_case("is-master-down-by-addr") => {
                let epoch: i64 = w[4].parse().unwrap();
                let voter = if w[5] == "*" {
                    "*".to_string()
                } else if epoch == 1 {
                    PEER1.to_string()
                } else {
                    w[5].clone()
                };
                let vote_epoch = if voter == "*" { 0 } else { epoch };
                Some(Reply::Array(vec![
                    Reply::Int(1),
                    Reply::bulk(voter),
                    Reply::Int(vote_epoch),
                ]))
            }
            _ => healthy(p, k, w),
        });
        h.kill_port(6379);
        h.kill_port(26381);
        if h.has_event("+elected-leader") {
            break;
        }
    }
    assert!(
        h.has_event("-failover-abort-not-elected"),
        "{:?}",
        h.event_kinds()
    );
    assert!(h.has_event("+elected-leader"), "{:?}", h.event_kinds());
    assert!(
        h.now - start < 4_000,
        "elected {} ms after the kill",
        h.now - start
    );
    let epochs: Vec<&String> = h
        .events
        .iter()
        .filter(|(k, _)| k == "+new-epoch")
        .map(|(_, m)| m)
        .collect();
    assert_eq!(epochs, vec!["1", "2"]);
}

/// Peers answering `is-master-down-by-addr` with `down` (no vote); everything else healthy,
/// the master dead.
fn peers_saying(down: i64) -> impl FnMut(u16, LinkKind, &[String]) -> Option<Reply> {
    move |p, k, w| match p {
        6379 => None,
        26380 | 26381
            if w[0] == "SENTINEL" && w[1].eq_ignore_ascii_case("is-master-down-by-addr") =>
        {
            Some(Reply::Array(vec![
                Reply::Int(down),
                Reply::bulk("*"),
                Reply::Int(0),
            ]))
        }
        _ => healthy(p, k, w),
    }
}

impl Harness {
    /// With the master dead and the peers answering `is-master-down-by-addr` with `down`,
    /// advance `step` ms at a time until `event` is published (at most 10 simulated seconds).
    fn run_until(&mut self, event: &str, step: Millis, down: i64) {
        let deadline = self.now + 10_000;
        while !self.has_event(event) {
            assert!(self.now < deadline, "no {event}: {:?}", self.event_kinds());
            self.tick(step);
            self.answer(peers_saying(down));
            self.kill_port(6379);
        }
    }
}

fn asks_sent_to(h: &Harness, port: u16) -> usize {
    h.inbox
        .iter()
        .filter(|(link, words)| {
            h.conns.get(link).is_some_and(|c| c.port == port)
                && words[1].eq_ignore_ascii_case("is-master-down-by-addr")
        })
        .count()
}

/// A master with two known peer sentinels (127.0.0.1:26380 and :26381), after one healthy
/// timer run.
fn with_two_peers(quorum: u32) -> Harness {
    let mut cfg = master_cfg(quorum);
    cfg.known_sentinels = vec![
        ("127.0.0.1".into(), 26380, PEER1.into()),
        ("127.0.0.1".into(), 26381, PEER2.into()),
    ];
    let mut h = Harness::new(cfg);
    h.tick(100);
    h.answer(healthy);
    h
}

#[test]
fn a_peers_question_is_asked_back_at_once() {
    let mut h = with_two_peers(2);
    h.kill_port(6379);
    // SDOWN, but the peers do not see the master down yet: no ODOWN.
    h.run_until("+sdown", 50, 0);
    h.answer(peers_saying(0));
    assert!(!h.has_event("+odown"));
    assert_eq!(asks_sent_to(&h, 26380), 0);
    // A peer asks: it sees the master down. We ask back at once, without a timer run.
    h.now += super::timers::ASK_AGAIN_GAP;
    let reply = h.command(&["is-master-down-by-addr", "127.0.0.1", "6379", "0", "*"]);
    assert_eq!(
        reply,
        Reply::Array(vec![Reply::Int(1), Reply::bulk("*"), Reply::Int(0)])
    );
    assert_eq!(asks_sent_to(&h, 26380), 1);
    assert_eq!(asks_sent_to(&h, 26381), 1);
    h.answer(peers_saying(1));
    assert!(h.has_event("+odown"), "{:?}", h.event_kinds());
    // Asked again right away, it does not ask back twice within the gap.
    h.command(&["is-master-down-by-addr", "127.0.0.1", "6379", "0", "*"]);
    assert_eq!(asks_sent_to(&h, 26380), 0);
}

/// Runs until `+try-failover` with the peers answering `is-master-down-by-addr` "down" —
/// but for the first peer ranked ahead of us for the master, which says "not down" when
/// `one_silent`; returns how long after `+odown` it started, how many peers are ranked ahead
/// and how many of those said "not down".
fn start_after_odown(quorum: u32, one_silent: bool) -> (Millis, u64, u64) {
    let mut h = with_two_peers(quorum);
    let name = h.s.masters[0].cfg.name.clone();
    let mine = super::election::rank_key(&name, h.s.myid());
    let ahead: Vec<u16> = [(PEER1, 26380), (PEER2, 26381)]
        .into_iter()
        .filter(|(id, _)| super::election::rank_key(&name, id) < mine)
        .map(|(_, port)| port)
        .collect();
    let silent = ahead.first().copied().filter(|_| one_silent);
    h.kill_port(6379);
    let mut odown = None;
    let deadline = h.now + 10_000;
    while !h.has_event("+try-failover") {
        assert!(h.now < deadline, "no +try-failover: {:?}", h.event_kinds());
        if odown.is_none() && h.has_event("+odown") {
            odown = Some(h.now);
        }
        h.tick(1);
        h.answer(|p, k, w| match p {
            26380 | 26381
                if w.get(1)
                    .is_some_and(|c| c.eq_ignore_ascii_case("is-master-down-by-addr")) =>
            {
                Some(Reply::Array(vec![
                    Reply::Int(i64::from(Some(p) != silent)),
                    Reply::bulk("*"),
                    Reply::Int(0),
                ]))
            }
            _ => peers_saying(1)(p, k, w),
        });
        h.kill_port(6379);
    }
    let waited = h.now - odown.expect("+odown");
    (waited, ahead.len() as u64, u64::from(silent.is_some()))
}

#[test]
fn failover_start_waits_one_step_per_reachable_peer_ranked_first() {
    use super::timers::{START_JITTER, START_RANK_STEP};
    // Both peers see the master down: one step for each whose rank key sorts before ours.
    let (waited, ahead, _) = start_after_odown(3, false);
    assert!(
        (ahead * START_RANK_STEP..=ahead * START_RANK_STEP + START_JITTER).contains(&waited),
        "started {waited} ms after ODOWN, {ahead} peers ranked ahead"
    );
}

/// A candidate ranked ahead that does not see the master down yet costs nothing more in a small
/// group (the step covers its PING phase); in a fleet whose master PINGs the budget slows down,
/// it costs the extra period.
#[test]
fn a_predecessor_not_seeing_the_failure_yet_waits_out_a_fleets_slower_pings() {
    use super::election::fleet_ping_lag;
    use super::timers::{START_JITTER, START_RANK_STEP};
    let (waited, ahead, silent) = start_after_odown(2, true);
    assert_eq!(silent, 1, "the harness's run id ranks last for this master");
    let least = ahead * START_RANK_STEP;
    assert!(
        (least..=least + START_JITTER).contains(&waited),
        "started {waited} ms after ODOWN, {ahead} peers ranked ahead, {silent} of them silent"
    );
    assert_eq!(fleet_ping_lag(1000, 1000, 1), 0);
    assert_eq!(fleet_ping_lag(1000, 1000, 100), 0);
    assert_eq!(fleet_ping_lag(1000, 1000, 300), 200);
    assert_eq!(
        fleet_ping_lag(30_000, 1000, 300),
        0,
        "Redis's 1 s at the default"
    );
}

#[test]
fn candidates_rank_differently_for_different_masters() {
    use super::election::rank_key;
    let ids = [PEER1, PEER2, "ffffffffffffffffffffffffffffffffffffffff"];
    let first = |master: &str| {
        ids.iter()
            .min_by_key(|id| rank_key(master, id))
            .copied()
            .unwrap()
    };
    let leaders: std::collections::HashSet<&str> =
        (0..30).map(|i| first(&format!("m{i}"))).collect();
    assert_eq!(
        leaders.len(),
        ids.len(),
        "each sentinel ranks first for some master"
    );
    // Run ids compare case-insensitively.
    assert_eq!(rank_key("m", "ABC"), rank_key("m", "abc"));
}

/// A persister that writes in the background: it records what it was asked to save and
/// leaves the end to the test ([`Sentinel::saved`]).
#[derive(Clone, Default)]
struct BackgroundPersist(Arc<Mutex<Vec<(u64, u64)>>>);

impl Persist for BackgroundPersist {
    fn save(
        &mut self,
        generation: u64,
        state: SentinelConfig,
        wait: bool,
    ) -> Result<Saved, String> {
        let leader_epoch = state.masters.first().map_or(0, |m| m.leader_epoch);
        self.0.lock().unwrap().push((generation, leader_epoch));
        Ok(if wait { Saved::Durable } else { Saved::Pending })
    }
}

fn events_released(s: &mut Sentinel) -> Vec<String> {
    std::iter::from_fn(|| s.poll_action())
        .filter_map(|a| match a {
            Action::Event(e) => Some(format!("{} {}", e.kind, e.message)),
            _ => None,
        })
        .collect()
}

#[test]
fn votes_wait_for_their_save_and_a_burst_costs_few_saves() {
    let persist = BackgroundPersist::default();
    let mut masters = Vec::new();
    for (i, port) in [6379u16, 6479, 6579].into_iter().enumerate() {
        let mut m = master_cfg(2);
        m.name = format!("m{i}");
        m.port = port;
        masters.push(m);
    }
    let cfg = SentinelConfig {
        myid: Some("f".repeat(40)),
        masters,
        ..Default::default()
    };
    let now = 1_000_000;
    let mut s = Sentinel::new(
        cfg,
        Options::new(26379, None, 7),
        Box::new(persist.clone()),
        now,
    )
    .unwrap();
    events_released(&mut s);
    let ask = |port: &'static str, epoch: &'static str| -> Vec<Bytes> {
        ["is-master-down-by-addr", "127.0.0.1", port, epoch, PEER1]
            .into_iter()
            .map(|w: &'static str| Bytes::from_static(w.as_bytes()))
            .collect()
    };
    let reply = s.command(&ask("6379", "5"), now);
    assert_eq!(
        reply,
        Reply::Array(vec![Reply::Int(0), Reply::bulk(PEER1), Reply::Int(5)])
    );
    // The vote is in the save that began at the end of the command, not yet durable: neither
    // the reply nor the events may leave.
    assert_eq!(*persist.0.lock().unwrap(), [(1, 5)]);
    assert_eq!(s.reply_barrier(), Some(1));
    assert!(events_released(&mut s).is_empty());
    // A second vote while that save is in flight: a second save is queued behind it; a third
    // vote waits for the next one.
    s.command(&ask("6479", "6"), now);
    assert_eq!(s.reply_barrier(), Some(2));
    s.command(&ask("6579", "6"), now);
    assert_eq!(s.reply_barrier(), Some(3));
    assert_eq!(
        persist.0.lock().unwrap().len(),
        2,
        "two saves in flight at most"
    );
    s.saved(1, 0);
    assert_eq!(
        events_released(&mut s),
        [
            "+new-epoch 5".to_string(),
            format!("+vote-for-leader {PEER1} 5"),
        ]
    );
    assert_eq!(persist.0.lock().unwrap().len(), 3, "the next save began");
    s.saved(3, 0);
    let events = events_released(&mut s);
    assert_eq!(events.len(), 3, "{events:?}");
    assert_eq!(s.reply_barrier(), None);
    // Votes per master: the same requester got m1's and m2's votes at epoch 6, although
    // m0's vote at 5 came first (the global current epoch does not void other masters).
    assert!(events.contains(&format!("+vote-for-leader {PEER1} 6")));
}

#[test]
fn a_vote_is_refused_for_an_epoch_not_newer_than_the_masters_config() {
    let mut cfg = master_cfg(2);
    cfg.config_epoch = 7;
    let mut h = Harness::new(cfg);
    let reply = h.command(&["is-master-down-by-addr", "127.0.0.1", "6379", "7", PEER1]);
    assert_eq!(
        reply,
        Reply::Array(vec![Reply::Int(0), Reply::bulk("*"), Reply::Int(0)])
    );
    let reply = h.command(&["is-master-down-by-addr", "127.0.0.1", "6379", "8", PEER1]);
    assert_eq!(
        reply,
        Reply::Array(vec![Reply::Int(0), Reply::bulk(PEER1), Reply::Int(8)])
    );
}

/// The INFO a replica that was promoted reports.
fn info_promoted(runid: &str) -> String {
    format!("run_id:{runid}\r\nrole:master\r\n")
}

#[test]
fn a_failover_requested_right_after_following_a_peers_joins_it() {
    let mut h = with_two_peers(2);
    h.tick(100);
    h.answer(healthy);
    // PEER1 failed the master over to 6380 at epoch 1; we follow its hello.
    let newer = format!("127.0.0.1,26380,{PEER1},1,mymaster,127.0.0.2,6380,1");
    h.s.receive_hello(newer.as_bytes(), h.now);
    h.drain();
    assert!(h.has_event("+switch-master"), "{:?}", h.event_kinds());
    h.events.clear();
    // The next sentinel a client asks in turn answers +OK and starts nothing.
    h.now += 50;
    assert_eq!(h.command(&["FAILOVER", "mymaster"]), Reply::ok());
    assert!(!h.has_event("+try-failover"), "{:?}", h.event_kinds());
    assert!(!h.s.masters[0].inst.flags.failover_in_progress);
    // Two hello periods later the request is a new failover of its own (here the new
    // master's replicas have not answered INFO yet).
    h.now += 2 * h.s.timers.publish_period;
    assert_eq!(
        h.command(&["FAILOVER", "mymaster"]),
        Reply::err("NOGOODSLAVE No suitable replica to promote")
    );
}

#[test]
fn a_failover_requested_in_tilt_waits_for_tilt_to_end() {
    let mut h = Harness::new(master_cfg(1));
    h.tick(100);
    h.answer(healthy);
    h.tick(5000);
    assert!(h.s.in_tilt());
    h.answer(healthy);
    assert_eq!(h.command(&["FAILOVER", "mymaster"]), Reply::ok());
    let mut promoted_at = None;
    let mut tilt_end = None;
    while promoted_at.is_none() {
        assert!(h.now < 1_000_000 + 60_000, "{:?}", h.event_kinds());
        h.tick(100);
        if tilt_end.is_none() && h.has_event("-tilt") {
            tilt_end = Some(h.now);
        }
        let now = h.now;
        h.answer(|port, kind, words| {
            if words[0] == "SLAVEOF" && port == 6380 && words[1] == "NO" {
                promoted_at = Some(now);
            }
            if words[0] == "INFO" && port == 6380 && promoted_at.is_some() {
                return Some(Reply::bulk(info_promoted(R1_RUNID)));
            }
            healthy(port, kind, words)
        });
    }
    let tilt_end = tilt_end.expect("promoted before TILT ended");
    assert!(promoted_at >= Some(tilt_end));
    // Nothing of the failover ran before TILT ended; it completes after.
    let kinds = h.event_kinds();
    let exit = kinds.iter().position(|k| *k == "-tilt").unwrap();
    let elected = kinds.iter().position(|k| *k == "+elected-leader").unwrap();
    assert!(exit < elected, "{kinds:?}");
    for _ in 0..30 {
        h.tick(100);
        h.answer(|port, kind, words| match (port, words[0].as_str()) {
            (6380, "INFO") => Some(Reply::bulk(info_promoted(R1_RUNID))),
            (6381, "INFO") => Some(Reply::bulk(info_replica(R2_RUNID, 6380, 90, true))),
            _ => healthy(port, kind, words),
        });
        if h.has_event("+switch-master") {
            break;
        }
    }
    assert!(h.has_event("+switch-master"), "{:?}", h.event_kinds());
    assert!(!h.has_event("-failover-abort-slave-timeout"));
}

#[test]
fn no_vote_to_fail_over_a_master_that_answers() {
    let mut h = with_two_peers(2);
    h.healthy_ticks(5);
    let ask = |h: &mut Harness, epoch: &str| {
        h.command(&["is-master-down-by-addr", "127.0.0.1", "6379", epoch, PEER1])
    };
    // The master answers our PINGs: the epoch is adopted, the vote refused.
    assert_eq!(
        ask(&mut h, "3"),
        Reply::Array(vec![Reply::Int(0), Reply::bulk("*"), Reply::Int(0)])
    );
    assert_eq!(h.s.config.current_epoch, 3);
    assert!(!h.has_event("+vote-for-leader"));
    // Once it stops answering, the vote is granted as Redis Sentinel grants it.
    h.kill_port(6379);
    h.run_until("+sdown", 100, 0);
    assert_eq!(
        ask(&mut h, "4"),
        Reply::Array(vec![Reply::Int(1), Reply::bulk(PEER1), Reply::Int(4)])
    );
}

#[test]
fn a_master_deadline_between_timer_runs_checks_that_master_alone() {
    let mut h = with_two_peers(2);
    h.kill_port(6379);
    // Full timer runs until the master's SDOWN deadline falls before the next one.
    let due = loop {
        let next = h.s.next_deadline(h.now);
        if next < h.s.next_tick {
            break next;
        }
        h.now = next;
        h.s.timer(h.now);
        h.drain();
        assert!(!h.has_event("+sdown"), "SDOWN before its deadline");
    };
    let tick = h.s.next_tick;
    h.now = due;
    h.s.timer(due);
    h.drain();
    assert!(h.has_event("+sdown"), "{:?}", h.event_kinds());
    assert_eq!(h.s.next_tick, tick, "not a full timer run");
    assert!(h.s.next_deadline(h.now) <= tick);
}

/// The time of the first `kind` event for an instance whose message contains `who`, stepping
/// the clock by `step` while `answer` answers.
fn first_event_time(
    h: &mut Harness,
    kind: &str,
    who: &str,
    steps: usize,
    step: Millis,
    mut answer: impl FnMut(u16, LinkKind, &[String]) -> Option<Reply>,
) -> Option<Millis> {
    for _ in 0..steps {
        h.tick(step);
        h.answer(&mut answer);
        if h.events.iter().any(|(k, m)| k == kind && m.contains(who)) {
            return Some(h.now);
        }
    }
    None
}

/// A killed master's connection breaks when the kernel and the event loop get to it (on a
/// loaded host, 100–200 ms after the kill): down-after counts from the master's last reply,
/// not from the break (nor, as Redis, from the reconnection's PING).
#[test]
fn a_broken_master_connection_counts_down_after_from_the_last_reply() {
    let mut h = Harness::new(master_cfg(1));
    h.healthy_ticks(3);
    let last_reply = h.now;
    h.now += 80;
    h.kill_port(6379);
    let dead = |p: u16, k: LinkKind, w: &[String]| if p == 6379 { None } else { healthy(p, k, w) };
    let sdown = first_event_time(&mut h, "+sdown", "master mymaster", 300, 5, dead).expect("sdown");
    assert!(
        sdown > last_reply + 1000 && sdown <= last_reply + 1000 + 5,
        "+sdown {} ms after the last reply",
        sdown - last_reply
    );
}

/// A live replica whose connection is killed (a promotion's `CLIENT KILL type normal` kills the
/// other sentinels' connections) answers the reconnection's PING: not SDOWN, although its last
/// reply (replicas are pinged once a second) is older than down-after by then.
#[test]
fn a_live_replica_whose_connection_was_killed_is_not_sdown() {
    let mut h = Harness::new(master_cfg(1));
    h.healthy_ticks(12);
    h.now += 950;
    h.kill_port(6380);
    let sdown = first_event_time(&mut h, "+sdown", ":6380", 40, 50, healthy);
    assert_eq!(sdown, None, "a live replica was marked SDOWN");
}

/// Peers' "down" answers were about the old master's address: after a switch they are not
/// evidence against the new master (Redis keeps them up to 5 s, so a sentinel that sees the
/// fresh master SDOWN a moment after the switch, e.g. after a stall, finds it ODOWN at once).
#[test]
fn answers_about_the_old_master_do_not_count_against_the_new_one() {
    let mut h = with_two_peers(2);
    h.kill_port(6379);
    h.run_until("+odown", 100, 1);
    let newer = format!("127.0.0.1,26380,{PEER1},9,mymaster,127.0.0.1,6380,9");
    h.s.receive_hello(newer.as_bytes(), h.now);
    h.drain();
    assert!(h.has_event("+switch-master"), "{:?}", h.event_kinds());
    // The new master and the peers stop answering.
    let silent = |p: u16, k: LinkKind, w: &[String]| match p {
        6380 | 26380 | 26381 => None,
        _ => healthy(p, k, w),
    };
    let sdown = first_event_time(
        &mut h,
        "+sdown",
        "master mymaster 127.0.0.1 6380",
        30,
        100,
        silent,
    );
    assert!(sdown.is_some(), "{:?}", h.event_kinds());
    let odown = h
        .events
        .iter()
        .any(|(k, m)| k == "+odown" && m.contains("127.0.0.1 6380"));
    assert!(
        !odown,
        "the new master was ODOWN on answers about the old one"
    );
}

/// A harness on the host at `local` whose master (at 127.0.0.1) has a VIP with a 1 s lease and
/// two known peers, PEER1 at `peer1` and PEER2 at 127.0.0.3; `adjust` changes the master's
/// configuration further.
fn vip_harness(local: &str, peer1: &str, adjust: impl FnOnce(&mut MasterConfig)) -> Harness {
    let mut cfg = master_cfg(2);
    cfg.vip = Some(VipConfig::new(
        "10.9.9.9".parse().unwrap(),
        32,
        "eth0",
        1000,
    ));
    cfg.known_sentinels = vec![
        (peer1.into(), 26380, PEER1.into()),
        ("127.0.0.3".into(), 26381, PEER2.into()),
    ];
    adjust(&mut cfg);
    let mut h = Harness::new(cfg);
    h.s.handle(
        Input::LocalAddrs {
            addrs: vec![local.parse().unwrap()],
        },
        h.now,
    );
    h
}

/// Issue 13, fencing through the core: a Warden that loses its VIP by the lease cuts the clients
/// that came through the VIP over its own command link to the old master (the master's address,
/// never the VIP; renamed commands applied), checks the reply (a failure is published and tried
/// again), and stops once the kill succeeded.
#[test]
fn a_lost_lease_fences_the_master_over_its_own_link() {
    let mut h = vip_harness("127.0.0.1", "127.0.0.2", |cfg| {
        cfg.renamed_commands = vec![("CLIENT".into(), "cl13nt".into())];
    });
    let peers_answer = std::cell::Cell::new(true);
    let kill_fails = std::cell::Cell::new(true);
    let kills = std::cell::RefCell::new(Vec::<(u16, Vec<String>)>::new());
    let world = |port: u16, kind: LinkKind, words: &[String]| -> Option<Reply> {
        if words[0] == "SENTINEL" && words[1].eq_ignore_ascii_case("get-master-addr-by-name") {
            return peers_answer
                .get()
                .then(|| Reply::Array(vec![Reply::bulk("127.0.0.1"), Reply::bulk("6379")]));
        }
        if words[0] == "cl13nt" && words[1] == "KILL" && words[2] == "LADDR" {
            kills.borrow_mut().push((port, words.to_vec()));
            return Some(if kill_fails.get() {
                Reply::Error("ERR no such client".into())
            } else {
                Reply::Int(2)
            });
        }
        assert_ne!(words[0], "CLIENT", "CLIENT is renamed: {words:?}");
        healthy(port, kind, words)
    };
    h.ticks(10, &world);
    assert!(h.has_event("+vip-claimed"), "{:?}", h.event_kinds());
    assert!(kills.borrow().is_empty(), "no fence while held");

    // The peers stop confirming: the lease runs out and the VIP is released with a fence.
    peers_answer.set(false);
    h.ticks(25, &world);
    assert!(h.has_event("-vip-released"));
    let tried = kills.borrow().clone();
    assert!(tried.len() >= 2, "a failed kill is tried again: {tried:?}");
    for (port, words) in &tried {
        assert_eq!(*port, 6379, "only the master's own address");
        assert_eq!(words, &["cl13nt", "KILL", "LADDR", "10.9.9.9:6379"]);
    }
    let failed: Vec<_> = h
        .events
        .iter()
        .filter(|(k, _)| k == "-vip-fence-failed")
        .collect();
    assert_eq!(
        failed[0].1,
        "mymaster 10.9.9.9 CLIENT KILL ERR no such client"
    );

    // The kill succeeds: no more attempts.
    kill_fails.set(false);
    h.ticks(15, &world);
    let done = kills.borrow().len();
    h.ticks(30, &world);
    assert_eq!(kills.borrow().len(), done, "killed once, then done");
}

/// A fence belongs to the instance it was raised for: once the master moved, no kill is sent to
/// the new master (whose VIP clients are the new holder's), not even the retries of a kill that
/// kept failing.
#[test]
fn a_fence_is_never_sent_to_a_new_master() {
    let mut h = vip_harness("127.0.0.1", "127.0.0.2", |_| {});
    let peers_answer = std::cell::Cell::new(true);
    let kills = std::cell::RefCell::new(Vec::<u16>::new());
    let world = |port: u16, kind: LinkKind, words: &[String]| -> Option<Reply> {
        if words[0] == "SENTINEL" && words[1].eq_ignore_ascii_case("get-master-addr-by-name") {
            return peers_answer
                .get()
                .then(|| Reply::Array(vec![Reply::bulk("127.0.0.1"), Reply::bulk("6379")]));
        }
        if words[0] == "CLIENT" && words[1] == "KILL" && words[2] == "LADDR" {
            kills.borrow_mut().push(port);
            return Some(Reply::Error("ERR busy".into()));
        }
        if words[0] == "INFO" && port == 6380 {
            // The promoted replica is a master now.
            return Some(Reply::bulk(format!("run_id:{R1_RUNID}\r\nrole:master\r\n")));
        }
        healthy(port, kind, words)
    };
    h.ticks(10, &world);
    peers_answer.set(false);
    h.ticks(25, &world);
    assert!(kills.borrow().len() >= 2, "{:?}", kills.borrow());
    // The group moved the master to 127.0.0.2:6380 meanwhile.
    let newer = format!("127.0.0.3,26381,{PEER2},3,mymaster,127.0.0.2,6380,3");
    h.s.receive_hello(newer.as_bytes(), h.now);
    h.drain();
    kills.borrow_mut().clear();
    h.ticks(30, &world);
    assert!(
        kills.borrow().is_empty(),
        "kills after the move: {:?}",
        kills.borrow()
    );
}

/// The load balancers' checks (`health.rs`): the master only where its address is local and it
/// is up; a replica where one is local, up, linked, and within the lag asked for.
#[test]
fn health_checks_pass_only_for_the_local_master_and_fit_replicas() {
    use super::health::Verdict;
    let mut h = Harness::new(master_cfg(1));
    h.healthy_ticks(20);
    let local = |h: &mut Harness, ip: &str| {
        let addrs = vec![ip.parse().unwrap()];
        h.s.handle(Input::LocalAddrs { addrs }, h.now);
    };
    let fails = |v: Verdict, why: &str| match v {
        Verdict::Fail(text) => assert!(text.contains(why), "{text:?} lacks {why:?}"),
        other => panic!("expected a failure ({why}), got {other:?}"),
    };
    assert!(matches!(h.s.health(h.now), Verdict::Pass(_)));
    assert_eq!(h.s.primary_health("nosuch", h.now), Verdict::UnknownMaster);
    assert_eq!(
        h.s.replica_health("nosuch", None, h.now),
        Verdict::UnknownMaster
    );
    fails(h.s.primary_health("mymaster", h.now), "not on this host");

    local(&mut h, "127.0.0.1");
    assert!(matches!(
        h.s.primary_health("mymaster", h.now),
        Verdict::Pass(_)
    ));
    fails(h.s.replica_health("mymaster", None, h.now), "no replica");

    // The replica 127.0.0.2:6380 is at offset 100; the master's INFO gives 150 from now on.
    local(&mut h, "127.0.0.2");
    fails(h.s.primary_health("mymaster", h.now), "not on this host");
    assert!(matches!(
        h.s.replica_health("mymaster", None, h.now),
        Verdict::Pass(_)
    ));
    fails(
        h.s.replica_health("mymaster", Some(10), h.now),
        "not known yet",
    );
    h.ticks(110, |port, kind, words| {
        if port == 6379 && words[0] == "INFO" {
            let info = info_master(&[(6380, 100), (6381, 90)]) + "master_repl_offset:150\r\n";
            return Some(Reply::bulk(info));
        }
        healthy(port, kind, words)
    });
    assert_eq!(
        h.s.replica_health("mymaster", Some(50), h.now),
        Verdict::Pass("replica 127.0.0.2:6380, lag 50 bytes".into())
    );
    fails(
        h.s.replica_health("mymaster", Some(49), h.now),
        "lags 50 bytes",
    );

    // The master stops answering: no longer a primary once it is SDOWN.
    local(&mut h, "127.0.0.1");
    h.ticks(15, |port, kind, words| {
        (port != 6379).then(|| healthy(port, kind, words)).flatten()
    });
    fails(h.s.primary_health("mymaster", h.now), "is down");
}

/// With a VIP, the master's node is a primary only while it holds the VIP: not once the peers
/// stop confirming its lease and it gives the VIP up.
#[test]
fn a_master_with_a_vip_is_a_primary_only_while_its_node_holds_it() {
    use super::health::Verdict;
    let mut h = vip_harness("127.0.0.1", "127.0.0.2", |_| {});
    let peers_answer = std::cell::Cell::new(true);
    let world = |port: u16, kind: LinkKind, words: &[String]| -> Option<Reply> {
        if words[0] == "SENTINEL" && words[1].eq_ignore_ascii_case("get-master-addr-by-name") {
            return peers_answer
                .get()
                .then(|| Reply::Array(vec![Reply::bulk("127.0.0.1"), Reply::bulk("6379")]));
        }
        healthy(port, kind, words)
    };
    h.ticks(10, &world);
    assert!(h.has_event("+vip-claimed"), "{:?}", h.event_kinds());
    assert!(matches!(
        h.s.primary_health("mymaster", h.now),
        Verdict::Pass(_)
    ));
    peers_answer.set(false);
    h.ticks(25, &world);
    assert!(h.has_event("-vip-released"));
    match h.s.primary_health("mymaster", h.now) {
        Verdict::Fail(why) => assert!(why.starts_with("the VIP 10.9.9.9"), "{why}"),
        other => panic!("{other:?}"),
    }
}

/// Issue 19: a `SENTINEL FAILOVER` tells the peers at once (a vote request, though the master
/// is up), and a sentinel asked next for the same failover, before the switch reaches it, joins
/// it: `+OK`, no failover of its own.
#[test]
fn a_forced_failover_is_announced_and_the_next_one_asked_joins_it() {
    // The first sentinel: its forced failover asks both peers for their vote at its epoch.
    let mut first = with_two_peers(2);
    first.healthy_ticks(3);
    first.inbox.clear();
    assert_eq!(first.command(&["FAILOVER", "mymaster"]), Reply::ok());
    for port in [26380, 26381] {
        let asked = first.inbox.iter().any(|(link, w)| {
            first.conns.get(link).is_some_and(|c| c.port == port)
                && w[1].eq_ignore_ascii_case("is-master-down-by-addr")
                && w[4] == "1"
                && w[5] == "f".repeat(40)
        });
        assert!(asked, "no vote request to {port}: {:?}", first.inbox);
    }

    // The next one asked: the request came first (the master answers: no vote), then the user.
    let mut next = with_two_peers(2);
    next.healthy_ticks(3);
    let Reply::Array(answer) =
        next.command(&["IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", "6379", "1", PEER1])
    else {
        panic!("an array")
    };
    assert_eq!(answer[0], Reply::Int(0));
    assert_eq!(next.command(&["FAILOVER", "mymaster"]), Reply::ok());
    next.healthy_ticks(3);
    assert!(!next.has_event("+try-failover"), "{:?}", next.event_kinds());
    assert!(
        !next.inbox.iter().any(|(_, w)| w[0] == "SLAVEOF"),
        "promoted nothing"
    );
    // Later (past two hello periods) a request is a new failover of its own.
    next.healthy_ticks(45);
    assert_eq!(next.command(&["FAILOVER", "mymaster"]), Reply::ok());
    assert!(next.has_event("+try-failover") || next.has_event("+failover-state-select-slave"));
}
