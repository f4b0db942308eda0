//! Failover latency on loopback, Warden vs Redis Sentinel 7.0.15 in the same run.
//!
//! Per run: a fresh group (1 master + 2 replicas, 3 sentinels of the system under test, quorum
//! 2, the same config for both systems); once the sentinels agree, three clients start writing,
//! each asking a different sentinel `SENTINEL GET-MASTER-ADDR-BY-NAME` every 5 ms and `SET`ting
//! a key on whatever it answers; then the master is SIGKILLed. Measured from the kill, in ms:
//! the first `+sdown` and `+odown` of the master (any sentinel), the leader's `+elected-leader`,
//! and — at the first sentinel that is not the leader (the leader is the one that publishes
//! `+elected-leader` and then `+promoted-slave` on its own channel) — `+switch-master` and the
//! first write acknowledged by the new master through that sentinel's client. Recording goes on
//! for down-after + 1 s after the switch, so a second (spurious) failover shows in the results. Prints a Markdown table (median [min–max],
//! Warden/redis-sentinel ratios, time beyond down-after) and writes
//! `target/failover-bench/loopback.json` (with every run's event trail). A benchmark, not a test: nothing is asserted.
//!
//! usage: cargo build --release -p warden && cargo bench --bench failover_loopback -- [--quick]
//!        [--runs N] [--down-after 200,1000,5000] [--systems warden,redis-sentinel]
//! (`--quick`: one run per system at down-after 1000.)

use std::io;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use warden_benches::args;
use warden_benches::group::{Group, MASTER_NAME, QUORUM};
use warden_benches::json::Json;
use warden_benches::machine::describe;
use warden_benches::stats::Summary;
use warden_benches::writer::{Attempt, Writer};
use warden_integration::binaries::{target_dir, warden};
use warden_integration::events::{first, publishers, EventLog};
use warden_integration::servers::Flavor;
use warden_integration::wait::wait_for;

/// `failover-timeout` of every run (a split election retries after twice this).
const FAILOVER_TIMEOUT_MS: u64 = 10_000;
/// How long, beyond down-after, events and writes are still recorded after every sentinel switched.
const OBSERVE_AFTER: Duration = Duration::from_secs(1);
/// How often the clients ask their sentinel and write.
const WRITE_PERIOD: Duration = Duration::from_millis(5);
/// Longest wait for the sentinels to discover the group.
const AGREE_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest wait, beyond down-after, for every sentinel to switch (one election retry fits).
const FAILOVER_TIMEOUT: Duration = Duration::from_secs(45);

/// What the command line asks for.
struct Options {
    runs: usize,
    down_after: Vec<u64>,
    systems: Vec<Flavor>,
}

fn parse_options() -> Result<Options, String> {
    let mut options = Options {
        runs: 5,
        down_after: vec![200, 1000, 5000],
        systems: vec![Flavor::Warden, Flavor::Redis],
    };
    args::for_each_option(|arg, value| {
        match arg {
            "--quick" => {
                options.runs = 1;
                options.down_after = vec![1000];
            }
            "--runs" => {
                let v = value()?;
                options.runs = args::positive("--runs", &v)?;
            }
            "--down-after" => {
                let v = value()?;
                options.down_after = args::list("--down-after", &v, |ms| ms.parse().ok().filter(|&ms| ms > 0))?;
            }
            "--systems" => {
                let v = value()?;
                options.systems = v
                    .split(',')
                    .map(|s| match s.trim() {
                        "warden" => Ok(Flavor::Warden),
                        "redis-sentinel" => Ok(Flavor::Redis),
                        other => Err(format!("unknown system {other:?} (warden, redis-sentinel)")),
                    })
                    .collect::<Result<_, _>>()?;
            }
            other => {
                return Err(format!(
                    "unknown argument {other:?}\nusage: cargo bench --bench failover_loopback -- [--quick] [--runs N] \
                     [--down-after 200,1000,5000] [--systems warden,redis-sentinel]"
                ))
            }
        }
        Ok(())
    })?;
    Ok(options)
}

