//! `warden-sim`: run seeded fault scenarios against the real sentinel core.
//!
//! ```text
//! warden-sim --seeds N [--start S] [--fast | --fleet [--masters M]] [--jobs J]
//!                                               run N scenarios, summary ends "seeds: N, violations: V"
//! warden-sim --replay SEED [--fast | --fleet [--masters M]] [--links|--wire] [--broken-voter logged|silent]
//!                                               print the event trace of one scenario
//! warden-sim --self-check                       a sentinel that double-votes must be caught
//! ```

#![forbid(unsafe_code)]

use std::process::ExitCode;
use std::time::Instant;
use warden_sim::trace::Detail;
use warden_sim::{run, run_seeds, self_check, BrokenVoter, Profile, RunOptions, Stats};

const USAGE: &str = "usage: warden-sim --seeds N [--start S] [--fast | --fleet [--masters M]] [--jobs J] \
                     | --replay SEED [--fast | --fleet [--masters M]] [--links|--wire] [--broken-voter logged|silent] \
                     | --self-check";

enum Mode {
    Seeds { count: u64, start: u64 },
    Replay(u64),
    SelfCheck,
}

struct Args {
    mode: Mode,
    profile: Profile,
    detail: Detail,
    broken: BrokenVoter,
    jobs: usize,
    masters: Option<usize>,
}

fn number(args: &mut impl Iterator<Item = String>, flag: &str) -> Result<u64, String> {
    let value = args
        .next()
        .ok_or_else(|| format!("{flag} needs a number"))?;
    value
        .parse()
        .map_err(|_| format!("{flag}: not a number: {value}"))
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let (mut count, mut start, mut replay, mut self_check, mut jobs) = (None, 0, None, false, 1);
    let (mut profile, mut detail, mut broken) = (Profile::Full, Detail::Events, BrokenVoter::No);
    let mut masters = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seeds" => count = Some(number(&mut args, "--seeds")?),
            "--start" => start = number(&mut args, "--start")?,
            "--jobs" => jobs = number(&mut args, "--jobs")?.max(1) as usize,
            "--replay" => replay = Some(number(&mut args, "--replay")?),
            "--self-check" => self_check = true,
            "--fast" => profile = Profile::Fast,
            "--fleet" => profile = Profile::Fleet,
            "--masters" => masters = Some(number(&mut args, "--masters")?.max(1) as usize),
            "--links" => detail = Detail::Links,
            "--wire" => detail = Detail::Wire,
            "--broken-voter" => {
                broken = match args.next().as_deref() {
                    Some("logged") => BrokenVoter::Logged,
                    Some("silent") => BrokenVoter::Silent,
                    _ => return Err("--broken-voter needs logged|silent".into()),
                }
            }
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    let mode = match (count, replay, self_check) {
        (Some(count), None, false) => Mode::Seeds { count, start },
        (None, Some(seed), false) => Mode::Replay(seed),
        (None, None, true) => Mode::SelfCheck,
        _ => return Err(USAGE.into()),
    };
    if masters.is_some() && profile != Profile::Fleet {
        return Err(format!("--masters needs --fleet\n{USAGE}"));
    }
    Ok(Args {
        mode,
        profile,
        detail,
        broken,
        jobs,
        masters,
    })
}

fn profile_flag(profile: Profile, masters: Option<usize>) -> String {
    match (profile, masters) {
        (Profile::Fast, _) => " --fast".into(),
        (Profile::Full, _) => String::new(),
        (Profile::Fleet, None) => " --fleet".into(),
        (Profile::Fleet, Some(m)) => format!(" --fleet --masters {m}"),
    }
}

/// The `q`-quantile of sorted `values`.
fn quantile(values: &[u64], q: f64) -> u64 {
    if values.is_empty() {
        return 0;
    }
    values[((values.len() - 1) as f64 * q).round() as usize]
}

