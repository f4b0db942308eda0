//! The simulation engine: one virtual clock, one event queue, one random stream. It runs the
//! real sentinel cores and the simulated Redis servers, moves every byte through the network
//! model, executes the cores' actions and hands everything they say to the invariant checker.
//!
//! Submodules: `links` (the TCP model), `serve` (server sides: Redis and sentinel listeners,
//! replies held for a save), `faults` (injection and healing, crashes and restarts),
//! `checks` (VIP lease, convergence, fleet liveness).

mod checks;
mod faults;
mod links;
mod serve;

use crate::invariants::{Checker, DiskView, Violation};
use crate::link::{Dir, Endpoint, Link, Segment};
use crate::net::Net;
use crate::node::{BrokenVoter, DiskHandle, Node};
use crate::panics;
use crate::redis::{Redis, Role};
use crate::scenario::{DiskMode, Profile, Scenario, TickMode, Time};
use crate::trace::{Detail, Trace};
use bytes::Bytes;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap};
use warden_core::config::{MasterConfig, SentinelConfig, VipConfig, VipMode};
use warden_core::io::{Event, ScriptOutcome};
use warden_core::{Action, Input, LinkId, Millis, Sentinel};

/// Wall-clock reading of every node at simulated time 0 (a plausible Unix time in ms).
pub const BASE_WALL: u64 = 1_700_000_000_000;
/// The monitored master's name in the single-master profiles.
pub const MASTER: &str = "mymaster";
/// Port of every sentinel listener.
const SENTINEL_PORT: u16 = 26379;
/// More actions than this from one step is unbounded growth.
const MAX_ACTIONS_PER_STEP: usize = 10_000;
/// More unanswered commands than this on one link is an unbounded queue (the core caps
/// periodic commands at 100 per link).
const MAX_PENDING_PER_LINK: usize = 1_000;
/// Redis replication cron period.
const REDIS_CRON_MS: Time = 100;

/// How to run one seed.
#[derive(Debug, Clone, Copy)]
pub struct RunOptions {
    /// Scenario profile.
    pub profile: Profile,
    /// Trace detail.
    pub trace: Detail,
    /// Make sentinel 0 the self-check's broken voter.
    pub broken_voter: BrokenVoter,
    /// Fleet profile: the number of masters (drawn per seed when `None`).
    pub masters: Option<usize>,
}

impl RunOptions {
    /// Options for `profile`, no trace, a correct group.
    pub fn new(profile: Profile) -> RunOptions {
        RunOptions {
            profile,
            trace: Detail::Off,
            broken_voter: BrokenVoter::No,
            masters: None,
        }
    }
}

/// Counters of one run.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    /// Events taken off the queue.
    pub events: u64,
    /// Calls into cores.
    pub steps: u64,
    /// Simulated milliseconds covered.
    pub sim_ms: Time,
    /// Distinct (epoch) leaders elected.
    pub elections: usize,
    /// `+switch-master` events.
    pub switches: u64,
    /// `+tilt` events.
    pub tilts: u64,
    /// Restarted processes that found the VIP their predecessor left (kernel lifetime running).
    pub vip_found: u64,
    /// Of those, claims that kept the address in place (no gap).
    pub vip_kept: u64,
    /// `-failover-abort-not-elected` events (lost or split elections: reported, not failed).
    pub aborts_not_elected: u64,
    /// `+vote-for-leader` events.
    pub votes: u64,
    /// Config-file writes that reached a disk.
    pub saves: u64,
    /// Of those, background saves (`Saved::Pending`, completed later).
    pub background_saves: u64,
    /// Sentinel replies held until a save was durable.
    pub held_replies: u64,
    /// Fleet: masters monitored.
    pub masters: usize,
    /// Fleet: virtual-time latency of each failover after the mass fault (fault to
    /// `+switch-master` at a majority of the live sentinels), ms.
    pub failover_ms: Vec<Time>,
    /// Fleet: shards the liveness check watched.
    pub watched_shards: u64,
    /// Fleet: config-file writes during the mass failover (fault to deadline), all sentinels.
    pub mass_saves: u64,
    /// Fleet: `+vote-for-leader` events in the same window.
    pub mass_votes: u64,
    /// Fleet: sentinels those two counts cover.
    pub mass_sentinels: u64,
    /// Fleet: the same three counts for the sentinels with a background disk only.
    pub mass_saves_bg: u64,
    /// See `mass_saves_bg`.
    pub mass_votes_bg: u64,
    /// See `mass_saves_bg`.
    pub mass_sentinels_bg: u64,
}

