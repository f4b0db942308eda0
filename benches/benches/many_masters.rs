//! Fleet scale (issue 18): M shards (1 master + 1 replica each) watched by three sentinels that
//! each monitor every master, Warden vs redis-sentinel 7.0.15 in the same run.
//!
//! Per run and system: a fresh fleet — real `redis-server`s, or with `--swarm` one
//! `redis-swarm` process of simulated instances — and three sentinels (quorum 2, down-after D,
//! failover-timeout 10 s). Once every sentinel knows every replica and both other sentinels:
//! an idle window (each sentinel's CPU, RSS and open fds; commands per second a sampled
//! instance receives, by kind; the servers' CPU, and once per run the same fleet's CPU without
//! sentinels as a baseline); then the masters of the first K shards are SIGKILLed at once (with
//! `--kill-sentinel` also the third sentinel), and per killed shard the times from the kill to
//! the first `+sdown`/`+odown`, to `+switch-master` at each surviving sentinel, and to the
//! first write acknowledged by the new master through a sentinel that is not the failover's
//! leader; plus aborted elections, retries, `+tilt`, shards not failed over within the
//! deadline, healthy masters failed over, live instances marked SDOWN and the sentinels'
//! fsyncs during the failover. Prints a Markdown table (median / p90 / max, Warden /
//! redis-sentinel ratios) and writes it and a JSON file with every shard's numbers and every
//! event to `target/many-masters-bench/<tag or UTC time>.{json,md}`. Nothing is asserted.
//!
//! usage: cargo build --release -p warden && cargo bench --bench many_masters -- [--masters M]
//!        [--kill K] [--kill-sentinel] [--down-after D] [--systems warden,redis-sentinel]
//!        [--runs N] [--swarm] [--idle-secs S] [--config-dir DIR | --tmpfs] [--deadline S]
//!        [--redis-hz HZ] [--no-baseline] [--tag NAME] [--keep-logs DIR]
//!
//! `--redis-hz` sets the real servers' `hz` (default 10, Redis's): hundreds of servers on the
//! bench's two cores spend most of a core on their own timers at 10 (600 idle servers, no
//! sentinel: 73 % of a core at 10, 15 % at 1), which starves the sentinels under test; real
//! fleets run their servers on other hosts. The choice is in the table's header.

use std::collections::HashSet;
use std::io;
use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use warden_benches::args;
use warden_benches::fleet::{
    self, check_interrupt, ConfigParent, Fleet, Sentinels, Tmpfs, FAILOVER_TIMEOUT_MS, QUORUM,
};
use warden_benches::fleetwatch::{self, FsyncCounter, FsyncTool, Idle};
use warden_benches::json::Json;
use warden_benches::machine::{describe, raise_open_files_limit};
use warden_benches::massfailover::{analyse, Counts, Job, Setup, ShardResult, WriterPool};
use warden_benches::stats::{quantile, Summary};
use warden_integration::binaries::{target_dir, warden};
use warden_integration::events::EventLog;
use warden_integration::servers::Flavor;
use warden_integration::tempdir::TempDir;

/// The sentinel `--kill-sentinel` kills (index).
const VICTIM: usize = 2;
/// Time given to the fsync counters to attach before the kill.
const ATTACH_TIME: Duration = Duration::from_millis(500);

const USAGE: &str =
    "usage: cargo bench --bench many_masters -- [--masters M] [--kill K] [--kill-sentinel] \
    [--down-after D] [--systems warden,redis-sentinel] [--runs N] [--swarm] [--idle-secs S] \
    [--config-dir DIR | --tmpfs] [--deadline S] [--redis-hz HZ] [--no-baseline] [--tag NAME] \
    [--keep-logs DIR]";

/// Where the sentinels' config files go.
#[derive(Clone, Debug)]
enum ConfigChoice {
    Temp,
    Dir(PathBuf),
    Tmpfs,
}

