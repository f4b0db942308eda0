//! Query throughput and idle memory, Warden vs Redis Sentinel 7.0.15 in the same run.
//!
//! Starts a redis-server, then the reference `redis-sentinel` and `warden` monitoring it with the same
//! config, and runs `redis-benchmark -c 50 -n <requests> [-P 16]` for `PING` and
//! `SENTINEL GET-MASTER-ADDR-BY-NAME mymaster` against each, in several interleaved rounds
//! (alternating which server goes first; pipelined cases send 10× the requests so that every run
//! lasts about as long). Prints, per case, the median requests/s of each server over the rounds,
//! the ratio of the medians with the range of the per-round ratios, the server's CPU time per
//! request (and so the ratio of requests per CPU-second), and how busy the server and
//! `redis-benchmark` were: a load generator at ~100 % of its one core is the bottleneck, and then
//! requests/s say more about it than about the server. Then the idle RSS of both. Writes
//! `target/throughput-bench/results.json` (`results-tls.json` with `--tls`, which runs every
//! case over TLS: each sentinel serves a `tls-port` with a throwaway CA's certificate).
//!
//! usage: cargo build --release -p warden && cargo bench --bench throughput -- [--requests N] [--rounds R] [--tls]
//! (`THROUGHPUT_REQUESTS` works too; default 100000 requests per unpipelined case and round,
//! 5 rounds.)

use std::io;
use std::process::ExitCode;

use std::path::Path;
use warden_benches::args::{for_each_option, positive};
use warden_benches::json::Json;
use warden_benches::machine::{cpu_seconds, describe, rss_kib};
use warden_benches::redis_benchmark::{Outcome, Run};
use warden_benches::stats::Summary;
use warden_integration::bed::{SideBySide, MASTER_NAME};
use warden_integration::binaries::{target_dir, warden};
use warden_integration::certs::TestCerts;
use warden_integration::ports::free_port;
use warden_integration::resp::Value;
use warden_integration::servers::{Flavor, SentinelServer};

const DEFAULT_REQUESTS: u64 = 100_000;
const DEFAULT_ROUNDS: u32 = 5;
const CLIENTS: u32 = 50;
const PIPELINES: [u32; 2] = [1, 16];
/// Pipelined runs send this many times the requests of unpipelined ones (they are ~10× faster).
const PIPELINED_SCALE: u64 = 10;

/// One server's measurements of one case in one round.
struct Sample {
    outcome: Outcome,
    /// The server's CPU time per request, in microseconds.
    cpu_us: f64,
    /// The share of one core the server used during the run.
    server_busy: f64,
}

impl Sample {
    /// Requests per second.
    fn rps(&self) -> f64 {
        self.outcome.report.rps
    }

    /// The share of one core `redis-benchmark` used during the run.
    fn client_busy(&self) -> f64 {
        self.outcome.client_cpu_s / self.outcome.wall_s
    }
}

/// A load generator busier than this share of its one core was the bottleneck of the run.
const CLIENT_BOUND: f64 = 0.9;

/// One benchmark case: both servers' samples, one per round.
struct Case {
    command: Vec<&'static str>,
    pipeline: u32,
    /// Requests per run.
    requests: u64,
    reference: Vec<Sample>,
    warden: Vec<Sample>,
}

/// What to run.
struct Options {
    requests: u64,
    rounds: u32,
    /// Query both servers over TLS (on their `tls-port`) instead of plain TCP.
    tls: bool,
}

/// Where `redis-benchmark` connects to one server.
struct Target<'a> {
    sentinel: &'a SentinelServer,
    port: u16,
    /// The CA to verify the server with, for TLS.
    tls_ca: Option<&'a Path>,
}

fn options_from_args() -> Result<Options, String> {
    let mut options = Options {
        requests: match std::env::var("THROUGHPUT_REQUESTS") {
            Ok(n) => positive("THROUGHPUT_REQUESTS", &n)?,
            Err(_) => DEFAULT_REQUESTS,
        },
        rounds: DEFAULT_ROUNDS,
        tls: false,
    };
    for_each_option(|arg, value| {
        match arg {
            "--requests" => options.requests = positive("--requests", &value()?)?,
            "--rounds" => options.rounds = positive("--rounds", &value()?)?,
            "--tls" => options.tls = true,
            other => {
                return Err(format!(
                    "unknown argument {other:?} (usage: -- [--requests N] [--rounds R] [--tls])"
                ))
            }
        }
        Ok(())
    })?;
    Ok(options)
}

