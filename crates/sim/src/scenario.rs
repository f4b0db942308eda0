//! One simulated run's parameters — group shape, timing knobs, network quality and the fault
//! schedule — all drawn from a single seed, so a seed names a whole scenario.

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// Simulated milliseconds since the start of a scenario.
pub type Time = u64;

/// How long a scenario runs and how violent it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// Short runs with few faults: the test-suite set.
    Fast,
    /// Longer runs with more and longer faults: the soak set.
    Full,
    /// Many masters (one replica each) on three hosts, and mass faults: a whole host's Redis
    /// instances crash at one instant (a third of the masters), sometimes with a sentinel.
    Fleet,
}

/// How a sentinel's config file is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiskMode {
    /// Every save is durable on return (`Saved::Durable`).
    Sync,
    /// Saves the core allows in the background (`wait == false`) return `Saved::Pending` and
    /// complete `min_ms..=max_ms` later (plus any slow-disk fault).
    Background {
        /// Fastest write.
        min_ms: u64,
        /// Slowest normal write.
        max_ms: u64,
    },
}

/// One Redis instance of the deployment.
#[derive(Debug, Clone)]
pub struct InstanceSpec {
    /// Host it runs on.
    pub host: usize,
    /// Its port (unique per host).
    pub port: u16,
    /// Index of its shard.
    pub shard: usize,
    /// `replica-priority`.
    pub priority: u32,
}

/// One monitored master and its replicas: instances `first..first + len`, `first` being the
/// initial master.
#[derive(Debug, Clone)]
pub struct ShardSpec {
    /// Master name.
    pub name: String,
    /// Index of its first instance.
    pub first: usize,
    /// Number of instances.
    pub len: usize,
}

/// Every Redis instance and every monitored master.
#[derive(Clone)]
pub struct Layout {
    /// Instances, grouped by shard.
    pub instances: Vec<InstanceSpec>,
    /// Shards (masters).
    pub shards: Vec<ShardSpec>,
}

impl std::fmt::Debug for Layout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.shards.len() <= 4 {
            return f
                .debug_struct("Layout")
                .field("instances", &self.instances)
                .field("shards", &self.shards)
                .finish();
        }
        let hosts = self
            .instances
            .iter()
            .map(|i| i.host)
            .max()
            .map_or(0, |h| h + 1);
        let masters: Vec<usize> = (0..hosts)
            .map(|h| {
                self.shards
                    .iter()
                    .filter(|s| self.instances[s.first].host == h)
                    .count()
            })
            .collect();
        write!(
            f,
            "Layout {{ {} shards ({}..{}), {} instances, initial masters per host {masters:?} }}",
            self.shards.len(),
            self.shards[0].name,
            self.shards[self.shards.len() - 1].name,
            self.instances.len()
        )
    }
}

impl Layout {
    /// The shard of instance `r`.
    pub fn shard_of(&self, r: usize) -> &ShardSpec {
        &self.shards[self.instances[r].shard]
    }
}

/// How a simulated sentinel's timer is driven.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TickMode {
    /// Tick exactly when the core's `next_deadline` asks.
    Deadline,
    /// Tick like Redis Sentinel's server cron: 10–19 Hz, re-drawn every tick.
    RedisHz,
}

/// Network quality for the whole scenario.
#[derive(Debug, Clone)]
pub struct NetParams {
    /// One-way base latency between two different hosts, ms.
    pub base_latency_ms: u64,
    /// Uniform extra latency per segment, 0..=jitter ms.
    pub jitter_ms: u64,
    /// Probability (per million segments) that a connection breaks instead of carrying a segment.
    pub break_per_million: u32,
    /// Probability (per million pub/sub deliveries) that a message is delivered a second time later.
    pub dup_per_million: u32,
    /// A TCP segment that cannot be delivered for this long breaks its connection (ETIMEDOUT).
    pub tcp_user_timeout_ms: u64,
}

/// One injected fault; it starts at `at` and is undone `duration` ms later.
#[derive(Debug, Clone)]
pub struct Fault {
    /// Start, ms since scenario start.
    pub at: Time,
    /// How long it lasts (0 for instantaneous faults such as clock jumps).
    pub duration: Time,
    /// What breaks.
    pub kind: FaultKind,
}

