//! Query throughput and idle memory, Warden vs Redis Sentinel 7.0.15 in the same run.
//!
//! Starts a redis-server, then the reference `redis-sentinel` and `warden` monitoring it with the same
//! config, and runs `redis-benchmark -c 50 -n <requests> [-P 16]` for `PING` and
//! `SENTINEL GET-MASTER-ADDR-BY-NAME mymaster` against each (alternating which goes first). Prints
//! requests/s and the ratio per case, and the idle RSS of both; writes
//! `target/throughput-bench/results.json`.
//!
//! usage: cargo build --release -p warden && cargo bench --bench throughput -- [--requests N]
//! (`THROUGHPUT_REQUESTS` works too; default 200000 per case.)

use std::io;
use std::process::ExitCode;

use warden_benches::json::Json;
use warden_benches::machine::{describe, rss_kib};
use warden_benches::redis_benchmark::{Outcome, Run};
use warden_integration::bed::{SideBySide, MASTER_NAME};
use warden_integration::binaries::{target_dir, warden};
use warden_integration::resp::Value;
use warden_integration::servers::SentinelServer;

const DEFAULT_REQUESTS: u64 = 200_000;
const CLIENTS: u32 = 50;
const PIPELINES: [u32; 2] = [1, 16];

/// One benchmark case measured on both servers.
struct Case {
    command: Vec<&'static str>,
    pipeline: u32,
    reference: Outcome,
    warden: Outcome,
}

fn requests_from_args() -> Result<u64, String> {
    let mut args = std::env::args().skip(1);
    let mut requests = match std::env::var("THROUGHPUT_REQUESTS") {
        Ok(n) => n
            .parse()
            .map_err(|_| format!("THROUGHPUT_REQUESTS={n} is not a number"))?,
        Err(_) => DEFAULT_REQUESTS,
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            // cargo bench passes --bench to every bench binary.
            "--bench" => {}
            "--requests" => {
                let n = args.next().ok_or("--requests needs a number")?;
                requests = n
                    .parse()
                    .map_err(|_| format!("--requests {n} is not a number"))?;
            }
            other => {
                return Err(format!(
                    "unknown argument {other:?} (usage: -- [--requests N])"
                ))
            }
        }
    }
    Ok(requests)
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

fn bench(
    sentinel: &SentinelServer,
    command: &[&str],
    pipeline: u32,
    requests: u64,
) -> io::Result<Outcome> {
    Run {
        port: sentinel.port,
        clients: CLIENTS,
        requests,
        pipeline,
        command,
    }
    .execute()
    .map_err(|e| io::Error::other(format!("{}: {e}", sentinel.flavor)))
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

fn run(requests: u64) -> io::Result<()> {
    warden()?;
    let bed = SideBySide::start(0)?;
    bed.wait_settled()?;
    check_answers(&bed)?;
    let idle = (
        kib(bed.reference.process.pid())?,
        kib(bed.warden.process.pid())?,
    );

    let mut cases = Vec::new();
    let commands: [Vec<&'static str>; 2] = [
        vec!["PING"],
        vec!["SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER_NAME],
    ];
    for command in commands {
        for pipeline in PIPELINES {
            // Alternate which server goes first so neither always meets a warmer or cooler machine.
            let warden_first = cases.len() % 2 == 1;
            let (reference, warden) = if warden_first {
                let w = bench(&bed.warden, &command, pipeline, requests)?;
                (bench(&bed.reference, &command, pipeline, requests)?, w)
            } else {
                let r = bench(&bed.reference, &command, pipeline, requests)?;
                (r, bench(&bed.warden, &command, pipeline, requests)?)
            };
            let case = Case {
                command: command.clone(),
                pipeline,
                reference,
                warden,
            };
            println!(
                "{:<54} redis-sentinel {:>10.0} req/s   warden {:>10.0} req/s   ratio {:.2}x",
                label(&case),
                case.reference.rps,
                case.warden.rps,
                ratio(case.warden.rps, case.reference.rps)
            );
            cases.push(case);
        }
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
    let path = path.join("results.json");
    std::fs::write(
        &path,
        format!("{}\n", results_json(requests, &cases, idle, loaded)),
    )?;
    println!("results: {}", path.display());
    Ok(())
}

fn label(case: &Case) -> String {
    format!(
        "{} -c {CLIENTS} -P {}",
        case.command.join(" "),
        case.pipeline
    )
}

fn outcome_json(o: &Outcome) -> Json {
    Json::obj([
        ("rps", Json::from(o.rps)),
        ("p50_ms", Json::from(o.p50_ms)),
        ("p99_ms", Json::from(o.p99_ms)),
    ])
}

fn results_json(requests: u64, cases: &[Case], idle: (u64, u64), loaded: (u64, u64)) -> Json {
    let cases = cases.iter().map(|c| {
        Json::obj([
            ("command", Json::str(c.command.join(" "))),
            ("clients", Json::from(u64::from(CLIENTS))),
            ("pipeline", Json::from(u64::from(c.pipeline))),
            ("requests", Json::from(requests)),
            ("redis_sentinel", outcome_json(&c.reference)),
            ("warden", outcome_json(&c.warden)),
            ("ratio", Json::from(ratio(c.warden.rps, c.reference.rps))),
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
    let requests = match requests_from_args() {
        Ok(n) => n,
        Err(e) => {
            eprintln!("throughput: {e}");
            return ExitCode::from(2);
        }
    };
    match run(requests) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("throughput: {e}");
            ExitCode::FAILURE
        }
    }
}
