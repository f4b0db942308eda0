//! # warden-sim — deterministic simulation of sentinel groups under faults
//!
//! Runs several real `warden-core` sentinels, simulated Redis servers and a faulty network on
//! one virtual clock, everything drawn from one seed, and checks safety invariants after every
//! event (see [`invariants`] and `world::checks`). A failing seed replays exactly.
//!
//! Layout: [`scenario`] draws a run from a seed; [`world`] is the engine (network model in
//! `world::links`, server sides in `world::serve`, faults in `world::faults`); [`link`] and
//! [`net`] hold the TCP and host-level network model; [`redis`] the simulated Redis; [`node`]
//! a sentinel process with its config file; [`invariants`] the event-driven checks; [`trace`]
//! the readable trace.

#![forbid(unsafe_code)]

pub mod invariants;
pub mod link;
pub mod net;
pub mod node;
pub mod panics;
pub mod redis;
pub mod scenario;
pub mod trace;
pub mod world;

pub use node::BrokenVoter;
pub use scenario::Profile;
pub use world::{run, Outcome, RunOptions, Stats};

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;

/// Aggregate of many runs.
#[derive(Debug, Default)]
pub struct Summary {
    /// Seeds run.
    pub seeds: u64,
    /// Every violation, with its seed.
    pub violations: Vec<(u64, invariants::Violation)>,
    /// Summed counters.
    pub totals: Stats,
}

impl Summary {
    /// Fold one run in.
    pub fn add(&mut self, outcome: Outcome) {
        self.seeds += 1;
        let t = &mut self.totals;
        t.events += outcome.stats.events;
        t.steps += outcome.stats.steps;
        t.sim_ms += outcome.stats.sim_ms;
        t.elections += outcome.stats.elections;
        t.switches += outcome.stats.switches;
        t.tilts += outcome.stats.tilts;
        t.vip_found += outcome.stats.vip_found;
        t.vip_kept += outcome.stats.vip_kept;
        t.aborts_not_elected += outcome.stats.aborts_not_elected;
        t.votes += outcome.stats.votes;
        t.saves += outcome.stats.saves;
        t.background_saves += outcome.stats.background_saves;
        t.held_replies += outcome.stats.held_replies;
        t.masters = t.masters.max(outcome.stats.masters);
        t.failover_ms.extend_from_slice(&outcome.stats.failover_ms);
        t.watched_shards += outcome.stats.watched_shards;
        t.mass_saves += outcome.stats.mass_saves;
        t.mass_votes += outcome.stats.mass_votes;
        t.mass_sentinels += outcome.stats.mass_sentinels;
        t.mass_saves_bg += outcome.stats.mass_saves_bg;
        t.mass_votes_bg += outcome.stats.mass_votes_bg;
        t.mass_sentinels_bg += outcome.stats.mass_sentinels_bg;
        self.violations
            .extend(outcome.violations.into_iter().map(|v| (outcome.seed, v)));
    }

    /// Violation count per invariant.
    pub fn by_rule(&self) -> BTreeMap<&'static str, usize> {
        let mut counts = BTreeMap::new();
        for (_, v) in &self.violations {
            *counts.entry(v.rule).or_insert(0) += 1;
        }
        counts
    }
}

/// Rules the self-check's broken voter must trip (any of them).
pub const VOTE_RULES: [&str; 3] = ["double-vote", "two-leaders", "elected-without-majority"];

/// Run seeds `start..start + max_seeds` with sentinel 0 voting for every candidate (`broken`
/// says whether it logs those votes); returns the first seed and violation that an election
/// invariant caught.
pub fn self_check(
    broken: BrokenVoter,
    start: u64,
    max_seeds: u64,
    profile: Profile,
) -> Option<(u64, invariants::Violation)> {
    let opts = RunOptions {
        broken_voter: broken,
        ..RunOptions::new(profile)
    };
    (start..start + max_seeds).find_map(|seed| {
        run(seed, opts)
            .violations
            .into_iter()
            .find(|v| VOTE_RULES.contains(&v.rule))
            .map(|v| (seed, v))
    })
}

/// Run every seed of `seeds` on `jobs` threads (each run stays single-threaded and
/// deterministic); `each` sees every outcome as it completes (in completion order), and the
/// returned summary covers them all.
pub fn run_seeds(
    seeds: Range<u64>,
    opts: RunOptions,
    jobs: usize,
    mut each: impl FnMut(&Outcome),
) -> Summary {
    let next = AtomicU64::new(seeds.start);
    let (tx, rx) = mpsc::channel();
    let mut summary = Summary::default();
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1) {
            let (tx, next, end) = (tx.clone(), &next, seeds.end);
            scope.spawn(move || loop {
                let seed = next.fetch_add(1, Ordering::Relaxed);
                if seed >= end || tx.send(run(seed, opts)).is_err() {
                    break;
                }
            });
        }
        drop(tx);
        for outcome in rx {
            each(&outcome);
            summary.add(outcome);
        }
    });
    summary.violations.sort_by_key(|(seed, v)| (*seed, v.time));
    summary
}