/// The kinds of fault the simulator injects.
#[derive(Debug, Clone, PartialEq)]
pub enum FaultKind {
    /// Symmetric partition: the listed hosts cannot talk to the others, both ways.
    Partition {
        /// Hosts on one side.
        side: Vec<usize>,
    },
    /// One-way partition: segments from `from` hosts to `to` hosts are lost (the reverse works).
    OneWay {
        /// Senders whose segments are dropped.
        from: Vec<usize>,
        /// Receivers that stop hearing them.
        to: Vec<usize>,
    },
    /// The sentinel process on this node crashes and restarts from its persisted config.
    CrashSentinel(usize),
    /// The Redis process of this instance crashes and restarts from its rewritten config.
    CrashRedis(usize),
    /// The sentinel process is paused (VM freeze, long GC): it processes nothing meanwhile.
    Pause(usize),
    /// Every Redis instance on this host crashes (and restarts when the fault ends).
    CrashHost(usize),
    /// The sentinel's disk gets slow: each background save takes this much longer.
    SlowDisk {
        /// Which sentinel.
        node: usize,
        /// Extra write latency in ms.
        extra_ms: u64,
    },
    /// The node's wall clock jumps by this many ms (negative: backwards).
    ClockJump {
        /// Which sentinel.
        node: usize,
        /// Jump in ms.
        delta_ms: i64,
    },
    /// Segments to and from this host get this much extra latency.
    Slow {
        /// Which host.
        host: usize,
        /// Extra one-way latency in ms.
        extra_ms: u64,
    },
}

/// Everything a run needs, derived from `seed`.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The seed this scenario was drawn from.
    pub seed: u64,
    /// Number of sentinels (one per host, hosts `0..sentinels`).
    pub sentinels: usize,
    /// Number of replicas; Redis instance 0 is the initial master, instance `i` runs on host `i`.
    pub replicas: usize,
    /// Master quorum.
    pub quorum: u32,
    /// `down-after-milliseconds`.
    pub down_after_ms: u64,
    /// `failover-timeout`.
    pub failover_timeout_ms: u64,
    /// `parallel-syncs`.
    pub parallel_syncs: i64,
    /// Timer style per sentinel.
    pub tick_modes: Vec<TickMode>,
    /// Whether every sentinel starts with `known-sentinel` lines for all others.
    pub preknown_sentinels: bool,
    /// VIP lease when the master has a VIP configured.
    pub vip_lease_ms: Option<u64>,
    /// `replica-priority` of each Redis instance (index 0 is the master's).
    pub priorities: Vec<u32>,
    /// Every Redis instance and monitored master.
    pub layout: Layout,
    /// How each sentinel writes its config file.
    pub disks: Vec<DiskMode>,
    /// Fleet profile: when the mass fault (a host's Redis instances crash) strikes, if any.
    pub mass_fault_at: Option<Time>,
    /// Network quality.
    pub net: NetParams,
    /// Fault schedule, sorted by start.
    pub faults: Vec<Fault>,
    /// When the last fault is undone.
    pub heal_at: Time,
    /// When the run stops and convergence is checked.
    pub end_at: Time,
}

/// Time before the first fault: lets sentinels discover each other (hellos every 2 s).
const WARMUP_MS: Time = 5_000;
/// TILT lasts this long after a clock anomaly (Redis Sentinel's tilt-period).
const TILT_PERIOD_MS: Time = 30_000;

impl Scenario {
    /// Number of hosts: one per sentinel, and the hosts the Redis instances run on (host *i*
    /// runs sentinel *i* and, in the single-master profiles, Redis *i*).
    pub fn hosts(&self) -> usize {
        let redis = self.layout.instances.iter().map(|i| i.host + 1).max();
        self.sentinels.max(redis.unwrap_or(0))
    }

    /// Number of Redis instances.
    pub fn instances(&self) -> usize {
        self.layout.instances.len()
    }

    /// Whether this is the many-masters profile.
    pub fn is_fleet(&self) -> bool {
        self.mass_fault_at.is_some()
    }

    /// Whether any fault touches clocks (a jump or a pause: TILT is expected).
    pub fn clock_faults(&self) -> bool {
        self.faults
            .iter()
            .any(|f| matches!(f.kind, FaultKind::ClockJump { .. } | FaultKind::Pause(_)))
    }