/// What one run measured, in ms since the kill (`None`: not observed).
struct Run {
    system: Flavor,
    down_after_ms: u64,
    leader: Option<usize>,
    observer: Option<usize>,
    sdown: Option<f64>,
    odown: Option<f64>,
    elected: Option<f64>,
    switch: Option<f64>,
    leader_switch: Option<f64>,
    first_write: Option<f64>,
    failed_writes: u64,
    /// `-failover-abort-*` events (any sentinel).
    aborts: u64,
    /// Different `+switch-master` changes published (more than 1: the group failed over again,
    /// e.g. away from the just-promoted master).
    switches: u64,
    /// Every event published after the kill, as JSON (ms, sentinel, channel, payload).
    trail: Vec<Json>,
}

impl Run {
    /// First write minus down-after: what the system adds to the detection delay itself.
    fn beyond(&self) -> Option<f64> {
        self.first_write.map(|ms| ms - self.down_after_ms as f64)
    }

    fn json(&self) -> Json {
        let index = |i: Option<usize>| Json::from(i.map(|i| i as u64));
        Json::obj([
            ("system", Json::str(self.system.to_string())),
            ("down_after_ms", Json::from(self.down_after_ms)),
            ("leader", index(self.leader)),
            ("observer", index(self.observer)),
            ("sdown_ms", Json::from(self.sdown)),
            ("odown_ms", Json::from(self.odown)),
            ("elected_ms", Json::from(self.elected)),
            ("switch_ms", Json::from(self.switch)),
            ("leader_switch_ms", Json::from(self.leader_switch)),
            ("first_write_ms", Json::from(self.first_write)),
            ("beyond_down_after_ms", Json::from(self.beyond())),
            ("failed_writes", Json::from(self.failed_writes)),
            ("failover_aborts", Json::from(self.aborts)),
            ("switches", Json::from(self.switches)),
            ("events", Json::Arr(self.trail.clone())),
        ])
    }
}

/// Milliseconds from `zero` to `at`.
fn ms(zero: Instant, at: Instant) -> f64 {
    at.saturating_duration_since(zero).as_secs_f64() * 1000.0
}

/// One kill-the-master run.
fn run_once(system: Flavor, down_after_ms: u64) -> io::Result<Run> {
    let mut group = Group::start(system, down_after_ms, FAILOVER_TIMEOUT_MS)?;
    group.wait_agreement(AGREE_TIMEOUT)?;
    let sentinels = group.sentinel_addrs();
    let old_master = group.master_addr();
    let mut log = EventLog::subscribe_to(&sentinels)?;
    let limit = Duration::from_millis(down_after_ms) + FAILOVER_TIMEOUT + Duration::from_secs(15);
    let writers: Vec<Writer> = sentinels
        .iter()
        .map(|s| Writer::start(s.clone(), MASTER_NAME.to_string(), WRITE_PERIOD, limit))
        .collect();
    wait_for(Duration::from_secs(5), "every client to write once", || {
        writers.iter().all(|w| w.acknowledged() > 0)
    })
    .map_err(io::Error::other)?;

    let zero = Instant::now();
    group.kill_master()?;
    let timeout = Duration::from_millis(down_after_ms) + FAILOVER_TIMEOUT;
    // A timeout is no error here: the run reports whatever the sentinels did.
    let _ = log.wait_for(timeout, "every sentinel's +switch-master", |events| {
        publishers(events, "+switch-master") == sentinels.len()
    });
    // Keep watching (and writing) for down-after + 1 s: long enough to see a sentinel wrongly
    // declare the new master down and fail over again.
    let _ = log.wait_for(
        OBSERVE_AFTER + Duration::from_millis(down_after_ms),
        "the observation window",
        |_| false,
    );
    let attempts: Vec<Vec<Attempt>> = writers.into_iter().map(Writer::finish).collect();
    let events = log.events();

    // The leader of the failover that happened is the one that promoted a replica (an earlier
    // winner may have aborted, e.g. `-failover-abort-no-good-slave`); its election is its last
    // `+elected-leader` before that (events from one sentinel arrive in order).
    let promoted = first(events, None, "+promoted-slave", "");
    let elected = events
        .iter()
        .filter(|e| e.channel == "+elected-leader")
        .rfind(|e| promoted.map_or(true, |p| p.source == e.source && e.at <= p.at));
    let leader = promoted.or(elected).map(|e| e.source);
    let aborts = events
        .iter()
        .filter(|e| e.channel.starts_with("-failover-abort"))
        .count() as u64;
    let mut switches: Vec<&str> = events
        .iter()
        .filter(|e| e.channel == "+switch-master")
        .map(|e| e.payload.as_str())
        .collect();
    switches.sort_unstable();
    switches.dedup();
    let observer = (0..sentinels.len()).find(|&i| Some(i) != leader);
    let at = |source: Option<usize>, channel: &str, prefix: &str| {
        first(events, source, channel, prefix).map(|e| ms(zero, e.at))
    };
    let new_master_writes = observer.map(|o| {
        attempts[o]
            .iter()
            .filter(|a| a.start >= zero)
            .collect::<Vec<_>>()
    });
    let first_write = new_master_writes.as_ref().and_then(|writes| {
        writes
            .iter()
            .find(|a| a.ok && a.target.as_deref() != Some(old_master.as_str()))
            .map(|a| ms(zero, a.end))
    });
    let failed_writes = new_master_writes
        .map(|writes| writes.iter().filter(|a| !a.ok).count() as u64)
        .unwrap_or(0);
    Ok(Run {
        system,
        down_after_ms,
        leader,
        observer,
        sdown: at(None, "+sdown", "master "),
        odown: at(None, "+odown", "master "),
        elected: elected.map(|e| ms(zero, e.at)),
        switch: observer.and_then(|o| at(Some(o), "+switch-master", "")),
        leader_switch: leader.and_then(|l| at(Some(l), "+switch-master", "")),
        first_write,
        failed_writes,
        aborts,
        switches: switches.len() as u64,
        trail: events
            .iter()
            .filter(|e| e.at >= zero)
            .map(|e| {
                Json::obj([
                    ("ms", Json::from(ms(zero, e.at).round())),
                    ("sentinel", Json::from(e.source as u64)),
                    ("event", Json::str(&e.channel)),
                    ("payload", Json::str(&e.payload)),
                ])
            })
            .collect(),
    })
}

