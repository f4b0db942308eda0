//! What the `many_masters` bench measures while the fleet is idle — each sentinel's CPU, memory
//! and open descriptors, the commands the instances receive per second by kind (`INFO
//! commandstats` deltas), the servers' own CPU — and how many times the sentinels fsync during
//! the failover (`perf stat` on the fsync tracepoints, else `strace -c`).

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use warden_integration::client::Client;
use warden_integration::process::Process;

use crate::fleet::{sleep, Shard};
use crate::json::Json;
use crate::machine::{cpu_seconds, open_fds, rss_kib};

/// Most shards whose instances are sampled for `INFO commandstats` (their master and replica).
pub const SAMPLED_SHARDS: usize = 25;

/// CPU time of all of `pids`, in seconds (processes that are gone count 0).
fn cpu_of(pids: &[u32]) -> f64 {
    pids.iter().filter_map(|&pid| cpu_seconds(pid)).sum()
}

/// `calls` of every `cmdstat_<kind>` line of `INFO commandstats` on `port`.
pub fn commandstats(port: u16) -> io::Result<BTreeMap<String, u64>> {
    let text = Client::connect(port)?
        .call(&["INFO", "commandstats"])?
        .as_text()
        .unwrap_or_default();
    Ok(text
        .lines()
        .filter_map(|line| {
            let (kind, rest) = line.strip_prefix("cmdstat_")?.split_once(':')?;
            let calls = rest
                .strip_prefix("calls=")?
                .split(',')
                .next()?
                .parse()
                .ok()?;
            Some((kind.to_owned(), calls))
        })
        .collect())
}

/// One sentinel's use of the machine during the idle window.
#[derive(Clone, Debug)]
pub struct SentinelUsage {
    /// CPU time over wall time, in % of one core.
    pub cpu_percent: f64,
    /// Resident memory at the end, KiB.
    pub rss_kib: Option<u64>,
    /// Open file descriptors at the end.
    pub fds: Option<u64>,
}

/// What the idle window measured.
#[derive(Clone, Debug)]
pub struct Idle {
    /// Its length, seconds.
    pub seconds: f64,
    /// Per sentinel.
    pub sentinels: Vec<SentinelUsage>,
    /// The servers' CPU time over wall time, % of one core (all `redis-server`s, or the swarm).
    pub fleet_cpu_percent: f64,
    /// Commands per second one sampled master received, mean over the sample, by kind.
    pub master_rates: BTreeMap<String, f64>,
    /// The same for replicas.
    pub replica_rates: BTreeMap<String, f64>,
    /// Shards sampled.
    pub sampled_shards: usize,
}

/// The servers' CPU, % of one core, over `window` (no sentinels: the baseline).
pub fn fleet_cpu(server_pids: &[u32], window: Duration) -> io::Result<f64> {
    let (start, before) = (Instant::now(), cpu_of(server_pids));
    sleep(window)?;
    Ok((cpu_of(server_pids) - before) / start.elapsed().as_secs_f64() * 100.0)
}

/// `INFO commandstats` calls of a shard's master and of its replica.
type Stats = (BTreeMap<String, u64>, BTreeMap<String, u64>);

/// Measures an idle window of `window`.
pub fn idle(
    sentinel_pids: &[u32],
    server_pids: &[u32],
    shards: &[Shard],
    window: Duration,
) -> io::Result<Idle> {
    let step = shards.len().div_ceil(SAMPLED_SHARDS).max(1);
    let sample: Vec<&Shard> = shards.iter().step_by(step).collect();
    let snapshot = |sample: &[&Shard]| -> io::Result<Vec<Stats>> {
        sample
            .iter()
            .map(|s| Ok((commandstats(s.master)?, commandstats(s.replica)?)))
            .collect()
    };
    let before_stats = snapshot(&sample)?;
    let start = Instant::now();
    let sentinel_cpu: Vec<f64> = sentinel_pids
        .iter()
        .map(|&p| cpu_seconds(p).unwrap_or(0.0))
        .collect();
    let fleet_before = cpu_of(server_pids);
    sleep(window)?;
    let seconds = start.elapsed().as_secs_f64();
    let sentinels = sentinel_pids
        .iter()
        .zip(sentinel_cpu)
        .map(|(&pid, before)| SentinelUsage {
            cpu_percent: (cpu_seconds(pid).unwrap_or(before) - before) / seconds * 100.0,
            rss_kib: rss_kib(pid),
            fds: open_fds(pid),
        })
        .collect();
    let fleet_cpu_percent = (cpu_of(server_pids) - fleet_before) / seconds * 100.0;
    let after_stats = snapshot(&sample)?;
    let rates = |pick: fn(&Stats) -> &BTreeMap<String, u64>| {
        let mut sums: BTreeMap<String, f64> = BTreeMap::new();
        for (before, after) in before_stats.iter().zip(&after_stats) {
            for (kind, &calls) in pick(after) {
                let mut delta = calls.saturating_sub(pick(before).get(kind).copied().unwrap_or(0));
                if kind == "info" {
                    // The first snapshot's own INFO commandstats.
                    delta = delta.saturating_sub(1);
                }
                *sums.entry(kind.clone()).or_default() += delta as f64;
            }
        }
        sums.values_mut()
            .for_each(|v| *v /= sample.len() as f64 * seconds);
        sums
    };
    Ok(Idle {
        seconds,
        sentinels,
        fleet_cpu_percent,
        master_rates: rates(|s| &s.0),
        replica_rates: rates(|s| &s.1),
        sampled_shards: sample.len(),
    })
}

