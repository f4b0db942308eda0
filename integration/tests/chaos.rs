//! Issue 19: a seeded chaos run over a mixed group (3 Wardens + 2 redis-sentinels, quorum 3,
//! down-after 1500 ms: at 1000 ms a redis-sentinel can still fail a fresh master over again, see
//! docs/compatibility.md, *Mixed groups*) and, with the same seed and so the same fault sequence, over a group of five
//! redis-sentinels. Faults: master kills and stops, sentinel kills and stops, manual failovers.
//! A Sentinel-aware writer (it asks the sentinels for the master, checks `ROLE`, re-asks after any
//! error) pushes a fresh number every 2 ms throughout.
//!
//! After every fault the mixed group must agree (every sentinel names one master, which reports
//! `role:master`, every other server replicating from it), must not fail a freshly promoted master
//! over again (every `+switch-master` of a round names the round's final master; none in rounds
//! with sentinel faults only), and must lose no acknowledged write in rounds with sentinel faults
//! only. Master-fault rounds lose what the old master acknowledged and had not replicated, manual
//! failovers what the old master acknowledged after the promotion: those are counted for both
//! groups and printed, and the mixed group may not lose more in kill rounds than a margin over the
//! all-redis group. `CHAOS_SEED` picks the seed (default 19), `CHAOS_FAULTS` the count (default 20).
//!
//! Needs `redis-server` and `redis-sentinel` on PATH and the release binary
//! (`target/release/warden` or `$WARDEN_BIN`).

use std::collections::HashSet;
use std::io::{self, BufReader, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use warden_integration::bed::MASTER_NAME;
use warden_integration::events::{dump, Event, EventLog};
use warden_integration::group::{role, Group, Settings};
use warden_integration::process::Process;
use warden_integration::resp::{encode_command, read_value, Value};
use warden_integration::servers::{Flavor, RedisServer};
use warden_integration::wait::{wait_for, wait_until};

/// Longest wait for a group to agree after a fault (a split vote is retried after 2 ×
/// failover-timeout; an old master that comes back is converted after 4 hello periods).
const AGREE_TIMEOUT: Duration = Duration::from_secs(60);
/// Longest wait for the peers to see a killed or stopped sentinel down: a peer that was itself
/// stopped in an earlier round may still be in TILT (30 s, no SDOWN judged meanwhile; seen in
/// both groups with the same seed).
const SDOWN_TIMEOUT: Duration = Duration::from_secs(45);
/// Connect and read timeout of the writer's calls (a stopped server must not stall it long).
const CALL_TIMEOUT: Duration = Duration::from_millis(300);
/// Time between two writes.
const WRITE_PERIOD: Duration = Duration::from_millis(2);
/// Writes acknowledged in a round before its fault.
const STEADY_WRITES: usize = 200;
/// How often the writer re-asks the sentinels which master to write to.
const RECHECK_PERIOD: Duration = Duration::from_millis(100);
/// The list the writer pushes to.
const LIST: &str = "chaos";
/// How long after following a peer's failover a Warden answers `SENTINEL FAILOVER` by joining
/// it (two hello periods), with a margin.
const JOIN_WINDOW: Duration = Duration::from_millis(4500);
/// Extra writes the mixed group may lose over the all-redis group in all kill rounds together
/// (a kill loses what was acknowledged and not yet replicated: a few writes either way).
const KILL_LOSS_MARGIN: usize = 50;

/// One fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    /// SIGKILL the master; bring it back as a replica of the new one once the group agrees.
    KillMaster,
    /// SIGSTOP the master until the group agrees on another, then SIGCONT it.
    StopMaster,
    /// SIGKILL sentinel `i` until its peers see it down, then restart it with its config.
    KillSentinel(usize),
    /// SIGSTOP sentinel `i` until its peers see it down, then SIGCONT it (it enters TILT).
    StopSentinel(usize),
    /// `SENTINEL FAILOVER mymaster` at sentinel `i`.
    ManualFailover(usize),
}

impl Fault {
    fn sentinel_only(self) -> bool {
        matches!(self, Fault::KillSentinel(_) | Fault::StopSentinel(_))
    }
}