/// The lines about persistence and, for the fleet, failover latency and saves per sentinel.
fn print_details(t: &Stats) {
    println!(
        "votes announced: {}, config writes: {} ({} in the background), sentinel replies held for a save: {}, -failover-abort-not-elected: {}",
        t.votes, t.saves, t.background_saves, t.held_replies, t.aborts_not_elected
    );
    if t.watched_shards == 0 && t.mass_sentinels == 0 {
        return;
    }
    let mut latencies = t.failover_ms.clone();
    latencies.sort_unstable();
    println!(
        "fleet: up to {} masters; mass fault: {} shards lost their master, {} failed over in time; failover latency (virtual ms) median {} / p90 {} / max {}",
        t.masters,
        t.watched_shards,
        latencies.len(),
        quantile(&latencies, 0.5),
        quantile(&latencies, 0.9),
        latencies.last().copied().unwrap_or(0)
    );
    let sync = (t.mass_sentinels - t.mass_sentinels_bg).max(1) as f64;
    let bg = t.mass_sentinels_bg.max(1) as f64;
    println!(
        "fleet: during the mass failover, per live sentinel: background disk ({} sentinels) {:.1} config writes for {:.1} votes announced; synchronous disk ({} sentinels) {:.1} writes for {:.1} votes",
        t.mass_sentinels_bg,
        t.mass_saves_bg as f64 / bg,
        t.mass_votes_bg as f64 / bg,
        t.mass_sentinels - t.mass_sentinels_bg,
        (t.mass_saves - t.mass_saves_bg) as f64 / sync,
        (t.mass_votes - t.mass_votes_bg) as f64 / sync
    );
}

fn seeds(
    count: u64,
    start: u64,
    profile: Profile,
    jobs: usize,
    masters: Option<usize>,
) -> ExitCode {
    let opts = RunOptions {
        masters,
        ..RunOptions::new(profile)
    };
    let began = Instant::now();
    let mut done = 0;
    let summary = run_seeds(start..start + count, opts, jobs, |outcome| {
        for v in &outcome.violations {
            println!(
                "seed {}: {v}   (replay: warden-sim --replay {}{})",
                outcome.seed,
                outcome.seed,
                profile_flag(profile, masters)
            );
        }
        done += 1;
        let every = if profile == Profile::Fleet { 10 } else { 1000 };
        if done % every == 0 {
            eprintln!("... {done} seeds");
        }
    });
    let secs = began.elapsed().as_secs_f64();
    let t = &summary.totals;
    println!(
        "profile: {profile:?}, seeds {start}..{}, {jobs} job(s)",
        start + count
    );
    println!(
        "wall {secs:.1} s, {:.1} seeds/s, simulated {:.0} s ({:.0}x real time), {} events, {} core steps",
        count as f64 / secs.max(1e-9),
        t.sim_ms as f64 / 1000.0,
        t.sim_ms as f64 / 1000.0 / secs.max(1e-9),
        t.events,
        t.steps
    );
    println!(
        "elections won: {}, +switch-master: {}, +tilt: {}, VIP found at restart: {}, kept in place: {}",
        t.elections, t.switches, t.tilts, t.vip_found, t.vip_kept
    );
    print_details(t);
    for (rule, n) in summary.by_rule() {
        println!("  {rule}: {n}");
    }
    println!(
        "seeds: {}, violations: {}",
        summary.seeds,
        summary.violations.len()
    );
    if summary.violations.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn replay(
    seed: u64,
    profile: Profile,
    trace: Detail,
    broken: BrokenVoter,
    masters: Option<usize>,
) -> ExitCode {
    let outcome = run(
        seed,
        RunOptions {
            profile,
            trace,
            broken_voter: broken,
            masters,
        },
    );
    println!("{:#?}", outcome.scenario);
    for line in &outcome.trace {
        println!("{line}");
    }
    let mut stats = outcome.stats.clone();
    stats.failover_ms.clear();
    println!("{stats:?}");
    print_details(&outcome.stats);
    println!("seeds: 1, violations: {}", outcome.violations.len());
    if outcome.violations.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn check_self() -> ExitCode {
    const MAX_SEEDS: u64 = 500;
    let mut ok = true;
    for (broken, flag) in [
        (BrokenVoter::Logged, "logged"),
        (BrokenVoter::Silent, "silent"),
    ] {
        match self_check(broken, 0, MAX_SEEDS, Profile::Fast) {
            Some((seed, v)) => {
                println!("self-check ({flag} double votes): caught at seed {seed}: {v}");
                println!("  replay: warden-sim --replay {seed} --fast --broken-voter {flag}");
            }
            None => {
                println!(
                    "self-check ({flag} double votes) FAILED: not caught in {MAX_SEEDS} seeds"
                );
                ok = false;
            }
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    match args.mode {
        Mode::Seeds { count, start } => seeds(count, start, args.profile, args.jobs, args.masters),
        Mode::Replay(seed) => replay(seed, args.profile, args.detail, args.broken, args.masters),
        Mode::SelfCheck => check_self(),
    }
}