/// Result of one run.
#[derive(Debug)]
pub struct Outcome {
    /// The seed.
    pub seed: u64,
    /// The scenario it drew.
    pub scenario: Scenario,
    /// Invariants broken.
    pub violations: Vec<Violation>,
    /// Readable trace (empty unless requested).
    pub trace: Vec<String>,
    /// Counters.
    pub stats: Stats,
}

enum Ev {
    Boot {
        node: usize,
    },
    Tick {
        node: usize,
        incarnation: u32,
    },
    SynAttempt {
        key: u64,
    },
    Established {
        key: u64,
    },
    Arrive {
        key: u64,
        dir: Dir,
        seg: Segment,
    },
    Redeliver {
        key: u64,
        channel: Bytes,
        payload: Bytes,
    },
    StallTimeout {
        key: u64,
        dir: Dir,
        since: Time,
    },
    LinkDown {
        key: u64,
        reason: String,
    },
    FaultStart(usize),
    FaultEnd(usize),
    RedisCron,
    VipCheck,
    VipObserved {
        node: usize,
        incarnation: u32,
        present: bool,
    },
    ScriptExit {
        node: usize,
        incarnation: u32,
        id: u64,
    },
    /// A background save of `node` reaches its disk.
    SaveDone {
        node: usize,
        incarnation: u32,
        generation: u64,
    },
    /// The fleet's liveness deadline after the mass fault.
    FleetDeadline,
}

