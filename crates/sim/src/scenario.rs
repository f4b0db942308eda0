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
    /// Number of hosts: one per sentinel and one per Redis instance, co-located by index.
    pub fn hosts(&self) -> usize {
        self.sentinels.max(self.replicas + 1)
    }

    /// Number of Redis instances (master + replicas).
    pub fn instances(&self) -> usize {
        self.replicas + 1
    }

    /// Simulated time allowed after healing for every sentinel to agree on one master: the
    /// retry gap after an aborted failover (2 × failover-timeout), detection, a full election
    /// and failover (≤ 2 × failover-timeout), hello propagation, plus TILT if clocks were hit.
    pub fn convergence_bound(&self) -> Time {
        let ft = self.failover_timeout_ms;
        let clock_faults = self
            .faults
            .iter()
            .any(|f| matches!(f.kind, FaultKind::ClockJump { .. } | FaultKind::Pause(_)));
        4 * ft
            + ft.min(10_000)
            + 3 * self.down_after_ms
            + 15_000
            + if clock_faults { TILT_PERIOD_MS } else { 0 }
    }

    /// Draw the scenario for `seed`.
    pub fn draw(seed: u64, profile: Profile) -> Scenario {
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
            Profile::Full => (rng.gen_range(500..=5_000), rng.gen_range(2_000..=15_000)),
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
        let priorities = (0..=replicas)
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
            priorities,
            net,
            faults: Vec::new(),
            heal_at: WARMUP_MS,
            end_at: 0,
        };
        scenario.faults = draw_faults(&mut rng, &scenario, profile);
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

fn draw_faults(rng: &mut SmallRng, sc: &Scenario, profile: Profile) -> Vec<Fault> {
    let (count, window) = match profile {
        Profile::Fast => (rng.gen_range(1..=3), 10_000),
        Profile::Full => (rng.gen_range(1..=8), rng.gen_range(20_000..=60_000)),
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
        let duration = if matches!(kind, FaultKind::ClockJump { .. }) {
            0
        } else {
            duration
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
        let a = Scenario::draw(42, Profile::Full);
        let b = Scenario::draw(42, Profile::Full);
        assert_eq!(format!("{a:?}"), format!("{b:?}"));
    }

    #[test]
    fn shapes_stay_in_range() {
        for seed in 0..500 {
            let sc = Scenario::draw(seed, Profile::Fast);
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
}
