//! `warden-demo [--keep]` (what `warden demo` runs): a failover shown end to end on loopback, in
//! one command. Its own crate and binary, so the packaged sentinel holds no demo code.
//!
//! It starts a master and two replicas (`redis-server`, installed with apt-get if missing) and
//! three Wardens (the `warden` beside this executable, each with its own generated
//! `sentinel.conf`), waits until
//! the Wardens agree on the group, SIGKILLs the master and prints every event the Wardens
//! publish with its time since the kill, then the new topology; finally it restarts the old
//! master and shows the Wardens turning it into a replica. Everything it started is stopped by
//! PID at the end, on error and on Ctrl-C; `--keep` leaves the group running until Ctrl-C.
//!
//! Setting `WARDEN_DEMO_SENTINEL` to another sentinel program (e.g. `/usr/bin/redis-sentinel`)
//! runs the same demo with it, for comparison.

mod cluster;
mod procs;
mod resp;
mod show;
mod timeline;
mod vip;

use cluster::{Cluster, View, DOWN_AFTER_MS, FAILOVER_TIMEOUT_MS, MASTER_NAME, QUORUM};
use procs::Procs;
use show::Screen;
use std::io;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};
use timeline::Timeline;

/// Usage text for `warden demo --help`.
const USAGE: &str = "\
Usage: warden demo [--keep | --vip | --no-vip]

Starts 1 redis-server master + 2 replicas and 3 Wardens on 127.0.0.1 (in a temp dir), kills
the master and prints the failover as it happens, then restarts the old master and shows it
rejoining as a replica. Then, as root where network namespaces work, the VIP part: three
nodes in namespaces with the VIP on the master's node and a client writing through the VIP;
the master's node is killed and the screen shows which node answers the writes, the gap and
the READONLY replies, beside every Warden's events. Stops and removes everything it started
(also on Ctrl-C) and exits 0, in under a minute.

  --keep     leave the loopback group running afterwards, print redis-cli commands to poke
             it, and stop everything on Ctrl-C (no VIP part)
  --vip      the VIP part only
  --no-vip   the loopback part only

Environment: WARDEN_DEMO_SENTINEL=<program> runs that sentinel instead of this Warden
(e.g. /usr/bin/redis-sentinel, to compare).
";

/// Longest wait for the sentinels to discover each other and the replicas.
const AGREE_LIMIT: Duration = Duration::from_secs(30);
/// Longest wait for the failover (one retry of a split election fits).
const FAILOVER_LIMIT: Duration = Duration::from_secs(40);
/// Longest wait for the restarted old master to be turned into a replica.
const REJOIN_LIMIT: Duration = Duration::from_secs(30);
/// How often conditions are re-checked and the progress line redrawn.
const TICK: Duration = Duration::from_millis(100);

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    run(&args)
}

/// Run the demo; `args` are the arguments after `demo`. Builds its own (single-threaded) tokio
/// runtime.
fn run(args: &[String]) -> ExitCode {
    // (loopback part, VIP part, keep)
    let (loopback, vip, keep) = match args {
        [] => (true, true, false),
        [flag] if flag == "--keep" => (true, false, true),
        [flag] if flag == "--vip" => (false, true, false),
        [flag] if flag == "--no-vip" => (true, false, false),
        [flag] if flag == "-h" || flag == "--help" => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => {
            eprint!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("warden demo: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        if loopback {
            if let Err(code) = demo(keep).await {
                return code;
            }
        }
        if vip {
            return vip_part().await;
        }
        ExitCode::SUCCESS
    })
}

