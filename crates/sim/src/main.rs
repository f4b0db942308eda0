//! `warden-sim`: run seeded fault scenarios against the real sentinel core.
//!
//! ```text
//! warden-sim --seeds N [--start S] [--fast] [--jobs J]
//!                                               run N scenarios, summary ends "seeds: N, violations: V"
//! warden-sim --replay SEED [--fast] [--links|--wire] [--broken-voter logged|silent]
//!                                               print the event trace of one scenario
//! warden-sim --self-check                       a sentinel that double-votes must be caught
//! ```

use std::process::ExitCode;
use std::time::Instant;
use warden_sim::trace::Detail;
use warden_sim::{run, run_seeds, self_check, BrokenVoter, Profile, RunOptions};

const USAGE: &str = "usage: warden-sim --seeds N [--start S] [--fast] [--jobs J] \
                     | --replay SEED [--fast] [--links|--wire] [--broken-voter logged|silent] | --self-check";

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
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seeds" => count = Some(number(&mut args, "--seeds")?),
            "--start" => start = number(&mut args, "--start")?,
            "--jobs" => jobs = number(&mut args, "--jobs")?.max(1) as usize,
            "--replay" => replay = Some(number(&mut args, "--replay")?),
            "--self-check" => self_check = true,
            "--fast" => profile = Profile::Fast,
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
    Ok(Args {
        mode,
        profile,
        detail,
        broken,
        jobs,
    })
}

fn profile_flag(profile: Profile) -> &'static str {
    match profile {
        Profile::Fast => " --fast",
        Profile::Full => "",
    }
}

fn seeds(count: u64, start: u64, profile: Profile, jobs: usize) -> ExitCode {
    let opts = RunOptions {
        profile,
        trace: Detail::Off,
        broken_voter: BrokenVoter::No,
    };
    let began = Instant::now();
    let mut done = 0;
    let summary = run_seeds(start..start + count, opts, jobs, |outcome| {
        for v in &outcome.violations {
            println!(
                "seed {}: {v}   (replay: warden-sim --replay {}{})",
                outcome.seed,
                outcome.seed,
                profile_flag(profile)
            );
        }
        done += 1;
        if done % 1000 == 0 {
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
        "elections won: {}, +switch-master: {}, +tilt: {}",
        t.elections, t.switches, t.tilts
    );
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

fn replay(seed: u64, profile: Profile, trace: Detail, broken: BrokenVoter) -> ExitCode {
    let outcome = run(
        seed,
        RunOptions {
            profile,
            trace,
            broken_voter: broken,
        },
    );
    println!("{:#?}", outcome.scenario);
    for line in &outcome.trace {
        println!("{line}");
    }
    println!("{:?}", outcome.stats);
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
        Mode::Seeds { count, start } => seeds(count, start, args.profile, args.jobs),
        Mode::Replay(seed) => replay(seed, args.profile, args.detail, args.broken),
        Mode::SelfCheck => check_self(),
    }
}