/// What the command line asks for.
#[derive(Clone, Debug)]
struct Options {
    masters: usize,
    kill: usize,
    kill_sentinel: bool,
    down_after: u64,
    systems: Vec<Flavor>,
    runs: usize,
    swarm: bool,
    idle_secs: u64,
    redis_hz: u32,
    config: ConfigChoice,
    deadline_secs: u64,
    baseline: bool,
    tag: Option<String>,
    keep_logs: Option<PathBuf>,
}

fn parse_options() -> Result<Options, String> {
    let mut o = Options {
        masters: 300,
        kill: 100,
        kill_sentinel: false,
        down_after: 1000,
        systems: vec![Flavor::Warden, Flavor::Redis],
        runs: 1,
        swarm: false,
        idle_secs: 10,
        redis_hz: 10,
        config: ConfigChoice::Temp,
        deadline_secs: 60,
        baseline: true,
        tag: None,
        keep_logs: None,
    };
    args::for_each_option(|arg, value| {
        match arg {
            "--masters" => o.masters = args::positive(arg, &value()?)?,
            "--kill" => o.kill = args::positive(arg, &value()?)?,
            "--kill-sentinel" => o.kill_sentinel = true,
            "--down-after" => o.down_after = args::positive(arg, &value()?)?,
            "--runs" => o.runs = args::positive(arg, &value()?)?,
            "--swarm" => o.swarm = true,
            "--idle-secs" => o.idle_secs = args::positive(arg, &value()?)?,
            "--redis-hz" => o.redis_hz = args::positive(arg, &value()?)?,
            "--deadline" => o.deadline_secs = args::positive(arg, &value()?)?,
            "--config-dir" => o.config = ConfigChoice::Dir(PathBuf::from(value()?)),
            "--tmpfs" => o.config = ConfigChoice::Tmpfs,
            "--no-baseline" => o.baseline = false,
            "--tag" => o.tag = Some(value()?),
            "--keep-logs" => o.keep_logs = Some(PathBuf::from(value()?)),
            "--systems" => {
                o.systems = args::list(arg, &value()?, |s| match s {
                    "warden" => Some(Flavor::Warden),
                    "redis-sentinel" => Some(Flavor::Redis),
                    _ => None,
                })?
            }
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
        Ok(())
    })?;
    if o.kill > o.masters {
        return Err(format!(
            "--kill {} is more than --masters {}",
            o.kill, o.masters
        ));
    }
    Ok(o)
}

/// One system's run.
struct RunResult {
    run: usize,
    system: Flavor,
    discovery_s: f64,
    idle: Idle,
    baseline_fleet_cpu: Option<f64>,
    killed_sentinel: Option<usize>,
    survivors: Vec<usize>,
    fsyncs: Vec<Option<u64>>,
    shards: Vec<ShardResult>,
    counts: Counts,
    observed_s: f64,
    trail: Vec<Json>,
}

impl RunResult {
    fn fsync_total(&self) -> Option<u64> {
        self.fsyncs.iter().copied().sum()
    }

    fn json(&self) -> Json {
        Json::obj([
            ("run", Json::from(self.run as u64)),
            ("system", Json::str(self.system.to_string())),
            ("discovery_s", Json::from(self.discovery_s)),
            ("idle", self.idle.json()),
            (
                "baseline_fleet_cpu_percent",
                Json::from(self.baseline_fleet_cpu),
            ),
            (
                "killed_sentinel",
                Json::from(self.killed_sentinel.map(|s| s as u64)),
            ),
            (
                "fsyncs_per_surviving_sentinel",
                Json::Arr(self.fsyncs.iter().map(|&f| Json::from(f)).collect()),
            ),
            ("counts", self.counts.json()),
            ("observed_s", Json::from(self.observed_s)),
            (
                "shards",
                Json::Arr(self.shards.iter().map(ShardResult::json).collect()),
            ),
            ("events", Json::Arr(self.trail.clone())),
        ])
    }
}

/// Everything one run of one system needs from the bench.
struct Context<'a> {
    options: &'a Options,
    parent: &'a ConfigParent,
    fsync_tool: Option<FsyncTool>,
    scratch: &'a TempDir,
}