/// The VIP part, when it can run here (else says why it was skipped).
async fn vip_part() -> ExitCode {
    if std::env::var_os("WARDEN_DEMO_SENTINEL").is_some() {
        println!("\nThe VIP part was skipped: it shows Warden's VIP, not WARDEN_DEMO_SENTINEL's sentinel.");
        return ExitCode::SUCCESS;
    }
    if let Some(why) = vip::unavailable() {
        println!("\nThe VIP part was skipped ({why}): run it as root where `ip netns` works to see the VIP move.");
        return ExitCode::SUCCESS;
    }
    let warden = match sentinel_program() {
        Ok(warden) => warden,
        Err(e) => {
            eprintln!("warden demo: {e}");
            return ExitCode::FAILURE;
        }
    };
    // The test kit the VIP part is built with finds Warden through WARDEN_BIN; nothing else
    // runs yet.
    std::env::set_var("WARDEN_BIN", &warden);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = stop.clone();
    let mut task = tokio::task::spawn_blocking(move || vip::run(&flag));
    let result = tokio::select! {
        result = &mut task => result,
        () = interrupted() => {
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            task.await
        }
    };
    match result {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {
            println!("\nInterrupted: stopped everything the demo started.");
            ExitCode::from(130)
        }
        Ok(Err(e)) => {
            eprintln!(
                "\nwarden demo (VIP part) failed: {e}\nStopped and removed everything it started."
            );
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("\nwarden demo (VIP part) failed: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Why the demo stopped early.
enum Stop {
    Interrupted,
    Failed(io::Error),
}

/// The loopback part; `Err(code)` when the demo must end with that code.
async fn demo(keep: bool) -> Result<(), ExitCode> {
    match loopback(keep).await {
        code if code == ExitCode::SUCCESS => Ok(()),
        code => Err(code),
    }
}

async fn loopback(keep: bool) -> ExitCode {
    let setup = procs::redis_server().and_then(|redis| Ok((redis, sentinel_program()?)));
    let (redis, sentinel) = match setup {
        Ok(programs) => programs,
        Err(e) => {
            eprintln!("warden demo: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut procs = match Procs::new() {
        Ok(procs) => procs,
        Err(e) => {
            eprintln!("warden demo: cannot create a scratch directory: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut screen = Screen::new();
    let outcome = tokio::select! {
        result = scenario(&mut procs, &redis, &sentinel, &mut screen, keep) => {
            result.map_err(Stop::Failed)
        }
        () = interrupted() => Err(Stop::Interrupted),
    };
    let outcome = match outcome {
        Ok(()) if keep => {
            interrupted().await;
            Ok(())
        }
        other => other,
    };
    screen.clear();
    procs.stop_all().await;
    match outcome {
        Ok(()) => {
            let _ = procs.remove_dir();
            if keep {
                println!("\nStopped everything the demo started.");
            }
            ExitCode::SUCCESS
        }
        Err(Stop::Interrupted) => {
            let _ = procs.remove_dir();
            println!("\nInterrupted: stopped everything the demo started.");
            ExitCode::from(130)
        }
        Err(Stop::Failed(e)) => {
            eprintln!(
                "\nwarden demo failed: {e}\nStopped everything it started; logs and configs kept in {}",
                procs.dir().display()
            );
            ExitCode::FAILURE
        }
    }
}

/// The sentinel program to run: `WARDEN_DEMO_SENTINEL`, else the `warden` beside this
/// executable.
fn sentinel_program() -> io::Result<PathBuf> {
    if let Some(program) = std::env::var_os("WARDEN_DEMO_SENTINEL") {
        return Ok(PathBuf::from(program));
    }
    let warden = std::env::current_exe()?.with_file_name("warden");
    if warden.exists() {
        Ok(warden)
    } else {
        Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!(
                "{} not found: build it (cargo build --release -p warden) or set WARDEN_DEMO_SENTINEL",
                warden.display()
            ),
        ))
    }
}

/// Completes on Ctrl-C (SIGINT) or SIGTERM.
async fn interrupted() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// The demo proper.
async fn scenario(
    procs: &mut Procs,
    redis: &Path,
    sentinel: &Path,
    screen: &mut Screen,
    keep: bool,
) -> io::Result<()> {
    let started = Instant::now();
    screen.line(&format!(
        "Warden demo: 1 master + 2 replicas + 3 Wardens on 127.0.0.1 (files in {})",
        procs.dir().display()
    ));
    screen.line(&format!(
        "Each Warden: sentinel monitor {MASTER_NAME} <master> {QUORUM}, down-after-milliseconds \
         {DOWN_AFTER_MS}, failover-timeout {FAILOVER_TIMEOUT_MS}\n"
    ));
    let mut cluster = Cluster::start(procs, redis, sentinel, &mut |l| screen.line(&l)).await?;
    wait_agreement(&cluster, screen).await?;
    screen.line("\nTopology:");
    print_topology(&cluster, screen).await;

    let old_master = format!("127.0.0.1:{}", cluster.servers[0].port);
    let old_master = old_master.as_str();
    let mut timeline = Timeline::subscribe(&cluster.wardens, cluster.sentinel_ids().await?).await?;
    timeline.start_clock();
    let pid = cluster.kill_server(0).await?;
    screen.line(&format!(
        "\nSIGKILL redis-1 (the master, pid {pid}). Events published by the Wardens, in ms since \
         the kill:"
    ));
    let switched = Goal::Switched { old_master };
    follow(&cluster, &mut timeline, screen, &switched, FAILOVER_LIMIT).await?;
    let new_master = cluster.agreed_master().await.unwrap_or_default();
    screen.line(&format!(
        "\nFailover done in {:.2} s: all three Wardens report {new_master} as the master \
         (SENTINEL GET-MASTER-ADDR-BY-NAME).",
        timeline.elapsed_secs()
    ));
    print_topology(&cluster, screen).await;

    let pid = cluster.start_redis(0, None).await?;
    screen.line(&format!(
        "\nRestarted redis-1 (pid {pid}) as a master, like a server rebooting with its old config; \
         the Wardens must turn it into a replica:"
    ));
    let rejoined = Goal::Rejoined {
        old_port: cluster.servers[0].port,
    };
    follow(&cluster, &mut timeline, screen, &rejoined, REJOIN_LIMIT).await?;
    screen.line("\nFinal topology:");
    print_topology(&cluster, screen).await;
    screen.line(&format!(
        "\nDemo finished in {:.1} s.",
        started.elapsed().as_secs_f64()
    ));
    if keep {
        print_poke_commands(&cluster, screen).await;
    }
    Ok(())
}

/// Wait until every sentinel knows both replicas and both other sentinels, showing progress.
async fn wait_agreement(cluster: &Cluster<'_>, screen: &mut Screen) -> io::Result<()> {
    let start = Instant::now();
    loop {
        let views = cluster.views().await;
        let agreed = views.iter().all(|v| {
            v.as_ref()
                .is_some_and(|v| v.replicas == 2 && v.sentinels == 2)
        });
        let count = |f: fn(&View) -> usize| {
            views
                .iter()
                .map(|v| v.as_ref().map_or("-".to_string(), |v| f(v).to_string()))
                .collect::<Vec<_>>()
                .join("/")
        };
        let last = format!(
            "replicas {}, other Wardens {}",
            count(|v| v.replicas),
            count(|v| v.sentinels)
        );
        if agreed {
            screen.line(&format!(
                "\nThe Wardens agree after {:.1} s: each knows 2 replicas and 2 other Wardens.",
                start.elapsed().as_secs_f64()
            ));
            return Ok(());
        }
        if start.elapsed() >= AGREE_LIMIT {
            return Err(io::Error::other(format!(
                "the Wardens did not agree within {AGREE_LIMIT:?} (last: {last})"
            )));
        }
        screen.progress(&format!(
            "waiting for the Wardens to agree ({:.1} s): {last}",
            start.elapsed().as_secs_f64()
        ));
        tokio::time::sleep(TICK).await;
    }
}

/// A state of the group the demo waits for while printing events.
enum Goal<'a> {
    /// Every Warden published `+switch-master` and all report the same master, not this one.
    Switched { old_master: &'a str },
    /// A Warden published `+convert-to-slave` for the old master, now a replica in sync.
    Rejoined { old_port: u16 },
}

impl Goal<'_> {
    /// What the progress line says while waiting.
    fn waiting(&self) -> &'static str {
        match self {
            Goal::Switched { .. } => "waiting for all Wardens to switch to a new master",
            Goal::Rejoined { .. } => "waiting for redis-1 to become a replica",
        }
    }

    async fn reached(&self, cluster: &Cluster<'_>, timeline: &Timeline) -> bool {
        match *self {
            Goal::Switched { old_master } => {
                timeline.publishers("+switch-master", "") == cluster.wardens.len()
                    && cluster
                        .agreed_master()
                        .await
                        .is_some_and(|m| m != old_master)
            }
            Goal::Rejoined { old_port } => {
                timeline.publishers("+convert-to-slave", &format!(":{old_port} ")) > 0
                    && cluster.is_synced_replica(old_port).await
            }
        }
    }
}

/// Print events as they arrive until `goal` is reached, checking it (and redrawing the progress
/// line) every [`TICK`]; fails after `limit`.
async fn follow(
    cluster: &Cluster<'_>,
    timeline: &mut Timeline,
    screen: &mut Screen,
    goal: &Goal<'_>,
    limit: Duration,
) -> io::Result<()> {
    let start = Instant::now();
    let mut tick = tokio::time::interval(TICK);
    loop {
        tokio::select! {
            () = timeline.next(screen) => {}
            _ = tick.tick() => {
                if goal.reached(cluster, timeline).await {
                    screen.clear();
                    return Ok(());
                }
                if start.elapsed() >= limit {
                    return Err(io::Error::other(format!(
                        "timed out {} ({limit:?})",
                        goal.waiting()
                    )));
                }
                screen.progress(&format!(
                    "{}... {:.1} s since the kill",
                    goal.waiting(),
                    timeline.elapsed_secs()
                ));
            }
        }
    }
}

async fn print_topology(cluster: &Cluster<'_>, screen: &mut Screen) {
    for line in cluster.topology().await {
        screen.line(&line);
    }
}

/// `--keep`: how to look at the running group.
async fn print_poke_commands(cluster: &Cluster<'_>, screen: &mut Screen) {
    let warden = cluster.wardens[0].port;
    let master = cluster.agreed_master().await.unwrap_or_default();
    let master_port = master.rsplit(':').next().unwrap_or_default();
    let master_pid = cluster
        .servers
        .iter()
        .find(|s| s.port.to_string() == master_port)
        .and_then(|s| cluster.pid(&s.name))
        .map_or_else(|| "<pid>".to_string(), |p| p.to_string());
    let lines = [
        "\nStill running (--keep). Try:".to_string(),
        format!("  redis-cli -p {warden} SENTINEL GET-MASTER-ADDR-BY-NAME {MASTER_NAME}"),
        format!("  redis-cli -p {warden} SENTINEL REPLICAS {MASTER_NAME}"),
        format!("  redis-cli -p {warden} SENTINEL SENTINELS {MASTER_NAME}"),
        format!("  redis-cli -p {warden} PSUBSCRIBE '*'          # watch events live"),
        format!("  redis-cli -p {master_port} INFO replication"),
        format!("  redis-cli -p {warden} SENTINEL FAILOVER {MASTER_NAME}   # another failover"),
        format!("  kill -9 {master_pid}                          # kill the current master"),
        format!(
            "Logs and configs: {}/*.log, {}/warden-*/sentinel.conf",
            cluster.dir().display(),
            cluster.dir().display()
        ),
        "Press Ctrl-C to stop everything and remove the files.".to_string(),
    ];
    for line in lines {
        screen.line(&line);
    }
}