/// The fault sequence of `seed` for a group of `sentinels`: every kind at least once.
fn faults(seed: u64, count: usize, sentinels: usize) -> Vec<Fault> {
    let mut rng = SmallRng::seed_from_u64(seed);
    let kinds = |k: usize, rng: &mut SmallRng| {
        let i = rng.gen_range(0..sentinels);
        match k {
            0 => Fault::KillMaster,
            1 => Fault::StopMaster,
            2 => Fault::KillSentinel(i),
            3 => Fault::StopSentinel(i),
            _ => Fault::ManualFailover(i),
        }
    };
    let mut out: Vec<Fault> = (0..5).map(|k| kinds(k, &mut rng)).collect();
    while out.len() < count {
        let k = rng.gen_range(0..5);
        let f = kinds(k, &mut rng);
        out.push(f);
    }
    // Seeded shuffle so the guaranteed kinds are not all at the start.
    for i in (1..out.len()).rev() {
        out.swap(i, rng.gen_range(0..=i));
    }
    out
}

/// One call with [`CALL_TIMEOUT`] on a new connection.
fn call(port: u16, args: &[&str]) -> io::Result<Value> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let stream = TcpStream::connect_timeout(&addr, CALL_TIMEOUT)?;
    stream.set_read_timeout(Some(CALL_TIMEOUT))?;
    stream.set_write_timeout(Some(CALL_TIMEOUT))?;
    stream.set_nodelay(true)?;
    (&stream).write_all(&encode_command(args))?;
    read_value(&mut BufReader::new(stream))
}

/// A kept connection of the writer.
struct Conn {
    stream: TcpStream,
    reader: BufReader<TcpStream>,
}

impl Conn {
    fn open(port: u16) -> io::Result<Conn> {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let stream = TcpStream::connect_timeout(&addr, CALL_TIMEOUT)?;
        stream.set_read_timeout(Some(CALL_TIMEOUT))?;
        stream.set_write_timeout(Some(CALL_TIMEOUT))?;
        stream.set_nodelay(true)?;
        let reader = BufReader::new(stream.try_clone()?);
        Ok(Conn { stream, reader })
    }

    fn call(&mut self, args: &[&str]) -> io::Result<Value> {
        self.stream.write_all(&encode_command(args))?;
        read_value(&mut self.reader)
    }
}