impl Idle {
    /// Mean over the sentinels of `f`.
    pub fn mean(&self, f: impl Fn(&SentinelUsage) -> Option<f64>) -> Option<f64> {
        let values: Vec<f64> = self.sentinels.iter().filter_map(f).collect();
        (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
    }

    /// As JSON.
    pub fn json(&self) -> Json {
        let rates = |r: &BTreeMap<String, f64>| {
            Json::obj(r.iter().map(|(k, v)| (k.clone(), Json::from(*v))))
        };
        Json::obj([
            ("seconds", Json::from(self.seconds)),
            (
                "sentinels",
                Json::Arr(
                    self.sentinels
                        .iter()
                        .map(|s| {
                            Json::obj([
                                ("cpu_percent", Json::from(s.cpu_percent)),
                                ("rss_kib", Json::from(s.rss_kib)),
                                ("fds", Json::from(s.fds)),
                            ])
                        })
                        .collect(),
                ),
            ),
            ("fleet_cpu_percent", Json::from(self.fleet_cpu_percent)),
            ("sampled_shards", Json::from(self.sampled_shards as u64)),
            ("master_commands_per_s", rates(&self.master_rates)),
            ("replica_commands_per_s", rates(&self.replica_rates)),
        ])
    }
}

/// A tool that counts a process's fsync and fdatasync calls.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FsyncTool {
    /// `perf stat` on the syscall tracepoints (no stop per syscall).
    Perf,
    /// `strace -c` (ptrace: slows every syscall of the traced process).
    Strace,
}

impl FsyncTool {
    /// The first tool that works here, if any.
    pub fn detect() -> Option<FsyncTool> {
        let works = |program: &str, args: &[&str]| {
            Command::new(program)
                .args(args)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        if works("perf", &["stat", "-e", "syscalls:sys_enter_fsync", "true"]) {
            Some(FsyncTool::Perf)
        } else if works("strace", &["-V"]) {
            Some(FsyncTool::Strace)
        } else {
            None
        }
    }

    /// Its name in the results.
    pub fn name(self) -> &'static str {
        match self {
            FsyncTool::Perf => "perf stat",
            FsyncTool::Strace => "strace -c",
        }
    }
}

/// A running fsync count of one process.
pub struct FsyncCounter {
    tool: FsyncTool,
    process: Process,
    out: PathBuf,
}

impl FsyncCounter {
    /// Attaches `tool` to `pid`, writing into `dir` (give it a few hundred ms to attach).
    pub fn attach(tool: FsyncTool, pid: u32, dir: &Path) -> io::Result<FsyncCounter> {
        let out = dir.join(format!("fsyncs-{pid}.txt"));
        let mut cmd;
        match tool {
            FsyncTool::Perf => {
                cmd = Command::new("perf");
                cmd.args([
                    "stat",
                    "-x,",
                    "-e",
                    "syscalls:sys_enter_fsync,syscalls:sys_enter_fdatasync",
                    "-o",
                ]);
            }
            FsyncTool::Strace => {
                cmd = Command::new("strace");
                cmd.args(["-f", "-c", "-e", "trace=fsync,fdatasync", "-o"]);
            }
        }
        cmd.arg(&out).args(["-p", &pid.to_string()]);
        let process = Process::spawn(&format!("fsyncs-{pid}"), cmd, dir)?;
        Ok(FsyncCounter { tool, process, out })
    }

    /// Stops counting (SIGINT) and returns the count.
    pub fn finish(mut self) -> Option<u64> {
        self.process.signal(libc::SIGINT).ok()?;
        self.process.wait_exit(Duration::from_secs(10)).ok()?;
        let text = std::fs::read_to_string(&self.out).ok()?;
        let counts = text.lines().filter_map(|line| match self.tool {
            FsyncTool::Perf => {
                let fields: Vec<&str> = line.split(',').collect();
                (fields.len() > 2 && fields[2].starts_with("syscalls:"))
                    .then(|| fields[0].parse::<u64>().ok())?
            }
            FsyncTool::Strace => {
                let fields: Vec<&str> = line.split_whitespace().collect();
                matches!(fields.last(), Some(&("fsync" | "fdatasync")))
                    .then(|| fields.get(3)?.parse::<u64>().ok())?
            }
        });
        Some(counts.sum())
    }
}
