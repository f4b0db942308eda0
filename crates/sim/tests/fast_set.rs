//! The fast simulation set run by the normal test suite: 1,000 short seeded scenarios against
//! the real core on two threads (about 10-20 s in release, a few minutes in debug), plus the
//! proofs that the checker can fail (a double-voting sentinel is caught, whether or not it logs
//! its votes) and that a seed replays exactly. A failure lists every violation with the
//! `warden-sim --replay SEED --fast` command that shows it.

use warden_sim::trace::Detail;
use warden_sim::{run, run_seeds, self_check, BrokenVoter, Profile, RunOptions};

const FAST_SEEDS: u64 = 1_000;
const FLEET_SEEDS: u64 = 3;

fn opts(trace: Detail) -> RunOptions {
    RunOptions {
        trace,
        ..RunOptions::new(Profile::Fast)
    }
}

#[test]
fn fast_set_holds_every_invariant() {
    let summary = run_seeds(0..FAST_SEEDS, opts(Detail::Off), 2, |_| {});
    assert_eq!(summary.seeds, FAST_SEEDS);
    // The set must really exercise the protocol, or "no violation" means nothing.
    assert!(
        summary.totals.elections > FAST_SEEDS as usize / 2,
        "only {} elections",
        summary.totals.elections
    );
    assert!(
        summary.totals.switches > FAST_SEEDS / 2,
        "only {} switch-master",
        summary.totals.switches
    );
    assert!(summary.totals.tilts > 0, "no TILT exercised");
    let report: Vec<String> = summary
        .violations
        .iter()
        .map(|(seed, v)| format!("seed {seed}: {v}  (replay: warden-sim --replay {seed} --fast)"))
        .collect();
    assert!(
        report.is_empty(),
        "{} violations:\n{}",
        report.len(),
        report.join("\n")
    );
}

#[test]
fn a_double_voting_sentinel_is_caught() {
    for broken in [BrokenVoter::Logged, BrokenVoter::Silent] {
        let caught = self_check(broken, 0, 300, Profile::Fast);
        let (seed, violation) =
            caught.unwrap_or_else(|| panic!("{broken:?} double votes went unnoticed"));
        assert!(
            warden_sim::VOTE_RULES.contains(&violation.rule),
            "seed {seed}: {violation}"
        );
    }
}

#[test]
fn a_seed_replays_identically() {
    for seed in [3, 186, 314] {
        let first = run(seed, opts(Detail::Links));
        let second = run(seed, opts(Detail::Links));
        assert!(!first.trace.is_empty());
        assert_eq!(first.trace, second.trace, "seed {seed} diverged");
        assert_eq!(first.violations, second.violations);
    }
}

#[test]
fn a_small_fleet_fails_over_a_third_of_its_masters_in_time() {
    const MASTERS: usize = 100;
    let opts = RunOptions {
        masters: Some(MASTERS),
        ..RunOptions::new(Profile::Fleet)
    };
    let summary = run_seeds(0..FLEET_SEEDS, opts, 2, |_| {});
    let t = &summary.totals;
    // A third of the masters die at once in every seed; each must be failed over.
    assert!(
        t.watched_shards >= FLEET_SEEDS * MASTERS as u64 / 3,
        "only {} shards lost their master",
        t.watched_shards
    );
    assert_eq!(t.failover_ms.len() as u64, t.watched_shards);
    assert_eq!(t.tilts, 0, "TILT without clock faults");
    let report: Vec<String> = summary
        .violations
        .iter()
        .map(|(seed, v)| {
            format!("seed {seed}: {v}  (replay: warden-sim --replay {seed} --fleet --masters {MASTERS})")
        })
        .collect();
    assert!(
        report.is_empty(),
        "{} violations:\n{}",
        report.len(),
        report.join("\n")
    );
}