    /// Simulated time allowed after healing for every sentinel to agree on one master: the
    /// retry gap after an aborted failover (2 × failover-timeout), detection, a full election
    /// and failover (≤ 2 × failover-timeout), hello propagation, plus TILT if clocks were hit.
    pub fn convergence_bound(&self) -> Time {
        let ft = self.failover_timeout_ms;
        let clock_faults = self.clock_faults();
        4 * ft
            + ft.min(10_000)
            + 3 * self.down_after_ms
            + 15_000
            + if clock_faults { TILT_PERIOD_MS } else { 0 }
    }

    /// Draw the scenario for `seed` (`masters` fixes the fleet profile's number of masters).
    pub fn draw(seed: u64, profile: Profile, masters: Option<usize>) -> Scenario {
        if profile == Profile::Fleet {
            return Scenario::draw_fleet(seed, masters);
        }
        let mut rng = SmallRng::seed_from_u64(seed);
        let sentinels = rng.gen_range(3..=5);
        let replicas = rng.gen_range(1..=3);
        let majority = sentinels as u32 / 2 + 1;
        let quorum = if rng.gen_bool(0.5) {
            majority
        } else {
            rng.gen_range(1..=sentinels as u32)
        };
        let (down_after_ms, failover_timeout_ms) = match profile {
            Profile::Fast => (rng.gen_range(300..=2_000), rng.gen_range(1_000..=4_000)),
            Profile::Full | Profile::Fleet => {
                (rng.gen_range(500..=5_000), rng.gen_range(2_000..=15_000))
            }
        };
        let tick_modes = (0..sentinels)
            .map(|_| {
                if rng.gen_bool(0.3) {
                    TickMode::RedisHz
                } else {
                    TickMode::Deadline
                }
            })
            .collect();
        let priorities: Vec<u32> = (0..=replicas)
            .map(|_| {
                if rng.gen_bool(0.1) {
                    0
                } else {
                    [100, 100, 50, 10][rng.gen_range(0..4)]
                }
            })
            .collect();
        let net = NetParams {
            base_latency_ms: rng.gen_range(0..=3),
            jitter_ms: rng.gen_range(0..=5),
            break_per_million: if rng.gen_bool(0.5) {
                0
            } else {
                rng.gen_range(10..=2_000)
            },
            dup_per_million: if rng.gen_bool(0.5) {
                0
            } else {
                rng.gen_range(1_000..=50_000)
            },
            tcp_user_timeout_ms: rng.gen_range(10_000..=60_000),
        };
        let mut scenario = Scenario {
            seed,
            sentinels,
            replicas,
            quorum,
            down_after_ms,
            failover_timeout_ms,
            parallel_syncs: rng.gen_range(1..=2),
            tick_modes,
            preknown_sentinels: rng.gen_bool(0.5),
            vip_lease_ms: rng.gen_bool(0.5).then(|| rng.gen_range(1_000..=4_000)),
            layout: single_master_layout(&priorities),
            priorities,
            disks: Vec::new(),
            mass_fault_at: None,
            net,
            faults: Vec::new(),
            heal_at: WARMUP_MS,
            end_at: 0,
        };
        scenario.faults = draw_faults(&mut rng, &scenario, profile);
        // Drawn from a stream of their own, so the rest of a seed's scenario stays what it was
        // before disks were modelled.
        let mut disk_rng = SmallRng::seed_from_u64(seed ^ 0xd15c_5a7e_0000_0001);
        scenario.disks = draw_disks(&mut disk_rng, sentinels);
        if disk_rng.gen_bool(0.3) {
            let window = match profile {
                Profile::Fast => 10_000,
                _ => 30_000,
            };
            scenario.faults.push(Fault {
                at: WARMUP_MS + disk_rng.gen_range(0..window),
                duration: disk_rng.gen_range(200..=window / 2),
                kind: FaultKind::SlowDisk {
                    node: disk_rng.gen_range(0..sentinels),
                    extra_ms: disk_rng.gen_range(100..=1_500),
                },
            });
            scenario.faults.sort_by_key(|f| f.at);
        }
        scenario.heal_at = scenario
            .faults
            .iter()
            .map(|f| f.at + f.duration)
            .max()
            .unwrap_or(WARMUP_MS);
        scenario.end_at = scenario.heal_at + scenario.convergence_bound();
        scenario
    }
}