struct Scheduled {
    time: Time,
    seq: u64,
    ev: Ev,
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        (self.time, self.seq) == (other.time, other.seq)
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Scheduled {
    fn cmp(&self, other: &Self) -> Ordering {
        // Min-heap on (time, seq): earliest first, FIFO among equal times.
        (other.time, other.seq).cmp(&(self.time, self.seq))
    }
}

/// The whole simulated system.
pub struct World {
    sc: Scenario,
    now: Time,
    rng: SmallRng,
    queue: BinaryHeap<Scheduled>,
    seq: u64,
    net: Net,
    links: BTreeMap<u64, Link>,
    next_key: u64,
    by_id: BTreeMap<(usize, u32, LinkId), u64>,
    /// Every link by the server process it is attached to.
    by_target: BTreeSet<(Endpoint, u64)>,
    /// Open links per client node (every incarnation).
    open_links: Vec<usize>,
    /// (host, port) → Redis instance.
    addr_index: HashMap<(usize, u16), usize>,
    /// Master name → shard index (also its index in every sentinel's config).
    master_index: HashMap<String, usize>,
    /// More actions than this from one step is unbounded growth.
    max_actions: usize,
    /// More unanswered commands than this on one link is an unbounded queue.
    max_pending: usize,
    /// Fleet liveness after the mass fault.
    fleet: Option<checks::FleetWatch>,
    nodes: Vec<Node>,
    redis: Vec<Redis>,
    redis_crashes: Vec<u32>,
    ips: Vec<String>,
    checker: Checker,
    trace: Trace,
    stats: Stats,
    stop: bool,
    traced_violations: usize,
    /// Since when two live processes both hold the VIP (None: at most one does).
    vip_overlap_since: Option<Time>,
}

/// Run the scenario of `seed` to its end and check every invariant.
pub fn run(seed: u64, opts: RunOptions) -> Outcome {
    let scenario = Scenario::draw(seed, opts.profile, opts.masters);
    let mut world = World::new(scenario, opts);
    world.run();
    world.finish()
}

fn ip_of(host: usize) -> String {
    format!("10.0.0.{}", host + 1)
}

/// The deployed `sentinel.conf` of every node: one master per shard.
fn deployed_configs(sc: &Scenario, ids: &[String]) -> Vec<SentinelConfig> {
    let layout = &sc.layout;
    (0..sc.sentinels)
        .map(|n| {
            let masters = layout.shards.iter().map(|shard| {
                let master = &layout.instances[shard.first];
                let mut m =
                    MasterConfig::new(&shard.name, &ip_of(master.host), master.port, sc.quorum);
                m.down_after_ms = sc.down_after_ms;
                m.failover_timeout_ms = sc.failover_timeout_ms;
                m.parallel_syncs = sc.parallel_syncs;
                if sc.preknown_sentinels {
                    m.known_sentinels = (0..sc.sentinels)
                        .filter(|&p| p != n)
                        .map(|p| (ip_of(p), SENTINEL_PORT, ids[p].clone()))
                        .collect();
                    m.known_replicas = (shard.first + 1..shard.first + shard.len)
                        .map(|r| (ip_of(layout.instances[r].host), layout.instances[r].port))
                        .collect();
                }
                m
            });
            let mut masters: Vec<MasterConfig> = masters.collect();
            let m = &mut masters[0];
            m.vip = sc.vip_lease_ms.map(|lease_ms| VipConfig {
                addr: std::net::IpAddr::from([10, 0, 0, 200]),
                prefix: 32,
                interface: "eth0".into(),
                garp_count: 1,
                garp_interval_ms: 0,
                garp_repeat_delay_ms: 0,
                garp_refresh_ms: 0,
                lease_ms,
                mode: VipMode::Arp,
            });
            SentinelConfig {
                myid: Some(ids[n].clone()),
                deny_scripts_reconfig: true,
                masters,
                ..SentinelConfig::default()
            }
        })
        .collect()
}

impl World {
    fn new(sc: Scenario, opts: RunOptions) -> World {
        let mut rng = SmallRng::seed_from_u64(sc.seed ^ 0x5eed_0f5e_1711_e1e1);
        let ips: Vec<String> = (0..sc.hosts()).map(ip_of).collect();
        let ids: Vec<String> = (0..sc.sentinels)
            .map(|_| crate::redis::random_id(&mut rng))
            .collect();
        let nodes = deployed_configs(&sc, &ids)
            .into_iter()
            .enumerate()
            .map(|(n, cfg)| {
                let mut node = Node::new(
                    n,
                    ids[n].clone(),
                    DiskHandle::new(cfg, sc.disks[n]),
                    sc.tick_modes[n],
                    sc.sentinels,
                );
                if n == 0 {
                    node.broken = opts.broken_voter;
                }
                node
            })
            .collect();
        let layout = &sc.layout;
        let redis: Vec<Redis> = (0..sc.instances())
            .map(|r| {
                let spec = &layout.instances[r];
                let shard = layout.shard_of(r);
                let master = &layout.instances[shard.first];
                let role = if r == shard.first {
                    Role::Master
                } else {
                    Role::Replica {
                        host: ips[master.host].clone(),
                        port: master.port,
                    }
                };
                let mut redis = Redis::new(
                    spec.host,
                    ips[spec.host].clone(),
                    role,
                    spec.priority,
                    &mut rng,
                );
                redis.port = spec.port;
                redis.peers = shard.first..shard.first + shard.len;
                // A deployed group: replicas were in sync before the sentinels started.
                redis.link_up = r != shard.first;
                redis
            })
            .collect();
        let addr_index = redis
            .iter()
            .enumerate()
            .map(|(r, i)| ((i.host, i.port), r))
            .collect();
        let names: Vec<String> = layout.shards.iter().map(|s| s.name.clone()).collect();
        let master_index = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i))
            .collect();
        let masters = names.len();
        let mut world = World {
            net: Net::new(sc.hosts(), sc.net.clone()),
            checker: Checker::new(ids, sc.quorum, &names),
            by_target: BTreeSet::new(),
            open_links: vec![0; sc.sentinels],
            addr_index,
            master_index,
            // The core holds every action (pings included) behind a save in flight: the step
            // that ends a slow save (up to 1.5 s) releases a second and a half of them at once.
            max_actions: MAX_ACTIONS_PER_STEP.max(250 * masters),
            // A link to a peer sentinel is shared by every master; like Redis, the core caps
            // periodic commands per link at 100 × the masters sharing it.
            max_pending: if masters > 1 {
                MAX_PENDING_PER_LINK + 100 * masters
            } else {
                MAX_PENDING_PER_LINK
            },
            fleet: None,
            redis_crashes: vec![0; sc.instances()],
            sc,
            now: 0,
            rng,
            queue: BinaryHeap::new(),
            seq: 0,
            links: BTreeMap::new(),
            next_key: 0,
            by_id: BTreeMap::new(),
            nodes,
            redis,
            ips,
            trace: Trace::new(opts.trace),
            stats: Stats {
                masters,
                ..Stats::default()
            },
            stop: false,
            traced_violations: 0,
            vip_overlap_since: None,
        };
        for node in 0..world.sc.sentinels {
            let at = world.rng.gen_range(0..500);
            world.schedule(at, Ev::Boot { node });
        }
        for i in 0..world.sc.faults.len() {
            let (start, duration) = (world.sc.faults[i].at, world.sc.faults[i].duration);
            let end = start + duration;
            world.schedule(start, Ev::FaultStart(i));
            if duration > 0 {
                world.schedule(end, Ev::FaultEnd(i));
            }
        }
        world.schedule(REDIS_CRON_MS, Ev::RedisCron);
        if world.sc.vip_lease_ms.is_some() {
            world.schedule(checks::VIP_CHECK_MS, Ev::VipCheck);
        }
        if let Some(at) = world.sc.mass_fault_at {
            let deadline = at + world.sc.fleet_failover_bound();
            world.schedule(deadline, Ev::FleetDeadline);
        }
        world
    }

    fn schedule(&mut self, time: Time, ev: Ev) {
        self.seq += 1;
        self.queue.push(Scheduled {
            time,
            seq: self.seq,
            ev,
        });
    }

    fn run(&mut self) {
        while let Some(Scheduled { time, ev, .. }) = self.queue.pop() {
            if self.stop || time > self.sc.end_at {
                break;
            }
            self.now = time;
            self.stats.events += 1;
            if let Some(until) = self.deferred_until(&ev) {
                if let Ev::Tick { node, .. } = ev {
                    self.nodes[node].next_tick = Some(until);
                }
                self.schedule(until, ev);
                continue;
            }
            self.dispatch(ev);
            self.trace_new_violations();
        }
        self.now = self.now.max(self.sc.end_at);
        if !self.stop {
            self.check_convergence();
        }
        self.trace_new_violations();
    }

    /// Put violations found since the last call into the trace, where they happened.
    fn trace_new_violations(&mut self) {
        for v in &self.checker.violations[self.traced_violations..] {
            let line = v.to_string();
            self.trace.log(Detail::Events, v.time, "CHECK", || {
                format!("VIOLATION {line}")
            });
        }
        self.traced_violations = self.checker.violations.len();
    }

    fn finish(mut self) -> Outcome {
        self.stats.sim_ms = self.now;
        self.stats.saves = self.nodes.iter().map(|n| n.disk.lock().saves).sum();
        self.stats.elections = self.checker.elections();
        Outcome {
            seed: self.sc.seed,
            violations: std::mem::take(&mut self.checker.violations),
            trace: self.trace.lines().to_vec(),
            stats: self.stats,
            scenario: self.sc,
        }
    }

    /// If the event is for a paused sentinel process, when it can be handled.
    fn deferred_until(&self, ev: &Ev) -> Option<Time> {
        let node = match ev {
            Ev::Tick { node, .. }
            | Ev::VipObserved { node, .. }
            | Ev::ScriptExit { node, .. }
            | Ev::SaveDone { node, .. } => *node,
            Ev::Established { key }
            | Ev::LinkDown { key, .. }
            | Ev::Arrive {
                key,
                dir: Dir::ToClient,
                ..
            } => self.links.get(key)?.node,
            Ev::Arrive {
                key,
                dir: Dir::ToServer,
                ..
            } => match self.links.get(key)?.target {
                Endpoint::Sentinel(t) => t,
                Endpoint::Redis(_) => return None,
            },
            _ => return None,
        };
        self.nodes[node]
            .paused_until
            .filter(|&until| until > self.now)
    }

    fn dispatch(&mut self, ev: Ev) {
        match ev {
            Ev::Boot { node } => self.boot_node(node),
            Ev::Tick { node, incarnation } => self.tick(node, incarnation),
            Ev::SynAttempt { key } => self.syn_attempt(key),
            Ev::Established { key } => self.established(key),
            Ev::Arrive { key, dir, seg } => self.arrive(key, dir, seg),
            Ev::Redeliver {
                key,
                channel,
                payload,
            } => {
                if self
                    .links
                    .get(&key)
                    .is_some_and(|l| l.state == crate::link::State::Up)
                {
                    self.transmit(key, Dir::ToClient, Segment::Message { channel, payload });
                }
            }
            Ev::StallTimeout { key, dir, since } => {
                if let Some(link) = self.links.get_mut(&key) {
                    if link.stream(dir).stalled_since == Some(since) {
                        self.break_link(key, "Connection timed out");
                    }
                }
            }
            Ev::LinkDown { key, reason } => self.link_down(key, reason),
            Ev::FaultStart(i) => self.fault(i, true),
            Ev::FaultEnd(i) => self.fault(i, false),
            Ev::RedisCron => {
                crate::redis::cron(&mut self.redis, &self.net, self.now, &mut self.rng);
                self.schedule(self.now + REDIS_CRON_MS, Ev::RedisCron);
            }
            Ev::VipCheck => {
                self.expire_vip_lifetimes();
                self.check_vip_leases();
                self.check_vip_overlap();
                self.schedule(self.now + checks::VIP_CHECK_MS, Ev::VipCheck);
            }
            Ev::VipObserved {
                node,
                incarnation,
                present,
            } => {
                if self.nodes[node].incarnation == incarnation {
                    self.step(node, |c, now| {
                        c.handle(
                            Input::VipObserved {
                                master: MASTER.into(),
                                present,
                            },
                            now,
                        )
                    });
                }
            }
            Ev::ScriptExit {
                node,
                incarnation,
                id,
            } => {
                if self.nodes[node].incarnation == incarnation {
                    let input = Input::ScriptExited {
                        id,
                        outcome: ScriptOutcome::Exited(0),
                    };
                    self.step(node, |c, now| c.handle(input, now));
                }
            }
            Ev::SaveDone {
                node,
                incarnation,
                generation,
            } => self.save_done(node, incarnation, generation),
            Ev::FleetDeadline => self.fleet_deadline(),
        }
    }

    /// A background save reaches the disk (unless the process died meanwhile: then it is
    /// lost, and the process restarts from the older file); the core hears of it.
    fn save_done(&mut self, node: usize, incarnation: u32, generation: u64) {
        let n = &mut self.nodes[node];
        if n.incarnation != incarnation || n.core.is_none() {
            return;
        }
        let Some(state) = n.saving.remove(&generation) else {
            return;
        };
        n.disk.lock().write(generation, &state);
        self.stats.background_saves += 1;
        self.trace
            .log(Detail::Links, self.now, &format!("s{node}"), || {
                format!("save {generation} durable")
            });
        self.step(node, |c, now| c.saved(generation, now));
    }

    /// The wall clock of `node` now.
    fn wall(&self, node: usize) -> Millis {
        self.nodes[node].clock(BASE_WALL, self.now)
    }

    fn tick(&mut self, node: usize, incarnation: u32) {
        let n = &mut self.nodes[node];
        if n.incarnation != incarnation || n.core.is_none() || n.next_tick != Some(self.now) {
            return;
        }
        n.next_tick = None;
        match self.nodes[node].tick_mode {
            // The driver's way: whatever `next_deadline` asked for.
            TickMode::Deadline => {
                self.step(node, |c, now| c.timer(now));
            }
            TickMode::RedisHz => {
                self.step(node, |c, now| c.tick(now));
                // Redis Sentinel re-draws its timer frequency (10-19 Hz) at every run.
                let hz = self.rng.gen_range(10..20);
                self.set_tick(node, self.now + 1000 / hz);
            }
        }
    }

    fn set_tick(&mut self, node: usize, at: Time) {
        let incarnation = self.nodes[node].incarnation;
        self.nodes[node].next_tick = Some(at);
        self.schedule(at, Ev::Tick { node, incarnation });
    }

    /// Call into `node`'s core at its wall-clock time, then execute what it asked for.
    /// Returns `None` if the process is down or the call panicked (which stops the run).
    fn step<R>(&mut self, node: usize, f: impl FnOnce(&mut Sentinel, Millis) -> R) -> Option<R> {
        let wall = self.wall(node);
        let max_actions = self.max_actions;
        let core = self.nodes[node].core.as_mut()?;
        self.stats.steps += 1;
        let result = panics::catch(|| {
            let result = f(core, wall);
            let mut actions = Vec::new();
            while let Some(action) = core.poll_action() {
                actions.push(action);
                if actions.len() > max_actions {
                    break;
                }
            }
            (result, actions)
        });
        match result {
            Err(message) => {
                self.checker.report(self.now, Some(node), "panic", message);
                self.nodes[node].core = None;
                self.stop = true;
                None
            }
            Ok((result, actions)) => {
                if actions.len() > self.max_actions {
                    self.checker.report(
                        self.now,
                        Some(node),
                        "unbounded-actions",
                        format!("more than {} actions from one step", self.max_actions),
                    );
                    self.stop = true;
                }
                self.after_step(node, actions);
                Some(result)
            }
        }
    }

    fn after_step(&mut self, node: usize, actions: Vec<Action>) {
        let (regressions, started, mode) = {
            let mut disk = self.nodes[node].disk.lock();
            (
                std::mem::take(&mut disk.regressions),
                std::mem::take(&mut disk.started),
                disk.mode,
            )
        };
        for r in regressions {
            self.checker
                .report(self.now, Some(node), "persisted-epoch-regression", r);
        }
        // Background saves the core began: each completes after a drawn write latency.
        for (generation, state) in started {
            let DiskMode::Background { min_ms, max_ms } = mode else {
                continue;
            };
            let latency = self.rng.gen_range(min_ms..=max_ms) + self.nodes[node].disk_slow_ms;
            let n = &mut self.nodes[node];
            n.saving.insert(generation, state);
            let incarnation = n.incarnation;
            self.schedule(
                self.now + latency,
                Ev::SaveDone {
                    node,
                    incarnation,
                    generation,
                },
            );
        }
        if !self.nodes[node].held.is_empty() {
            self.release_held(node);
        }
        for action in actions {
            self.apply(node, action);
        }
        if self.nodes[node].tick_mode == TickMode::Deadline {
            self.reschedule_deadline(node);
        }
    }

    fn reschedule_deadline(&mut self, node: usize) {
        let wall = self.wall(node);
        let Some(core) = self.nodes[node].core.as_ref() else {
            return;
        };
        let deadline = match panics::catch(|| core.next_deadline(wall)) {
            Ok(d) => d.min(wall + 3_600_000),
            Err(message) => {
                self.checker.report(self.now, Some(node), "panic", message);
                self.stop = true;
                return;
            }
        };
        let at = self.nodes[node]
            .sim_time(BASE_WALL, deadline)
            .max(self.now + 1);
        match self.nodes[node].next_tick {
            Some(t) if t <= at => {}
            _ => self.set_tick(node, at),
        }
    }

    fn apply(&mut self, node: usize, action: Action) {
        match action {
            Action::Connect {
                link,
                kind,
                host,
                port,
            } => self.connect(node, link, kind, &host, port),
            Action::Send { link, commands } => self.send(node, link, commands),
            Action::Close { link } => {
                let incarnation = self.nodes[node].incarnation;
                if let Some(key) = self.by_id.remove(&(node, incarnation, link)) {
                    self.remove_link(key);
                    self.trace
                        .log(Detail::Links, self.now, &format!("s{node}"), || {
                            format!("close link {link}")
                        });
                }
            }
            Action::Event(event) => self.event(node, event),
            Action::Log { level, message } => {
                self.trace
                    .log(Detail::Links, self.now, &format!("s{node}"), || {
                        format!("log {level:?} {message}")
                    });
            }
            Action::RunScript { id, argv } => {
                self.trace
                    .log(Detail::Events, self.now, &format!("s{node}"), || {
                        format!("run script {argv:?}")
                    });
                let incarnation = self.nodes[node].incarnation;
                self.schedule(
                    self.now + 10,
                    Ev::ScriptExit {
                        node,
                        incarnation,
                        id,
                    },
                );
            }
            Action::KillScript { .. } => {}
            Action::VipClaim {
                master,
                epoch,
                until,
            } => {
                self.trace
                    .log(Detail::Events, self.now, &format!("s{node}"), || {
                        format!("VIP claim {master} epoch {epoch} until {until:?}")
                    });
                self.checker.vip_claim(self.now, node, &master, epoch);
                self.check_claim_over_silent_holder(node);
                let kernel_until = self.kernel_lifetime(node, until);
                if self.nodes[node].vip_present && self.nodes[node].vip_held_since.is_none() {
                    // Claimed while the address is on the interface, unheld: an adopted one.
                    self.stats.vip_kept += 1;
                    self.check_adopted_claim(node, epoch);
                }
                let n = &mut self.nodes[node];
                n.vip_present = true;
                n.vip_kernel_until = kernel_until.unwrap_or(n.vip_kernel_until);
                if n.vip_held_since.is_none() {
                    n.vip_held_since = Some(self.now);
                    n.lease_reported = false;
                }
                self.report_vip(node, true);
            }
            Action::VipLease { master, until } => {
                self.trace
                    .log(Detail::Links, self.now, &format!("s{node}"), || {
                        format!("VIP lease {master} until {until:?}")
                    });
                // The shell renews the address, or adds it back if the kernel dropped it; a
                // lease already over changes nothing.
                if let Some(kernel_until) = self.kernel_lifetime(node, until) {
                    let n = &mut self.nodes[node];
                    n.vip_kernel_until = kernel_until;
                    if !n.vip_present {
                        n.vip_present = true;
                        self.report_vip(node, true);
                    }
                }
            }
            Action::VipRelease {
                master,
                epoch,
                fence,
            } => {
                self.trace
                    .log(Detail::Events, self.now, &format!("s{node}"), || {
                        format!("VIP release {master} epoch {epoch} fence {fence}")
                    });
                let n = &mut self.nodes[node];
                n.vip_present = false;
                n.vip_held_since = None;
                n.vip_kernel_until = None;
                self.report_vip(node, false);
            }
            Action::Exit { code } => {
                self.trace
                    .log(Detail::Events, self.now, &format!("s{node}"), || {
                        format!("process exit {code}")
                    });
                self.crash_node(node);
                self.restart_later(node, 1_000);
            }
        }
    }

    /// The shell's address watch tells node `node`'s current process, a millisecond later,
    /// whether its VIP is on the interface.
    fn report_vip(&mut self, node: usize, present: bool) {
        let incarnation = self.nodes[node].incarnation;
        self.schedule(
            self.now + 1,
            Ev::VipObserved {
                node,
                incarnation,
                present,
            },
        );
    }

    fn event(&mut self, node: usize, event: Event) {
        let Event { kind, message, .. } = event;
        self.trace
            .log(Detail::Events, self.now, &format!("s{node}"), || {
                format!("{kind} {message}")
            });
        match kind.as_str() {
            "+switch-master" => {
                self.stats.switches += 1;
                self.fleet_switch(node, &message);
            }
            "+tilt" => {
                self.stats.tilts += 1;
                if !self.sc.clock_faults() {
                    self.checker.report(
                        self.now,
                        Some(node),
                        "tilt-without-clock-fault",
                        format!("+tilt {message}"),
                    );
                }
            }
            "+vote-for-leader" => {
                self.stats.votes += 1;
                if let Some(watch) = self.fleet.as_mut() {
                    watch.vote(node);
                }
            }
            "-failover-abort-not-elected" => self.stats.aborts_not_elected += 1,
            _ => {}
        }
        let disk = self.nodes[node].disk.lock();
        let view = Persisted {
            cfg: &disk.saved,
            index: &self.master_index,
        };
        self.checker.event(self.now, node, &kind, &message, &view);
    }

    /// Insert a new link into the indexes.
    fn insert_link(&mut self, key: u64, link: Link) {
        self.by_target.insert((link.target, key));
        self.open_links[link.node] += 1;
        self.links.insert(key, link);
    }

    /// Remove a link from the indexes.
    fn remove_link(&mut self, key: u64) -> Option<Link> {
        let link = self.links.remove(&key)?;
        self.by_target.remove(&(link.target, key));
        self.open_links[link.node] -= 1;
        Some(link)
    }

    /// Keys of the links attached to server process `target`.
    fn links_to(&self, target: Endpoint) -> Vec<u64> {
        self.by_target
            .range((target, 0)..=(target, u64::MAX))
            .map(|(_, k)| *k)
            .collect()
    }
}

/// A sentinel's config file as the checker reads it: masters found by name, through the
/// deployment's index (masters keep their order in every save), else by a scan.
pub(crate) struct Persisted<'a> {
    cfg: &'a SentinelConfig,
    index: &'a HashMap<String, usize>,
}

impl Persisted<'_> {
    fn master(&self, name: &str) -> Option<&MasterConfig> {
        let hinted = self.index.get(name).and_then(|&i| self.cfg.masters.get(i));
        match hinted {
            Some(m) if m.name == name => Some(m),
            _ => self.cfg.masters.iter().find(|m| m.name == name),
        }
    }
}

impl DiskView for Persisted<'_> {
    fn current_epoch(&self) -> u64 {
        self.cfg.current_epoch
    }
    fn leader_epoch(&self, master: &str) -> u64 {
        self.master(master).map_or(0, |m| m.leader_epoch)
    }
    fn config_epoch(&self, master: &str) -> u64 {
        self.master(master).map_or(0, |m| m.config_epoch)
    }
}