/// Format an optional measurement.
fn cell(v: Option<f64>) -> String {
    v.map_or_else(|| "–".to_string(), |v| format!("{v:.0}"))
}

/// Reads one measurement of a run.
type Metric = fn(&Run) -> Option<f64>;

/// The summary of one metric over `runs`.
fn summary(runs: &[&Run], metric: Metric) -> Option<Summary> {
    Summary::of(runs.iter().filter_map(|r| metric(r)))
}

/// The metrics in the table and JSON, with their column names.
const METRICS: [(&str, &str, Metric); 6] = [
    ("sdown_ms", "+sdown", |r| r.sdown),
    ("odown_ms", "+odown", |r| r.odown),
    ("elected_ms", "+elected-leader", |r| r.elected),
    ("switch_ms", "+switch-master (non-leader)", |r| r.switch),
    ("first_write_ms", "first write", |r| r.first_write),
    ("beyond_down_after_ms", "write − down-after", Run::beyond),
];

fn report(options: &Options, runs: &[Run]) -> (String, Json) {
    let mut table = format!(
        "Failover on loopback: 1 master + 2 replicas, 3 sentinels, quorum {QUORUM}, failover-timeout \
         {FAILOVER_TIMEOUT_MS}; master SIGKILLed; ms from the kill, median [min–max] over the runs.\n\n\
         | system | down-after | runs |"
    );
    for (_, title, _) in METRICS {
        table.push_str(&format!(" {title} |"));
    }
    table.push_str(" runs that failed over twice |\n|---|---:|---:|");
    table.push_str(&"---:|".repeat(METRICS.len() + 1));
    table.push('\n');
    let mut summaries = Vec::new();
    for &down_after in &options.down_after {
        for &system in &options.systems {
            let these: Vec<&Run> = runs
                .iter()
                .filter(|r| r.system == system && r.down_after_ms == down_after)
                .collect();
            table.push_str(&format!("| {system} | {down_after} | {} |", these.len()));
            let mut fields = vec![
                ("system", Json::str(system.to_string())),
                ("down_after_ms", Json::from(down_after)),
                ("runs", Json::from(these.len() as u64)),
            ];
            for (key, _, metric) in METRICS {
                let s = summary(&these, metric);
                table.push_str(&format!(" {} |", s.map_or("–".into(), |s| s.cell())));
                fields.push((key, s.map_or(Json::Null, |s| s.json())));
            }
            let twice = these.iter().filter(|r| r.switches > 1).count() as u64;
            table.push_str(&format!(" {twice} |\n"));
            fields.push(("runs_failing_over_twice", Json::from(twice)));
            summaries.push(Json::obj(fields));
        }
    }
    let mut ratios = Vec::new();
    if options.systems.contains(&Flavor::Warden) && options.systems.contains(&Flavor::Redis) {
        table.push_str(
            "\nWarden / redis-sentinel (ratio of medians; below 1 means Warden is faster):\n\n\
             | down-after | +switch-master (non-leader) | first write | write − down-after |\n\
             |---:|---:|---:|---:|\n",
        );
        for &down_after in &options.down_after {
            let median = |system, metric| {
                let these: Vec<&Run> = runs
                    .iter()
                    .filter(|r| r.system == system && r.down_after_ms == down_after)
                    .collect();
                summary(&these, metric).map(|s| s.median)
            };
            let ratio = |metric: Metric| match (
                median(Flavor::Warden, metric),
                median(Flavor::Redis, metric),
            ) {
                (Some(w), Some(r)) if r > 0.0 => Some(w / r),
                _ => None,
            };
            let (switch, write, beyond) = (
                ratio(|r| r.switch),
                ratio(|r| r.first_write),
                ratio(Run::beyond),
            );
            let show = |v: Option<f64>| v.map_or("–".into(), |v| format!("{v:.2}"));
            table.push_str(&format!(
                "| {down_after} | {} | {} | {} |\n",
                show(switch),
                show(write),
                show(beyond)
            ));
            ratios.push(Json::obj([
                ("down_after_ms", Json::from(down_after)),
                ("switch", Json::from(switch)),
                ("first_write", Json::from(write)),
                ("beyond_down_after", Json::from(beyond)),
            ]));
        }
    }
    let json = Json::obj([
        ("bench", Json::str("failover-loopback")),
        ("machine", describe()),
        (
            "config",
            Json::obj([
                ("quorum", Json::from(u64::from(QUORUM))),
                ("failover_timeout_ms", Json::from(FAILOVER_TIMEOUT_MS)),
                (
                    "write_period_ms",
                    Json::from(WRITE_PERIOD.as_millis() as u64),
                ),
            ]),
        ),
        ("runs", Json::Arr(runs.iter().map(Run::json).collect())),
        ("summary", Json::Arr(summaries)),
        ("ratios_warden_over_redis", Json::Arr(ratios)),
    ]);
    (table, json)
}