/// Fleet sizes drawn when `--masters` is not given.
const FLEET_SIZES: [usize; 6] = [50, 100, 200, 500, 1_000, 2_000];
/// Hosts (and sentinels) of the fleet profile.
const FLEET_HOSTS: usize = 3;
/// First Redis port of the fleet profile (shard *i* listens on `FLEET_PORT + i`).
const FLEET_PORT: u16 = 7_000;

impl Scenario {
    /// The fleet profile: `masters` shards of one master and one replica over three hosts
    /// (shard *i*: master on host *i* mod 3, replica on the next host), three sentinels, and
    /// a mass fault: every Redis instance of one host crashes at one instant, a third of the
    /// masters (sometimes with a sentinel), then more faults once those failovers are done.
    fn draw_fleet(seed: u64, masters: Option<usize>) -> Scenario {
        let mut rng = SmallRng::seed_from_u64(seed ^ 0xf1ee_7000_0000_0000);
        let shards = masters
            .unwrap_or_else(|| FLEET_SIZES[rng.gen_range(0..FLEET_SIZES.len())])
            .clamp(1, 19_000);
        let sentinels = FLEET_HOSTS;
        let mut layout = Layout {
            instances: Vec::with_capacity(2 * shards),
            shards: Vec::with_capacity(shards),
        };
        for i in 0..shards {
            let first = layout.instances.len();
            for k in 0..2 {
                layout.instances.push(InstanceSpec {
                    host: (i + k) % FLEET_HOSTS,
                    port: FLEET_PORT + i as u16,
                    shard: i,
                    priority: 100,
                });
            }
            layout.shards.push(ShardSpec {
                name: format!("shard{i:04}"),
                first,
                len: 2,
            });
        }
        let down_after_ms = rng.gen_range(1_000..=5_000);
        let tick_modes = (0..sentinels)
            .map(|_| {
                if rng.gen_bool(0.3) {
                    TickMode::RedisHz
                } else {
                    TickMode::Deadline
                }
            })
            .collect();
        let net = NetParams {
            base_latency_ms: rng.gen_range(0..=2),
            jitter_ms: rng.gen_range(0..=3),
            break_per_million: if rng.gen_bool(0.7) {
                0
            } else {
                rng.gen_range(1..=100)
            },
            dup_per_million: if rng.gen_bool(0.5) {
                0
            } else {
                rng.gen_range(1_000..=20_000)
            },
            tcp_user_timeout_ms: rng.gen_range(10_000..=60_000),
        };
        let mut sc = Scenario {
            seed,
            sentinels,
            replicas: 1,
            quorum: 2,
            down_after_ms,
            failover_timeout_ms: rng.gen_range(5_000..=10_000),
            parallel_syncs: 1,
            tick_modes,
            preknown_sentinels: rng.gen_bool(0.7),
            vip_lease_ms: None,
            priorities: vec![100, 100],
            layout,
            disks: draw_disks(&mut rng, sentinels),
            mass_fault_at: None,
            net,
            faults: Vec::new(),
            heal_at: WARMUP_MS,
            end_at: 0,
        };
        // Phase 1: the mass fault, alone (the liveness check times its failovers).
        let at = WARMUP_MS + rng.gen_range(0..3_000);
        let host = rng.gen_range(0..FLEET_HOSTS);
        sc.mass_fault_at = Some(at);
        let duration = rng.gen_range(down_after_ms * 2 + 10_000..=down_after_ms * 2 + 30_000);
        sc.faults.push(Fault {
            at,
            duration,
            kind: FaultKind::CrashHost(host),
        });
        if rng.gen_bool(0.4) {
            let node = rng.gen_range(0..sentinels);
            sc.faults.push(Fault {
                at,
                duration: rng.gen_range(1_000..=down_after_ms + 10_000),
                kind: FaultKind::CrashSentinel(node),
            });
        }
        // Phase 2, after the liveness window: partitions, more crashes, slow disks and hosts.
        let phase2 = at + sc.fleet_failover_bound() + 2_000;
        for _ in 0..rng.gen_range(0..=3) {
            let at = phase2 + rng.gen_range(0..20_000);
            let duration = rng.gen_range(500..=down_after_ms * 2 + 10_000);
            let kind = match rng.gen_range(0..100) {
                0..=24 => FaultKind::Partition {
                    side: vec![rng.gen_range(0..FLEET_HOSTS)],
                },
                25..=34 => {
                    let from = vec![rng.gen_range(0..FLEET_HOSTS)];
                    let to = (0..FLEET_HOSTS).filter(|h| !from.contains(h)).collect();
                    FaultKind::OneWay { from, to }
                }
                35..=54 => FaultKind::CrashHost(rng.gen_range(0..FLEET_HOSTS)),
                55..=69 => FaultKind::CrashSentinel(rng.gen_range(0..sentinels)),
                70..=84 => FaultKind::SlowDisk {
                    node: rng.gen_range(0..sentinels),
                    extra_ms: rng.gen_range(100..=1_500),
                },
                _ => FaultKind::Slow {
                    host: rng.gen_range(0..FLEET_HOSTS),
                    extra_ms: rng.gen_range(20..=500),
                },
            };
            sc.faults.push(Fault { at, duration, kind });
        }
        sc.faults.sort_by_key(|f| f.at);
        sc.heal_at = sc
            .faults
            .iter()
            .map(|f| f.at + f.duration)
            .max()
            .unwrap_or(WARMUP_MS);
        sc.end_at = sc.heal_at + sc.convergence_bound();
        sc
    }