/// The master port the first answering sentinel names.
fn named_master(sentinels: &[u16]) -> Option<u16> {
    sentinels.iter().find_map(|&port| {
        call(port, &["SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER_NAME])
            .ok()?
            .as_items()?
            .get(1)?
            .as_text()?
            .parse()
            .ok()
    })
}

/// The master the first answering sentinel names, connected and checked with `ROLE` (what a
/// Sentinel-aware client library does).
fn connect_master(sentinels: &[u16]) -> Option<(u16, Conn)> {
    for i in 0..sentinels.len() {
        let Some(master) = named_master(&sentinels[i..]) else {
            continue;
        };
        let Ok(mut conn) = Conn::open(master) else {
            continue;
        };
        let is_master = conn.call(&["ROLE"]).ok().is_some_and(|r| {
            r.as_items()
                .and_then(|a| a.first())
                .and_then(Value::as_text)
                .as_deref()
                == Some("master")
        });
        if is_master {
            return Some((master, conn));
        }
    }
    None
}

/// The writer: `RPUSH chaos <n>` every [`WRITE_PERIOD`]; the numbers acknowledged go to `acked`.
/// Like a client that follows `+switch-master`, it also re-asks the sentinels every
/// [`RECHECK_PERIOD`] and moves when they name another master.
struct Writer {
    stop: Arc<AtomicBool>,
    acked: Arc<Mutex<Vec<u64>>>,
    handle: Option<thread::JoinHandle<()>>,
}

impl Writer {
    fn start(sentinels: Vec<u16>) -> Writer {
        let stop = Arc::new(AtomicBool::new(false));
        let acked = Arc::new(Mutex::new(Vec::new()));
        let (flag, log) = (stop.clone(), acked.clone());
        let handle = thread::spawn(move || {
            let mut conn: Option<(u16, Conn)> = None;
            let mut n = 0u64;
            let mut checked = Instant::now();
            while !flag.load(Ordering::Relaxed) {
                thread::sleep(WRITE_PERIOD);
                if checked.elapsed() >= RECHECK_PERIOD {
                    checked = Instant::now();
                    let named = named_master(&sentinels);
                    if conn.as_ref().is_some_and(|(port, _)| named != Some(*port)) {
                        conn = None;
                    }
                }
                if conn.is_none() {
                    conn = connect_master(&sentinels);
                }
                let Some((_, c)) = conn.as_mut() else {
                    continue;
                };
                n += 1;
                match c.call(&["RPUSH", LIST, &n.to_string()]) {
                    Ok(Value::Integer(_)) => log.lock().unwrap().push(n),
                    _ => conn = None,
                }
            }
        });
        Writer {
            stop,
            acked,
            handle: Some(handle),
        }
    }

    /// How many numbers were acknowledged since the last [`Writer::take_acked`].
    fn acked_count(&self) -> usize {
        self.acked.lock().unwrap().len()
    }

    /// The numbers acknowledged so far, taken out.
    fn take_acked(&self) -> Vec<u64> {
        std::mem::take(&mut *self.acked.lock().unwrap())
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// What one group went through, round by round.
#[derive(Default, Debug)]
struct Outcome {
    /// Acknowledged writes lost per round.
    lost: Vec<usize>,
    /// Replicas promoted per round beyond the round's final master (a second failover), or
    /// at all in a round without a master fault or manual failover.
    extra_promotions: Vec<usize>,
    /// `+odown` of a master promoted in the same round, per round.
    fresh_odowns: Vec<usize>,
    /// The round after which the group did not agree within [`AGREE_TIMEOUT`] (the run ended).
    disagreed: Option<usize>,
}

/// The servers of the group (the initial master and replicas).
fn servers_mut(group: &mut Group) -> impl Iterator<Item = &mut RedisServer> {
    std::iter::once(&mut group.master).chain(group.replicas.iter_mut())
}

fn server_ports(group: &Group) -> Vec<u16> {
    std::iter::once(&group.master)
        .chain(&group.replicas)
        .map(|s| s.port)
        .collect()
}

/// Waits until every sentinel names one master, other than `not` if given, which reports
/// `role:master` while every other server replicates from it with its link up. Returns its port,
/// or why not (with the sentinels' logs).
/// Waits until every sentinel names the same master — not `not` (the master the round's fault
/// hit), unless the group switched twice since `epoch_before` and came back to it (a second,
/// legitimate failover: see [`legitimate_second_failovers`]) — and every server agrees with the
/// sentinels; returns that master.
fn wait_agreement(group: &Group, not: Option<u16>, epoch_before: u64) -> Result<u16, String> {
    let servers = server_ports(group);
    wait_until(AGREE_TIMEOUT, "the group to agree", || {
        let named: Vec<Result<u16, String>> = group
            .all()
            .iter()
            .map(|&i| group.reported_master(i))
            .collect();
        let master = match named.first() {
            Some(Ok(p)) if named.iter().all(|n| n.as_ref() == Ok(p)) => *p,
            _ => return Err(format!("sentinels name {named:?}")),
        };
        if Some(master) == not && !switched_back(group, master, epoch_before) {
            return Err(format!("still {master}"));
        }
        for &port in &servers {
            let server = group.server(port).expect("a server");
            let (r, of) = role(server)?;
            let link = server
                .replication_field("master_link_status")
                .map_err(|e| e.to_string())?;
            let ok = if port == master {
                r == "master"
            } else {
                r == "slave" && of == Some(master) && link.as_deref() == Some("up")
            };
            if !ok {
                return Err(format!(
                    "{port}: {r} of {of:?} link {link:?}, master {master}"
                ));
            }
        }
        Ok(master)
    })
    .map_err(|e| format!("{e}\n{}", group.logs(40)))
}

/// Waits until every other sentinel lists sentinel `i` with the `s_down` flag.
fn wait_sentinel_seen_down(group: &Group, i: usize) {
    let port = group.sentinels[i].port.to_string();
    for (o, other) in group.sentinels.iter().enumerate().filter(|(o, _)| *o != i) {
        wait_until(SDOWN_TIMEOUT, "the peers to see the sentinel down", || {
            let reply = other
                .client()
                .and_then(|mut c| c.call(&["SENTINEL", "SENTINELS", MASTER_NAME]))
                .map_err(|e| e.to_string())?;
            let down = reply.as_items().unwrap_or_default().iter().any(|s| {
                s.field_text("port").as_deref() == Some(port.as_str())
                    && s.field_text("flags").is_some_and(|f| f.contains("s_down"))
            });
            if down {
                Ok(())
            } else {
                Err(format!("sentinel {o}: {reply}"))
            }
        })
        .unwrap_or_else(|e| panic!("{e}\n{}", group.logs(20)));
    }
}

/// Waits until sentinel `i` lists every server but the master as a replica with its link up.
fn wait_replicas_known(group: &Group, i: usize) {
    wait_until(AGREE_TIMEOUT, "the sentinel to know every replica", || {
        let reply = group.sentinels[i]
            .client()
            .and_then(|mut c| c.call(&["SENTINEL", "REPLICAS", MASTER_NAME]))
            .map_err(|e| e.to_string())?;
        let items = reply.as_items().unwrap_or_default();
        let ok = items.len() == server_ports(group).len() - 1
            && items.iter().all(|r| {
                r.field_text("flags").as_deref() == Some("slave")
                    && r.field_text("master-link-status").as_deref() == Some("ok")
            });
        if ok {
            Ok(())
        } else {
            Err(reply.to_string())
        }
    })
    .unwrap_or_else(|e| panic!("{e}\n{}", group.logs(20)));
}

/// Restarts sentinel `i` with its (rewritten) configuration on its port.
fn restart_sentinel(group: &mut Group, i: usize) {
    let s = &mut group.sentinels[i];
    let mut cmd = Command::new(s.flavor.binary().unwrap());
    cmd.arg(&s.config_path);
    s.process = Process::spawn(&format!("{}-{}-again", s.flavor, s.port), cmd, s.dir.path())
        .unwrap_or_else(|e| panic!("cannot restart sentinel {i}: {e}"));
    s.wait_ready(Duration::from_secs(10))
        .unwrap_or_else(|e| panic!("sentinel {i} did not come back: {e}"));
}

/// The numbers in the master's list.
fn stored(master: u16) -> HashSet<u64> {
    let reply = warden_integration::client::Client::connect(master)
        .and_then(|mut c| c.call(&["LRANGE", LIST, "0", "-1"]))
        .unwrap_or_else(|e| panic!("LRANGE on {master}: {e}"));
    reply
        .as_items()
        .unwrap_or_default()
        .iter()
        .filter_map(|v| v.as_text()?.parse().ok())
        .collect()
}

/// Runs `faults` over a group of `flavors`; panics on a broken rule when `strict`.
fn run(flavors: &[Flavor], faults: &[Fault], strict: bool) -> Outcome {
    let settings = Settings {
        quorum: 3,
        down_after_ms: 1500,
        failover_timeout_ms: 3000,
        ..Settings::default()
    };
    let mut group =
        Group::start(flavors, &settings).unwrap_or_else(|e| panic!("cannot start the group: {e}"));
    group
        .wait_discovered()
        .unwrap_or_else(|e| panic!("the sentinels did not discover each other: {e}"));
    let writer = Writer::start(group.sentinel_ports());
    let mut master = group.master.port;
    let mut outcome = Outcome::default();
    let mut last_switch = Instant::now();
    let name = format!("{flavors:?}");
    for (round, &fault) in faults.iter().enumerate() {
        // The writer has been writing to the agreed master for a while when the fault hits.
        wait_for(AGREE_TIMEOUT, "steady writes", || {
            writer.acked_count() >= STEADY_WRITES
        })
        .unwrap_or_else(|e| panic!("{name} round {round}: {e}"));
        let started = Instant::now();
        let epoch_before = config_epoch(&group);
        let mut log = EventLog::subscribe(&group.sentinel_ports()).unwrap();
        let mut restart_master = None;
        let mut manual_ok = false;
        match fault {
            Fault::KillMaster | Fault::StopMaster => {
                let signal = if fault == Fault::KillMaster {
                    libc::SIGKILL
                } else {
                    libc::SIGSTOP
                };
                let server = servers_mut(&mut group).find(|s| s.port == master).unwrap();
                server.process.signal(signal).unwrap();
                restart_master = Some(master);
            }
            Fault::KillSentinel(i) | Fault::StopSentinel(i) => {
                let signal = if matches!(fault, Fault::KillSentinel(_)) {
                    libc::SIGKILL
                } else {
                    libc::SIGSTOP
                };
                group.sentinels[i].process.signal(signal).unwrap();
                wait_sentinel_seen_down(&group, i);
                if signal == libc::SIGKILL {
                    restart_sentinel(&mut group, i);
                } else {
                    group.sentinels[i].process.signal(libc::SIGCONT).unwrap();
                }
            }
            Fault::ManualFailover(i) => {
                // A Warden that followed a peer's failover within two hello periods answers
                // +OK and joins it (docs/compatibility.md): ask when that is over, and when
                // the asked sentinel has read every replica's INFO.
                wait_for(AGREE_TIMEOUT, "the join window to pass", || {
                    last_switch.elapsed() > JOIN_WINDOW
                })
                .unwrap();
                wait_replicas_known(&group, i);
                let reply = group.sentinels[i]
                    .client()
                    .and_then(|mut c| c.call(&["SENTINEL", "FAILOVER", MASTER_NAME]))
                    .unwrap();
                manual_ok = reply.as_text().as_deref() == Some("OK");
                assert!(manual_ok || !strict, "{name} round {round}: {reply}");
                if !manual_ok {
                    eprintln!("{name} round {round}: SENTINEL FAILOVER -> {reply}");
                }
            }
        }
        let moved = match fault {
            Fault::ManualFailover(_) => manual_ok,
            other => !other.sentinel_only(),
        };
        if let Some(old) = restart_master {
            // The others take over first; the old master comes back (SIGCONT, or a restart as
            // a replica of the new one, its data lost with the process).
            let new = match wait_master_named_everywhere(&group, old) {
                Ok(new) => new,
                Err(e) => {
                    let stuck = redis_sentinels_stuck_in_own_failover(&group, old);
                    assert!(!strict || stuck, "{name} round {round} {fault:?}: {e}");
                    eprintln!("{name} round {round} {fault:?}: no agreement; run ends");
                    outcome.disagreed = Some(round);
                    break;
                }
            };
            let server = servers_mut(&mut group).find(|s| s.port == old).unwrap();
            if fault == Fault::KillMaster {
                *server =
                    RedisServer::start_on(old, &["--replicaof", "127.0.0.1", &new.to_string()])
                        .unwrap_or_else(|e| panic!("cannot restart {old}: {e}"));
            } else {
                server.process.signal(libc::SIGCONT).unwrap();
            }
        }
        let agreed = match wait_agreement(&group, moved.then_some(master), epoch_before) {
            Ok(agreed) => agreed,
            Err(e) => {
                assert!(!strict, "{name} round {round} {fault:?}: {e}");
                eprintln!("{name} round {round} {fault:?}: no agreement; run ends");
                outcome.disagreed = Some(round);
                break;
            }
        };
        // Lost: acknowledged this round, missing from the master the group agreed on.
        let acked = writer.take_acked();
        let kept = stored(agreed);
        let lost = acked.iter().filter(|n| !kept.contains(n)).count();
        log.collect();
        let events = log.events();
        // Failovers of the round: the replicas promoted. One, the final master, after a master
        // fault or a manual failover; none after sentinel faults. (A +switch-master can come
        // after the agreement, at the end of the leader's failover: the sentinels name the
        // promoted replica from its promotion on.)
        let promoted: HashSet<&str> = events
            .iter()
            .filter(|e| e.channel == "+promoted-slave")
            .filter_map(|e| e.payload.split(' ').nth(3))
            .collect();
        let agreed_port = agreed.to_string();
        let legitimate = legitimate_second_failovers(events, flavors);
        let extra = promoted
            .iter()
            .filter(|p| !moved || **p != agreed_port)
            .filter(|p| !legitimate.contains(**p))
            .count();
        let fresh_odowns = events
            .iter()
            .filter(|e| {
                e.channel == "+odown" && e.payload.contains(&format!("127.0.0.1 {agreed} "))
            })
            .count();
        eprintln!(
            "{name} round {round} {fault:?}: master {master} -> {agreed} in {:?}, acked {}, lost {lost}, extra promotions {extra}, +odown of the new master {fresh_odowns}",
            started.elapsed(),
            acked.len()
        );
        if strict {
            assert_eq!(
                extra,
                0,
                "{name} round {round} {fault:?}: a second failover\n{}",
                dump(events)
            );
            if fault.sentinel_only() {
                assert_eq!(
                    lost, 0,
                    "{name} round {round} {fault:?}: lost acknowledged writes"
                );
            }
        }
        outcome.lost.push(lost);
        outcome.extra_promotions.push(extra);
        outcome.fresh_odowns.push(fresh_odowns);
        if agreed != master {
            last_switch = Instant::now();
        }
        master = agreed;
    }
    outcome
}

/// The current config epoch of the master (the highest any sentinel reports).
fn config_epoch(group: &Group) -> u64 {
    group
        .sentinels
        .iter()
        .filter_map(|s| s.master(MASTER_NAME).ok())
        .filter_map(|m| m.field_text("config-epoch")?.parse().ok())
        .max()
        .unwrap_or(0)
}

/// Whether every sentinel that answers reports `master` at a config epoch at least two above
/// `epoch_before`: the group moved away from it and back within the round.
fn switched_back(group: &Group, master: u16, epoch_before: u64) -> bool {
    group.sentinels.iter().all(|s| {
        s.master(MASTER_NAME).is_ok_and(|m| {
            m.field_text("port").as_deref() == Some(master.to_string().as_str())
                && m.field_text("config-epoch")
                    .and_then(|e| e.parse::<u64>().ok())
                    .is_some_and(|e| e >= epoch_before + 2)
        })
    })
}

/// Ports of masters promoted in the round and later failed over again because they stopped
/// answering: an `+odown` of that port published by a redis-sentinel (the reference judged it
/// down too, so the second failover is the group's legitimate reaction, not a Warden fault).
/// Seen on loaded runs: a freshly promoted master stalled past down-after while the restarted
/// old master synced from it.
fn legitimate_second_failovers(events: &[Event], flavors: &[Flavor]) -> HashSet<String> {
    events
        .iter()
        .filter(|e| e.channel == "+odown" && flavors.get(e.source) == Some(&Flavor::Redis))
        .filter_map(|e| e.payload.split(' ').nth(3).map(str::to_string))
        .collect()
}

/// Whether every sentinel that does not name a master other than `old` is a redis-sentinel
/// stuck in a failover of its own whose promoted replica is `old`, now down: Redis does not end
/// a failover while its promoted replica is down (`sentinelFailoverDetectEnd`), keeps naming
/// that replica meanwhile, and a newer epoch announcing the address it still has for the master
/// does not reset it — the incumbent's behaviour, which the all-redis group meets as well.
fn redis_sentinels_stuck_in_own_failover(group: &Group, old: u16) -> bool {
    let stuck: Vec<usize> = group
        .all()
        .into_iter()
        .filter(|&i| group.reported_master(i) == Ok(old))
        .collect();
    !stuck.is_empty()
        && stuck.iter().all(|&i| {
            let sentinel = &group.sentinels[i];
            let flags = sentinel
                .master(MASTER_NAME)
                .ok()
                .and_then(|m| m.field_text("flags"))
                .unwrap_or_default();
            let yes = sentinel.flavor == Flavor::Redis && flags.contains("failover_in_progress");
            if yes {
                eprintln!(
                    "redis-sentinel {} is stuck in its own failover to {old}, which is down \
                     (flags {flags})",
                    sentinel.port
                );
            }
            yes
        })
}

/// Waits until every sentinel names a master other than `old` (the fault's survivors took over).
fn wait_master_named_everywhere(group: &Group, old: u16) -> Result<u16, String> {
    let mut new = 0;
    wait_for(AGREE_TIMEOUT, "every sentinel to name a new master", || {
        let named: Vec<Result<u16, String>> = group
            .all()
            .iter()
            .map(|&i| group.reported_master(i))
            .collect();
        match named.first() {
            Some(Ok(p)) if *p != old && named.iter().all(|n| n.as_ref() == Ok(p)) => {
                new = *p;
                true
            }
            _ => false,
        }
    })
    .map_err(|e| format!("{e}\n{}", group.logs(40)))?;
    Ok(new)
}

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn sum_where(outcome: &Outcome, faults: &[Fault], f: impl Fn(Fault) -> bool) -> usize {
    faults
        .iter()
        .zip(&outcome.lost)
        .filter(|(fault, _)| f(**fault))
        .map(|(_, lost)| lost)
        .sum()
}

/// The seeded chaos run, mixed group against an all-redis group under the same faults. A round
/// may end in a second failover both implementations agree is needed (a freshly promoted master
/// that stalled past down-after, judged ODOWN by a redis-sentinel too): it is accepted, and the
/// group may come back to the master the fault hit (seen in 2 of 4 full runs on 2026-12-04,
/// seed 19's last round; the all-redis group did the same once).
#[test]
fn mixed_group_survives_seeded_chaos_like_redis_sentinels() {
    let seed = env_or("CHAOS_SEED", 19);
    let count = env_or("CHAOS_FAULTS", 20) as usize;
    const MIXED: [Flavor; 5] = [
        Flavor::Warden,
        Flavor::Warden,
        Flavor::Warden,
        Flavor::Redis,
        Flavor::Redis,
    ];
    let plan = faults(seed, count, MIXED.len());
    eprintln!("seed {seed}: {plan:?}");
    // Both groups at once (their processes are mostly idle): the same faults, each at its pace.
    let reference_plan = plan.clone();
    let reference = thread::spawn(move || run(&[Flavor::Redis; 5], &reference_plan, false));
    let mixed = run(&MIXED, &plan, true);
    let reference = reference.join().expect("the all-redis run panicked");
    let kill = |f: Fault| f == Fault::KillMaster;
    let stop = |f: Fault| f == Fault::StopMaster;
    let manual = |f: Fault| matches!(f, Fault::ManualFailover(_));
    let sentinel = |f: Fault| f.sentinel_only();
    for (label, o) in [("mixed", &mixed), ("all-redis", &reference)] {
        eprintln!(
            "seed {seed} {label}: lost in kill rounds {}, stop rounds {}, manual failovers {}, sentinel faults {}; rounds with a second failover {}; +odown of a fresh master {}",
            sum_where(o, &plan, kill),
            sum_where(o, &plan, stop),
            sum_where(o, &plan, manual),
            sum_where(o, &plan, sentinel),
            o.extra_promotions.iter().filter(|&&x| x > 0).count(),
            o.fresh_odowns.iter().sum::<usize>(),
        );
    }
    // Compared over the rounds both groups completed.
    let common = &plan[..reference.lost.len().min(mixed.lost.len())];
    for (label, o) in [("mixed", &mixed), ("all-redis", &reference)] {
        if let Some(round) = o.disagreed {
            eprintln!("seed {seed} {label}: no agreement in round {round}; kill losses compared over the rounds before");
        }
    }
    let (mixed_kill, reference_kill) = (
        sum_where(&mixed, common, kill),
        sum_where(&reference, common, kill),
    );
    assert!(
        mixed_kill <= reference_kill + KILL_LOSS_MARGIN,
        "kill rounds: the mixed group lost {mixed_kill}, the all-redis group {reference_kill}"
    );
}