fn main() -> ExitCode {
    let options = match parse_options() {
        Ok(options) => options,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    if options.systems.contains(&Flavor::Warden) {
        if let Err(e) = warden() {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    }
    let mut runs = Vec::new();
    for &down_after in &options.down_after {
        for n in 1..=options.runs {
            // Alternate which system goes first, so slow drift does not favour one.
            let mut order = options.systems.clone();
            if n % 2 == 0 {
                order.reverse();
            }
            for &system in &order {
                let started = Instant::now();
                match run_once(system, down_after) {
                    Ok(run) => {
                        eprintln!(
                            "{system:>14} down-after {down_after:>5} run {n}/{}: sdown {} odown {} \
                             switch {} first write {} ms (leader sentinel {}, {} aborts, {} switches, {:.1} s)",
                            options.runs,
                            cell(run.sdown),
                            cell(run.odown),
                            cell(run.switch),
                            cell(run.first_write),
                            run.leader.map_or("?".into(), |l| l.to_string()),
                            run.aborts,
                            run.switches,
                            started.elapsed().as_secs_f64()
                        );
                        runs.push(run);
                    }
                    Err(e) => {
                        eprintln!("{system:>14} down-after {down_after:>5} run {n}: failed: {e}")
                    }
                }
            }
        }
    }
    let (table, json) = report(&options, &runs);
    println!("\n{table}");
    let target = target_dir();
    let dir = target
        .canonicalize()
        .unwrap_or(target)
        .join("failover-bench");
    let path = dir.join("loopback.json");
    match std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, format!("{json}\n"))) {
        Ok(()) => println!("Results: {}", path.display()),
        Err(e) => {
            eprintln!("cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