    /// Fleet liveness: a shard whose master died in the mass fault, with a live replica and a
    /// quorum of live sentinels, must be failed over (a `+switch-master` at a majority of the
    /// live sentinels) within this long of the fault.
    pub fn fleet_failover_bound(&self) -> Time {
        self.down_after_ms + FLEET_FAILOVER_SLACK_MS
    }
}

/// Slack on top of down-after for the fleet's failovers (detection, election, promotion and
/// the hellos that tell the other sentinels), generous on purpose.
pub const FLEET_FAILOVER_SLACK_MS: Time = 5_000;

/// One master (instance 0, host 0) and its replicas (instance *i* on host *i*), port 6379.
fn single_master_layout(priorities: &[u32]) -> Layout {
    Layout {
        instances: priorities
            .iter()
            .enumerate()
            .map(|(r, &priority)| InstanceSpec {
                host: r,
                port: 6379,
                shard: 0,
                priority,
            })
            .collect(),
        shards: vec![ShardSpec {
            name: "mymaster".into(),
            first: 0,
            len: priorities.len(),
        }],
    }
}

/// Disk modes: in a fifth of the seeds every sentinel saves synchronously, otherwise each one
/// writes in the background with probability 0.7 (so most groups mix both paths).
fn draw_disks(rng: &mut SmallRng, sentinels: usize) -> Vec<DiskMode> {
    let all_sync = rng.gen_bool(0.2);
    (0..sentinels)
        .map(|_| {
            if all_sync || rng.gen_bool(0.3) {
                DiskMode::Sync
            } else {
                let min_ms = rng.gen_range(1..=5);
                DiskMode::Background {
                    min_ms,
                    max_ms: rng.gen_range(min_ms + 1..=30),
                }
            }
        })
        .collect()
}