fn one_run(
    ctx: &Context<'_>,
    run: usize,
    system: Flavor,
    baseline: &mut Option<f64>,
) -> io::Result<RunResult> {
    let o = ctx.options;
    let started = Instant::now();
    let mut fleet = if o.swarm {
        Fleet::start_swarm(
            o.masters,
            std::path::Path::new(env!("CARGO_BIN_EXE_redis-swarm")),
        )?
    } else {
        Fleet::start_real(o.masters, o.redis_hz)?
    };
    eprintln!(
        "  fleet of {} shards up in {:.1} s",
        o.masters,
        started.elapsed().as_secs_f64()
    );
    let server_pids = fleet.server_pids();
    if o.baseline && baseline.is_none() {
        let cpu = fleetwatch::fleet_cpu(&server_pids, Duration::from_secs(o.idle_secs))?;
        eprintln!("  baseline (no sentinels): servers at {cpu:.1} % CPU");
        *baseline = Some(cpu);
    }
    let sentinels = Sentinels::start(system, &fleet.shards, o.down_after, &ctx.parent.path())?;
    let discovery_timeout = Duration::from_secs(120) + Duration::from_millis(30 * o.masters as u64);
    let discovery = sentinels.wait_discovery(o.masters, discovery_timeout)?;
    eprintln!(
        "  {system}: every sentinel knows every shard after {:.1} s",
        discovery.as_secs_f64()
    );
    let idle = fleetwatch::idle(
        &sentinels.pids(),
        &server_pids,
        &fleet.shards,
        Duration::from_secs(o.idle_secs),
    )?;
    eprintln!(
        "  idle: sentinels at {:.1} % CPU, {:.0} MiB, {:.0} fds (mean); servers at {:.1} % CPU",
        idle.mean(|s| Some(s.cpu_percent)).unwrap_or(f64::NAN),
        idle.mean(|s| s.rss_kib.map(|k| k as f64 / 1024.0))
            .unwrap_or(f64::NAN),
        idle.mean(|s| s.fds.map(|f| f as f64)).unwrap_or(f64::NAN),
        idle.fleet_cpu_percent
    );
    let mut sentinels = sentinels;
    let killed_sentinel = o.kill_sentinel.then_some(VICTIM);
    let survivors: Vec<usize> = (0..sentinels.servers.len())
        .filter(|&i| Some(i) != killed_sentinel)
        .collect();
    let mut log = EventLog::subscribe(&sentinels.ports())?;
    let counters: Vec<Option<FsyncCounter>> = survivors
        .iter()
        .map(|&i| {
            let tool = ctx.fsync_tool?;
            FsyncCounter::attach(tool, sentinels.servers[i].process.pid(), ctx.scratch.path()).ok()
        })
        .collect();
    fleet::sleep(ATTACH_TIME)?;
    let pool = WriterPool::start(o.kill * survivors.len());
    let kill_at = fleet.kill_masters(o.kill)?;
    let mut dead_ports: HashSet<u16> = fleet.shards[..o.kill].iter().map(|s| s.master).collect();
    if let Some(victim) = killed_sentinel {
        sentinels.servers[victim].process.signal(libc::SIGKILL)?;
        dead_ports.insert(sentinels.servers[victim].port);
    }
    let deadline = kill_at + Duration::from_secs(o.deadline_secs);
    let settle = Duration::from_millis(o.down_after + 1000).max(Duration::from_secs(2));
    let mut switched = vec![vec![false; sentinels.servers.len()]; o.kill];
    let (mut seen, mut jobs, mut done_at) = (0, 0, None::<Instant>);
    loop {
        check_interrupt()?;
        log.collect();
        for e in &log.events()[seen..] {
            if e.channel != "+switch-master" || e.at < kill_at {
                continue;
            }
            let Some(shard) = e
                .payload
                .split_whitespace()
                .next()
                .and_then(fleet::shard_of)
            else {
                continue;
            };
            if shard < o.kill && survivors.contains(&e.source) && !switched[shard][e.source] {
                switched[shard][e.source] = true;
                jobs += 1;
                pool.push(Job {
                    shard,
                    sentinel: e.source,
                    sentinel_port: sentinels.servers[e.source].port,
                    old_master: fleet.shards[shard].master,
                });
            }
        }
        seen = log.events().len();
        let now = Instant::now();
        if done_at.is_none() && jobs == o.kill * survivors.len() && pool.written() == jobs {
            done_at = Some(now);
        }
        if done_at.is_some_and(|t| now >= t + settle) || now >= deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let observed_s = kill_at.elapsed().as_secs_f64();
    let fsyncs: Vec<Option<u64>> = counters.into_iter().map(|c| c?.finish()).collect();
    let written = pool.finish();
    log.collect();
    let setup = Setup {
        kill_at,
        killed: o.kill,
        sentinels: sentinels.servers.len(),
        survivors: &survivors,
        dead_ports: &dead_ports,
    };
    let (shards, counts) = analyse(&setup, log.events(), &written);
    let trail = log
        .events()
        .iter()
        .filter(|e| e.at >= kill_at)
        .map(|e| {
            Json::Arr(vec![
                Json::from(e.at.duration_since(kill_at).as_secs_f64() * 1000.0),
                Json::from(e.source as u64),
                Json::str(&e.channel),
                Json::str(&e.payload),
            ])
        })
        .collect();
    if let Some(dir) = &o.keep_logs {
        std::fs::create_dir_all(dir)?;
        for (i, server) in sentinels.servers.iter().enumerate() {
            let name = format!("run{run}-{system}-s{i}.log");
            std::fs::write(dir.join(name), server.process.stdout())?;
        }
    }
    // Sentinels first (declared after the fleet they would otherwise react to).
    drop(log);
    drop(sentinels);
    drop(fleet);
    Ok(RunResult {
        run,
        system,
        discovery_s: discovery.as_secs_f64(),
        idle,
        baseline_fleet_cpu: *baseline,
        killed_sentinel,
        survivors,
        fsyncs,
        shards,
        counts,
        observed_s,
        trail,
    })
}

/// `f` of every result of `system`, pooled over runs.
fn pooled(results: &[RunResult], system: Flavor, f: &dyn Fn(&RunResult) -> Vec<f64>) -> Vec<f64> {
    results
        .iter()
        .filter(|r| r.system == system)
        .flat_map(f)
        .collect()
}

fn fmt(v: Option<f64>, digits: usize) -> String {
    v.map_or("–".into(), |v| format!("{v:.digits$}"))
}

fn ratio(w: Option<f64>, r: Option<f64>) -> Option<f64> {
    match (w, r) {
        (Some(w), Some(r)) if r > 0.0 => Some(w / r),
        _ => None,
    }
}

fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// Commands per second one sampled master (or replica) received while idle, of `kind`
/// (`total`: every kind).
fn rate(r: &RunResult, master: bool, kind: &str) -> Option<f64> {
    let rates = if master {
        &r.idle.master_rates
    } else {
        &r.idle.replica_rates
    };
    Some(if kind == "total" {
        rates.values().sum()
    } else {
        rates.get(kind).copied().unwrap_or(0.0)
    })
}

/// The Markdown report.
fn report(o: &Options, results: &[RunResult], header: &str) -> String {
    let systems = &o.systems;
    let both = systems.contains(&Flavor::Warden) && systems.contains(&Flavor::Redis);
    let mut out = String::from(header);
    out.push_str("\n| metric |");
    for s in systems {
        out.push_str(&format!(" {s} |"));
    }
    if both {
        out.push_str(" warden / redis-sentinel |");
    }
    out.push_str("\n|---|");
    for _ in systems {
        out.push_str("---:|");
    }
    if both {
        out.push_str("---:|");
    }
    out.push('\n');
    let mut row = |name: &str, cells: Vec<String>, ratio_cell: String| {
        out.push_str(&format!("| {name} | {} |", cells.join(" | ")));
        if both {
            out.push_str(&format!(" {ratio_cell} |"));
        }
        out.push('\n');
    };
    // Time metrics: median / p90 / max over every killed shard of every run.
    type Metric<'a> = (&'a str, &'a dyn Fn(&RunResult) -> Vec<f64>);
    let times: [Metric; 5] = [
        ("first +sdown, ms", &|r| {
            r.shards.iter().filter_map(|s| s.sdown).collect()
        }),
        ("first +odown, ms", &|r| {
            r.shards.iter().filter_map(|s| s.odown).collect()
        }),
        ("+switch-master, each surviving sentinel, ms", &|r| {
            r.shards
                .iter()
                .flat_map(|s| r.survivors.iter().filter_map(|&i| s.switch[i]))
                .collect()
        }),
        ("+switch-master, last surviving sentinel, ms", &|r| {
            r.shards.iter().filter_map(|s| s.switch_all).collect()
        }),
        ("first write via a non-leader, ms", &|r| {
            r.shards.iter().filter_map(|s| s.first_write).collect()
        }),
    ];
    for (name, f) in times {
        let stats: Vec<[Option<f64>; 3]> = systems
            .iter()
            .map(|&s| {
                let v = pooled(results, s, f);
                let summary = Summary::of(v.iter().copied());
                [
                    summary.map(|s| s.median),
                    quantile(v.iter().copied(), 0.9),
                    summary.map(|s| s.max),
                ]
            })
            .collect();
        let cells = stats
            .iter()
            .map(|[m, p, x]| format!("{} / {} / {}", fmt(*m, 0), fmt(*p, 0), fmt(*x, 0)))
            .collect();
        let r = |k: usize| {
            let w = systems
                .iter()
                .position(|&s| s == Flavor::Warden)
                .and_then(|i| stats[i][k]);
            let d = systems
                .iter()
                .position(|&s| s == Flavor::Redis)
                .and_then(|i| stats[i][k]);
            fmt(ratio(w, d), 2)
        };
        row(
            &format!("{name} (median / p90 / max)"),
            cells,
            format!("{} / {} / {}", r(0), r(1), r(2)),
        );
    }
    // Scalars: mean over runs (counts: total over runs).
    type Scalar<'a> = (&'a str, usize, &'a dyn Fn(&RunResult) -> Option<f64>);
    let scalars: Vec<Scalar> = vec![
        (
            "shards not failed over at every survivor by the deadline",
            0,
            &|r| Some(r.counts.not_failed_over as f64),
        ),
        ("aborted elections (-failover-abort-not-elected)", 0, &|r| {
            Some(r.counts.aborted_elections as f64)
        }),
        ("other -failover-abort-*", 0, &|r| {
            Some(r.counts.other_aborts as f64)
        }),
        (
            "failover retries (+try-failover beyond the first per shard)",
            0,
            &|r| Some(r.counts.retries as f64),
        ),
        ("+new-epoch events", 0, &|r| {
            Some(r.counts.new_epochs as f64)
        }),
        ("+tilt events", 0, &|r| Some(r.counts.tilts as f64)),
        ("healthy masters failed over", 0, &|r| {
            Some(r.counts.healthy_failed_over as f64)
        }),
        ("live instances marked SDOWN (events)", 0, &|r| {
            Some(r.counts.live_sdown_events as f64)
        }),
        ("live instances marked SDOWN (distinct)", 0, &|r| {
            Some(r.counts.live_sdown_instances as f64)
        }),
        (
            "config fsyncs during the failover (surviving sentinels)",
            0,
            &|r| r.fsync_total().map(|n| n as f64),
        ),
        ("discovery: every sentinel knows every shard, s", 1, &|r| {
            Some(r.discovery_s)
        }),
        (
            "idle sentinel CPU, % of a core (mean per sentinel)",
            1,
            &|r| r.idle.mean(|s| Some(s.cpu_percent)),
        ),
        ("idle sentinel RSS, MiB (mean)", 1, &|r| {
            r.idle.mean(|s| s.rss_kib.map(|k| k as f64 / 1024.0))
        }),
        ("idle sentinel open fds (mean)", 0, &|r| {
            r.idle.mean(|s| s.fds.map(|f| f as f64))
        }),
        ("idle servers' CPU with sentinels, % of a core", 1, &|r| {
            Some(r.idle.fleet_cpu_percent)
        }),
        (
            "idle servers' CPU without sentinels (baseline), %",
            1,
            &|r| r.baseline_fleet_cpu,
        ),
        ("servers' CPU attributable to monitoring, %", 1, &|r| {
            r.baseline_fleet_cpu.map(|b| r.idle.fleet_cpu_percent - b)
        }),
        ("commands/s per master, all kinds", 2, &|r| {
            rate(r, true, "total")
        }),
        ("commands/s per master: ping", 2, &|r| rate(r, true, "ping")),
        ("commands/s per master: info", 2, &|r| rate(r, true, "info")),
        ("commands/s per master: publish", 2, &|r| {
            rate(r, true, "publish")
        }),
        ("commands/s per master: subscribe", 3, &|r| {
            rate(r, true, "subscribe")
        }),
        ("commands/s per replica, all kinds", 2, &|r| {
            rate(r, false, "total")
        }),
        ("commands/s per replica: ping", 2, &|r| {
            rate(r, false, "ping")
        }),
        ("commands/s per replica: info", 2, &|r| {
            rate(r, false, "info")
        }),
        ("commands/s per replica: publish", 2, &|r| {
            rate(r, false, "publish")
        }),
    ];
    for (i, (name, digits, f)) in scalars.into_iter().enumerate() {
        let is_count = i < 10;
        let values: Vec<Option<f64>> = systems
            .iter()
            .map(|&s| {
                let v: Vec<f64> = results
                    .iter()
                    .filter(|r| r.system == s)
                    .filter_map(f)
                    .collect();
                if is_count {
                    (!v.is_empty()).then(|| v.iter().sum())
                } else {
                    mean(&v)
                }
            })
            .collect();
        let w = systems
            .iter()
            .position(|&s| s == Flavor::Warden)
            .and_then(|i| values[i]);
        let d = systems
            .iter()
            .position(|&s| s == Flavor::Redis)
            .and_then(|i| values[i]);
        let cells = values
            .iter()
            .map(|v| match v {
                None if name.contains("fsync") => "n/a".into(),
                v => fmt(*v, digits),
            })
            .collect();
        row(
            name,
            cells,
            if is_count {
                "".into()
            } else {
                fmt(ratio(w, d), 2)
            },
        );
    }
    out
}

fn shell(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn main() -> ExitCode {
    let options = match parse_options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    match run(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("many_masters: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(o: &Options) -> io::Result<()> {
    fleet::catch_interrupt();
    let fd_limit = raise_open_files_limit()?;
    let scratch = TempDir::new("many-masters")?;
    // A private copy of the Warden binary: a rebuild during the bench does not change it.
    let warden_built = if o.systems.contains(&Flavor::Warden) {
        let built = warden()?;
        let copy = scratch.path().join("warden");
        std::fs::copy(&built, &copy)?;
        std::env::set_var("WARDEN_BIN", &copy);
        let modified = std::fs::metadata(&built)?.modified()?;
        Some(format!("{} (modified {:?})", built.display(), modified))
    } else {
        None
    };
    let parent = match &o.config {
        ConfigChoice::Temp => ConfigParent::Temp,
        ConfigChoice::Dir(dir) => {
            std::fs::create_dir_all(dir)?;
            ConfigParent::Dir(dir.clone())
        }
        ConfigChoice::Tmpfs => ConfigParent::Tmpfs(Tmpfs::mount()?),
    };
    let fsync_tool = FsyncTool::detect();
    let commit =
        shell("git", &["describe", "--always", "--dirty"]).unwrap_or_else(|| "unknown".into());
    let when = shell("date", &["-u", "+%Y%m%dT%H%M%SZ"]).unwrap_or_else(|| "now".into());
    let ctx = Context {
        options: o,
        parent: &parent,
        fsync_tool,
        scratch: &scratch,
    };
    eprintln!(
        "many_masters: {} masters ({}), kill {}{}, down-after {} ms, {} run(s), fd limit {fd_limit}, fsyncs by {}",
        o.masters,
        if o.swarm { "redis-swarm" } else { "redis-server" },
        o.kill,
        if o.kill_sentinel { " + sentinel #2" } else { "" },
        o.down_after,
        o.runs,
        fsync_tool.map_or("n/a", FsyncTool::name)
    );
    let mut results = Vec::new();
    for run in 0..o.runs {
        let mut order = o.systems.clone();
        if run % 2 == 1 {
            order.reverse();
        }
        let mut baseline = None;
        for system in order {
            eprintln!("run {}/{} {system}", run + 1, o.runs);
            let result = one_run(&ctx, run, system, &mut baseline)?;
            eprintln!(
                "  failover: {} of {} shards switched at every survivor; observed {:.1} s",
                o.kill as u64 - result.counts.not_failed_over,
                o.kill,
                result.observed_s
            );
            results.push(result);
        }
    }
    let header = format!(
        "many_masters, {when}, build {commit}: {} shards ({}), {} masters SIGKILLed{}, down-after {} ms, \
         quorum {QUORUM}, failover-timeout {FAILOVER_TIMEOUT_MS} ms, {} run(s), idle window {} s, configs in {}, \
         fsyncs counted by {}\n",
        o.masters,
        if o.swarm {
            "simulated, redis-swarm".to_string()
        } else {
            format!("redis-server, hz {}", o.redis_hz)
        },
        o.kill,
        if o.kill_sentinel { format!(" + sentinel #{VICTIM}") } else { String::new() },
        o.down_after,
        o.runs,
        o.idle_secs,
        parent.describe(),
        fsync_tool.map_or("n/a", FsyncTool::name),
    );
    let table = report(o, &results, &header);
    println!("{table}");
    let dir = target_dir().join("many-masters-bench");
    std::fs::create_dir_all(&dir)?;
    let name = o.tag.clone().unwrap_or(when);
    let json = Json::obj([
        ("bench", Json::str("many_masters")),
        ("commit", Json::str(commit)),
        ("warden_binary", Json::from(warden_built.map(Json::Str))),
        ("machine", describe()),
        ("masters", Json::from(o.masters as u64)),
        ("kill", Json::from(o.kill as u64)),
        ("kill_sentinel", Json::Bool(o.kill_sentinel)),
        ("down_after_ms", Json::from(o.down_after)),
        ("swarm", Json::Bool(o.swarm)),
        ("redis_hz", Json::from(u64::from(o.redis_hz))),
        ("idle_secs", Json::from(o.idle_secs)),
        ("deadline_secs", Json::from(o.deadline_secs)),
        ("config_dir", Json::str(parent.describe())),
        (
            "fsync_tool",
            Json::from(fsync_tool.map(|t| Json::str(t.name()))),
        ),
        (
            "runs",
            Json::Arr(results.iter().map(RunResult::json).collect()),
        ),
    ]);
    std::fs::write(dir.join(format!("{name}.json")), json.to_string())?;
    std::fs::write(dir.join(format!("{name}.md")), &table)?;
    eprintln!("wrote {}", dir.join(format!("{name}.json")).display());
    Ok(())
}