/// Both sentinels must answer the benchmarked query with the master's address before it is timed.
fn check_answers(bed: &SideBySide) -> io::Result<()> {
    let want = Value::Array(vec![
        Value::Bulk(b"127.0.0.1".to_vec()),
        Value::Bulk(bed.master.port.to_string().into_bytes()),
    ]);
    for sentinel in bed.sentinels() {
        let got = sentinel
            .client()?
            .call(&["SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER_NAME])?;
        if got != want {
            return Err(io::Error::other(format!(
                "{} answers GET-MASTER-ADDR-BY-NAME with {got}",
                sentinel.flavor
            )));
        }
    }
    Ok(())
}

fn bench(target: &Target, command: &[&str], pipeline: u32, requests: u64) -> io::Result<Sample> {
    let sentinel = target.sentinel;
    let pid = sentinel.process.pid();
    let cpu = || {
        cpu_seconds(pid)
            .ok_or_else(|| io::Error::other(format!("cannot read the CPU time of pid {pid}")))
    };
    let before = cpu()?;
    let outcome = Run {
        port: target.port,
        clients: CLIENTS,
        requests,
        pipeline,
        command,
        tls_ca: target.tls_ca,
    }
    .execute()
    .map_err(|e| io::Error::other(format!("{}: {e}", sentinel.flavor)))?;
    let server_cpu_s = cpu()? - before;
    Ok(Sample {
        cpu_us: server_cpu_s * 1e6 / requests as f64,
        server_busy: server_cpu_s / outcome.wall_s,
        outcome,
    })
}

fn ratio(warden: f64, reference: f64) -> f64 {
    if reference > 0.0 {
        warden / reference
    } else {
        f64::NAN
    }
}

fn kib(pid: u32) -> io::Result<u64> {
    rss_kib(pid).ok_or_else(|| io::Error::other(format!("cannot read VmRSS of pid {pid}")))
}

fn run(options: &Options) -> io::Result<()> {
    warden()?;
    // With --tls each sentinel also serves TLS on its own port (no client certificates).
    let certs = if options.tls {
        Some(TestCerts::create()?)
    } else {
        None
    };
    let tls_ports = [free_port(), free_port()];
    let bed = SideBySide::start_each(0, |flavor| match &certs {
        None => Vec::new(),
        Some(certs) => {
            let port = tls_ports[usize::from(flavor == Flavor::Warden)];
            let file = |name: &str| certs.file(name).display().to_string();
            vec![
                format!("tls-port {port}"),
                format!("tls-cert-file {}", file("server.crt")),
                format!("tls-key-file {}", file("server.key")),
                format!("tls-ca-cert-file {}", file("ca.crt")),
                "tls-auth-clients no".into(),
            ]
        }
    })?;
    bed.wait_settled()?;
    let ca = certs.as_ref().map(|certs| certs.file("ca.crt"));
    let targets = [(&bed.reference, tls_ports[0]), (&bed.warden, tls_ports[1])].map(
        |(sentinel, tls_port)| Target {
            sentinel,
            port: if ca.is_some() {
                tls_port
            } else {
                sentinel.port
            },
            tls_ca: ca.as_deref(),
        },
    );
    check_answers(&bed)?;
    let idle = (
        kib(bed.reference.process.pid())?,
        kib(bed.warden.process.pid())?,
    );

    let commands: [Vec<&'static str>; 2] = [
        vec!["PING"],
        vec!["SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER_NAME],
    ];
    let mut cases: Vec<Case> = commands
        .iter()
        .flat_map(|command| {
            PIPELINES.map(|pipeline| Case {
                command: command.clone(),
                pipeline,
                requests: if pipeline > 1 {
                    options.requests * PIPELINED_SCALE
                } else {
                    options.requests
                },
                reference: Vec::new(),
                warden: Vec::new(),
            })
        })
        .collect();
    for round in 0..options.rounds as usize {
        for (k, case) in cases.iter_mut().enumerate() {
            // Alternate which server goes first so neither always meets a warmer or cooler machine.
            let [reference, warden] = &targets;
            let order = if (round + k) % 2 == 0 {
                [reference, warden]
            } else {
                [warden, reference]
            };
            for target in order {
                let sample = bench(target, &case.command, case.pipeline, case.requests)?;
                if std::ptr::eq(target, warden) {
                    case.warden.push(sample);
                } else {
                    case.reference.push(sample);
                }
            }
            let (r, w) = (&case.reference[round], &case.warden[round]);
            println!(
                "round {}/{} {:<50} redis-sentinel {:>9.0} req/s  warden {:>9.0} req/s  ratio {:.2}x",
                round + 1,
                options.rounds,
                label(case),
                r.rps(),
                w.rps(),
                ratio(w.rps(), r.rps())
            );
        }
    }
    println!();
    println!(
        "median over {} rounds of {} requests ({} pipelined):",
        options.rounds,
        options.requests,
        options.requests * PIPELINED_SCALE
    );
    for case in &cases {
        let s = CaseSummary::of(case);
        println!(
            "{:<54} redis-sentinel {:>9.0} req/s  warden {:>9.0} req/s  ratio {:.2}x [{:.2}–{:.2}]",
            label(case),
            s.reference.rps.median,
            s.warden.rps.median,
            s.ratio(),
            s.round_ratios.min,
            s.round_ratios.max,
        );
        println!(
            "{:<54} server CPU/request {:.2} vs {:.2} µs (requests per CPU-second {:.2}x); busy: servers {:.0}% vs {:.0}%, redis-benchmark {:.0}% vs {:.0}% of a core{}",
            "",
            s.reference.cpu_us.median,
            s.warden.cpu_us.median,
            s.efficiency_ratio(),
            s.reference.server_busy.median * 100.0,
            s.warden.server_busy.median * 100.0,
            s.reference.client_busy.median * 100.0,
            s.warden.client_busy.median * 100.0,
            if s.client_bound() { " — bound by redis-benchmark" } else { "" },
        );
    }
    let loaded = (
        kib(bed.reference.process.pid())?,
        kib(bed.warden.process.pid())?,
    );
    println!(
        "{:<54} redis-sentinel {:>8} KiB     warden {:>8} KiB     ratio {:.2}x",
        "idle RSS",
        idle.0,
        idle.1,
        ratio(idle.1 as f64, idle.0 as f64)
    );
    println!(
        "{:<54} redis-sentinel {:>8} KiB     warden {:>8} KiB",
        "RSS after the runs", loaded.0, loaded.1
    );

    let path = target_dir().join("throughput-bench");
    std::fs::create_dir_all(&path)?;
    let path = path.join(if options.tls {
        "results-tls.json"
    } else {
        "results.json"
    });
    std::fs::write(
        &path,
        format!("{}\n", results_json(options, &cases, idle, loaded)),
    )?;
    println!("results: {}", path.display());
    Ok(())
}

/// Medians and ranges of one server's samples of one case.
struct SideSummary {
    rps: Summary,
    cpu_us: Summary,
    server_busy: Summary,
    client_busy: Summary,
}

/// A summary of no samples.
const NO_SAMPLES: Summary = Summary {
    count: 0,
    median: f64::NAN,
    min: f64::NAN,
    max: f64::NAN,
};

impl SideSummary {
    fn of(samples: &[Sample]) -> SideSummary {
        let summary =
            |f: fn(&Sample) -> f64| Summary::of(samples.iter().map(f)).unwrap_or(NO_SAMPLES);
        SideSummary {
            rps: summary(Sample::rps),
            cpu_us: summary(|s| s.cpu_us),
            server_busy: summary(|s| s.server_busy),
            client_busy: summary(Sample::client_busy),
        }
    }

    fn json(&self) -> Json {
        Json::obj([
            ("rps", self.rps.json()),
            ("cpu_us_per_request", self.cpu_us.json()),
            ("server_busy", self.server_busy.json()),
            ("redis_benchmark_busy", self.client_busy.json()),
        ])
    }
}

/// Both servers' summaries of one case, and the ratios of their rounds.
struct CaseSummary {
    reference: SideSummary,
    warden: SideSummary,
    round_ratios: Summary,
}

impl CaseSummary {
    fn of(case: &Case) -> CaseSummary {
        CaseSummary {
            reference: SideSummary::of(&case.reference),
            warden: SideSummary::of(&case.warden),
            round_ratios: Summary::of(
                case.reference
                    .iter()
                    .zip(&case.warden)
                    .map(|(r, w)| ratio(w.rps(), r.rps())),
            )
            .unwrap_or(NO_SAMPLES),
        }
    }

    /// Warden's median requests/s over redis-sentinel's.
    fn ratio(&self) -> f64 {
        ratio(self.warden.rps.median, self.reference.rps.median)
    }

    /// Warden's requests per CPU-second over redis-sentinel's: the throughput ratio a load
    /// generator that is not itself the bottleneck would see.
    fn efficiency_ratio(&self) -> f64 {
        ratio(self.reference.cpu_us.median, self.warden.cpu_us.median)
    }

    /// Whether `redis-benchmark` saturated its core in both servers' runs (median), which makes
    /// the requests/s of both its own limit rather than the servers'.
    fn client_bound(&self) -> bool {
        self.reference.client_busy.median >= CLIENT_BOUND
            && self.warden.client_busy.median >= CLIENT_BOUND
    }
}

fn label(case: &Case) -> String {
    format!(
        "{} -c {CLIENTS} -P {}",
        case.command.join(" "),
        case.pipeline
    )
}

fn samples_json(samples: &[Sample]) -> Json {
    Json::Arr(
        samples
            .iter()
            .map(|s| {
                Json::obj([
                    ("rps", Json::from(s.rps())),
                    ("p50_ms", Json::from(s.outcome.report.p50_ms)),
                    ("p99_ms", Json::from(s.outcome.report.p99_ms)),
                    ("wall_s", Json::from(s.outcome.wall_s)),
                    ("server_busy", Json::from(s.server_busy)),
                    ("redis_benchmark_busy", Json::from(s.client_busy())),
                    ("cpu_us_per_request", Json::from(s.cpu_us)),
                ])
            })
            .collect(),
    )
}

fn results_json(options: &Options, cases: &[Case], idle: (u64, u64), loaded: (u64, u64)) -> Json {
    let cases = cases.iter().map(|c| {
        let s = CaseSummary::of(c);
        Json::obj([
            ("command", Json::str(c.command.join(" "))),
            ("clients", Json::from(u64::from(CLIENTS))),
            ("pipeline", Json::from(u64::from(c.pipeline))),
            ("requests", Json::from(c.requests)),
            ("rounds", Json::from(u64::from(options.rounds))),
            ("tls", Json::Bool(options.tls)),
            ("ratio", Json::from(s.ratio())),
            ("round_ratios", s.round_ratios.json()),
            (
                "requests_per_cpu_second_ratio",
                Json::from(s.efficiency_ratio()),
            ),
            ("bound_by_redis_benchmark", Json::Bool(s.client_bound())),
            ("redis_sentinel_summary", s.reference.json()),
            ("warden_summary", s.warden.json()),
            ("redis_sentinel", samples_json(&c.reference)),
            ("warden", samples_json(&c.warden)),
        ])
    });
    let rss = |(reference, warden): (u64, u64)| {
        Json::obj([
            ("redis_sentinel", Json::from(reference)),
            ("warden", Json::from(warden)),
            ("ratio", Json::from(ratio(warden as f64, reference as f64))),
        ])
    };
    Json::obj([
        ("machine", describe()),
        ("cases", Json::Arr(cases.collect())),
        ("idle_rss_kib", rss(idle)),
        ("after_runs_rss_kib", rss(loaded)),
    ])
}

fn main() -> ExitCode {
    let options = match options_from_args() {
        Ok(options) => options,
        Err(e) => {
            eprintln!("throughput: {e}");
            return ExitCode::from(2);
        }
    };
    match run(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("throughput: {e}");
            ExitCode::FAILURE
        }
    }
}