fn draw_faults(rng: &mut SmallRng, sc: &Scenario, profile: Profile) -> Vec<Fault> {
    let (count, window) = match profile {
        Profile::Fast => (rng.gen_range(1..=3), 10_000),
        Profile::Full | Profile::Fleet => (rng.gen_range(1..=8), rng.gen_range(20_000..=60_000)),
    };
    let hosts = sc.hosts();
    let long = sc.down_after_ms * 2 + 2_000;
    let mut faults = Vec::new();
    // Most scenarios lose the master long enough for a failover.
    if rng.gen_bool(0.6) {
        let at = WARMUP_MS + rng.gen_range(0..window / 2);
        let duration = rng.gen_range(long..=long + window);
        let kind = if rng.gen_bool(0.6) {
            FaultKind::CrashRedis(0)
        } else {
            FaultKind::Partition { side: vec![0] }
        };
        faults.push(Fault { at, duration, kind });
    }
    for _ in 0..count {
        let at = WARMUP_MS + rng.gen_range(0..window);
        let duration = rng.gen_range(200..=window / 2);
        let kind = match rng.gen_range(0..100) {
            0..=19 => FaultKind::Partition {
                side: random_side(rng, hosts),
            },
            20..=31 => {
                let from = random_side(rng, hosts);
                let to = (0..hosts).filter(|h| !from.contains(h)).collect();
                FaultKind::OneWay { from, to }
            }
            32..=49 => FaultKind::CrashSentinel(rng.gen_range(0..sc.sentinels)),
            50..=67 => FaultKind::CrashRedis(rng.gen_range(0..sc.instances())),
            68..=77 => FaultKind::Pause(rng.gen_range(0..sc.sentinels)),
            78..=87 => FaultKind::ClockJump {
                node: rng.gen_range(0..sc.sentinels),
                delta_ms: if rng.gen_bool(0.5) {
                    rng.gen_range(2_500..=20_000)
                } else {
                    -rng.gen_range(1..=10_000)
                },
            },
            _ => FaultKind::Slow {
                host: rng.gen_range(0..hosts),
                extra_ms: rng.gen_range(50..=1_500),
            },
        };
        let duration = match kind {
            FaultKind::ClockJump { .. } => 0,
            // A quick restart (systemd's Restart=, an upgrade): the new process finds the VIP
            // its predecessor left, its kernel lifetime still running.
            FaultKind::CrashSentinel(_) if rng.gen_bool(0.4) => rng.gen_range(20..=900),
            _ => duration,
        };
        faults.push(Fault { at, duration, kind });
    }
    faults.sort_by_key(|f| f.at);
    faults
}

/// A non-empty proper subset of the hosts, as one side of a partition.
fn random_side(rng: &mut SmallRng, hosts: usize) -> Vec<usize> {
    let size = rng.gen_range(1..hosts);
    let mut all: Vec<usize> = (0..hosts).collect();
    for i in 0..size {
        let j = rng.gen_range(i..hosts);
        all.swap(i, j);
    }
    let mut side = all[..size].to_vec();
    side.sort_unstable();
    side
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_scenario() {
        let a = Scenario::draw(42, Profile::Full, None);
        let b = Scenario::draw(42, Profile::Full, None);
        assert_eq!(format!("{a:?}"), format!("{b:?}"));
    }

    #[test]
    fn shapes_stay_in_range() {
        for seed in 0..500 {
            let sc = Scenario::draw(seed, Profile::Fast, None);
            assert!((3..=5).contains(&sc.sentinels));
            assert!((1..=3).contains(&sc.replicas));
            assert!(sc.quorum >= 1 && sc.quorum as usize <= sc.sentinels);
            assert!(sc.end_at > sc.heal_at);
            for f in &sc.faults {
                assert!(f.at >= WARMUP_MS);
                if let FaultKind::Partition { side } = &f.kind {
                    assert!(!side.is_empty() && side.len() < sc.hosts());
                }
            }
        }
    }

    #[test]
    fn fleet_spreads_masters_over_three_hosts() {
        let sc = Scenario::draw(7, Profile::Fleet, Some(300));
        assert_eq!(sc.layout.shards.len(), 300);
        assert_eq!(sc.instances(), 600);
        assert_eq!(sc.hosts(), 3);
        let on_host0 = sc
            .layout
            .shards
            .iter()
            .filter(|s| sc.layout.instances[s.first].host == 0)
            .count();
        assert_eq!(on_host0, 100);
        for s in &sc.layout.shards {
            let (m, r) = (
                &sc.layout.instances[s.first],
                &sc.layout.instances[s.first + 1],
            );
            assert_ne!(
                m.host, r.host,
                "{} has master and replica on one host",
                s.name
            );
        }
        let at = sc.mass_fault_at.expect("mass fault");
        assert!(sc
            .faults
            .iter()
            .any(|f| f.at == at && matches!(f.kind, FaultKind::CrashHost(_))));
        // Nothing else strikes inside the liveness window but a sentinel crash at that instant.
        for f in &sc.faults {
            if f.at > at {
                assert!(f.at > at + sc.fleet_failover_bound());
            }
        }
    }
}
