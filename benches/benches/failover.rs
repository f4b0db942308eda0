//! Failover through a virtual IP, in network namespaces: Warden (VIP built in) vs the seed
//! (redis-sentinel + keepalived) vs redis-sentinel + a `client-reconfig-script` moving the VIP,
//! in the same run with the same down-after-milliseconds. Needs root.
//!
//! Per run, a fresh bed: three node namespaces (redis-server on 6379, node 0 the master, plus
//! the system's processes) and a client namespace on one bridge. Once the group is up and the
//! VIP is on node 0 (nodes set `arp_ignore=1`, `arp_announce=2`, as the operations guide asks),
//! the client starts an `INCR` + `SET fb:<n>` through the VIP every 10 ms with 200 ms
//! timeouts (on a pool of connections, each reopened after any failure, so a hung attempt does
//! not delay the next), every node's `ROLE` is polled, every
//! node's addresses are watched and the sentinels' events are subscribed to. Then the fault:
//! `kill` (every process of node 0 SIGKILLed), `partition` (node 0's bridge port down),
//! `stop` (node 0's redis-server SIGSTOPped) or `switchover` (`SENTINEL FAILOVER`). After
//! down-after + 8 s the node is brought back (restarted empty, plugged in, SIGCONT), and
//! watched 10 s more. Reported per run, in ms from the fault: +sdown, +odown, +switch-master,
//! VIP moved, first write after the outage, total write unavailability, READONLY answers,
//! acknowledged writes missing on the final master, time with two live VIP holders.
//!
//! Outputs in `target/failover-bench/`: `results.json`, `results.md` (also printed) and
//! `timeline-<scenario>.svg` (first run of each system), with a `-<tag>` (or `-lease<ms>`)
//! suffix when given. A benchmark: nothing is asserted.
//!
//! usage: cargo build --release -p warden && sudo cargo bench --bench failover -- [--quick]
//!        [--runs N] [--scenario kill,partition,stop,switchover,switchover-coordinated,freeze,...]
//!        [--systems warden,seed,script-vip,warden-routed | --vip-mode l2,routed]
//!        [--down-after 5000,1000] [--warden-lease MS] [--tag TAG]
//! (`--quick`: one `kill` run per system at down-after 1000; `--warden-lease`: Warden's
//! `vip-lease` instead of its default, 1 x down-after; `--vip-mode routed` (or the system
//! `warden-routed`): Warden with a routed VIP on a bed of two racks behind routers running FRR
//! (BGP + BFD), the client behind the second router — the routers' RIBs are read every 10 ms
//! instead of the ARP probes, and their announcers are drawn in the timeline; needs `frr`.)

use std::io;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use warden_benches::args;
use warden_benches::conn::Conn;
use warden_benches::json::Json;
use warden_benches::machine::describe;
use warden_benches::netbed::{
    catch_interrupts, interrupted, observe_for, wait_until, NetBed, NODES, REDIS_PORT,
    SENTINEL_PORT,
};
use warden_benches::stats::Summary;
use warden_benches::timeline::render;
use warden_benches::vipmetrics::{ms, Metrics, Trace};
use warden_benches::vipprobe::{
    in_client, ArpView, RolePoller, RouteView, VipWatch, VipWriter, KEY_PREFIX, WRITE_PERIOD,
    WRITE_TIMEOUT,
};
use warden_benches::vipsystems::{System, MASTER_NAME};
use warden_integration::binaries::{target_dir, warden};
use warden_integration::events::{Event, EventLog};
use warden_integration::netns;
use warden_integration::resp::Value;
use warden_integration::tempdir::TempDir;

/// Watching time before the fault.
const BEFORE: Duration = Duration::from_secs(1);
/// Watching time after the fault beyond down-after, before the node is brought back.
const FAULT_WINDOW: Duration = Duration::from_secs(8);
/// Watching time after the node is back.
const RETURN_WINDOW: Duration = Duration::from_secs(10);
/// Longest wait for the group (replication, sentinels, VIP) to be ready.
const SETUP_TIMEOUT: Duration = Duration::from_secs(30);
/// Timeout of the bench's own requests (set-up checks, final reads).
const REQUEST_TIMEOUT: Duration = Duration::from_millis(500);

/// A fault injected at node 0 (the initial master).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scenario {
    Kill,
    Partition,
    Stop,
    Switchover,
    SwitchoverCoordinated,
    Freeze,
    WardenKill,
    WardenRestart,
}

impl Scenario {
    const ALL: [Scenario; 8] = [
        Scenario::Kill,
        Scenario::Partition,
        Scenario::Stop,
        Scenario::Switchover,
        Scenario::SwitchoverCoordinated,
        Scenario::Freeze,
        Scenario::WardenKill,
        Scenario::WardenRestart,
    ];

    fn name(self) -> &'static str {
        match self {
            Scenario::Kill => "kill",
            Scenario::Partition => "partition",
            Scenario::Stop => "stop",
            Scenario::Switchover => "switchover",
            Scenario::SwitchoverCoordinated => "switchover-coordinated",
            Scenario::Freeze => "freeze",
            Scenario::WardenKill => "warden-kill",
            Scenario::WardenRestart => "warden-restart",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Scenario::Kill => {
                "every process of the master's node SIGKILLed, restarted (empty) later"
            }
            Scenario::Partition => "the master's node cut off the bridge, plugged back later",
            Scenario::Stop => "the master's redis-server SIGSTOPped, SIGCONTed later",
            Scenario::Switchover => "planned switchover: SENTINEL FAILOVER",
            Scenario::SwitchoverCoordinated => {
                "planned switchover: SENTINEL FAILOVER <m> COORDINATED (Warden; redis-sentinel \
                 has no such mode and gets the plain SENTINEL FAILOVER)"
            }
            Scenario::Freeze => {
                "every process of the master's node SIGSTOPped (a frozen host), SIGCONTed later"
            }
            Scenario::WardenKill => {
                "the sentinel of the master's node (Warden, or redis-sentinel) SIGKILLed, its \
                 Redis untouched; started again later"
            }
            Scenario::WardenRestart => {
                "the sentinel of the master's node restarted (SIGTERM, then started again at \
                 once), its Redis untouched"
            }
        }
    }
}

struct Options {
    runs: usize,
    scenarios: Vec<Scenario>,
    systems: Vec<System>,
    down_after: Vec<u64>,
    /// Warden's `vip-lease`, if not its default.
    vip_lease_ms: Option<u64>,
    /// Distinguishes the output files (`results-<tag>.json`...).
    tag: Option<String>,
}

const USAGE: &str = "usage: cargo bench --bench failover -- [--quick] [--runs N] \
     [--scenario kill|partition|stop|switchover|switchover-coordinated|freeze|warden-kill|warden-restart[,...]] \
     [--systems warden,seed,script-vip,warden-routed | --vip-mode l2,routed] \
     [--down-after 5000,1000] [--warden-lease MS] [--tag TAG]";

/// Splits a comma-separated value and maps each item, naming the flag in errors.
fn list<T>(flag: &str, value: &str, item: impl Fn(&str) -> Option<T>) -> Result<Vec<T>, String> {
    args::list(flag, value, item).map_err(|e| format!("{e}\n{USAGE}"))
}

fn parse_options() -> Result<Options, String> {
    let mut options = Options {
        runs: 5,
        scenarios: Scenario::ALL.to_vec(),
        systems: System::ALL.to_vec(),
        down_after: vec![5000, 1000],
        vip_lease_ms: None,
        tag: None,
    };
    args::for_each_option(|arg, value| {
        let mut value = || value().map_err(|e| format!("{e}\n{USAGE}"));
        match arg {
            "--quick" => {
                options.runs = 1;
                options.scenarios = vec![Scenario::Kill];
                options.down_after = vec![1000];
            }
            "--runs" => {
                let v = value()?;
                options.runs = args::positive("--runs", &v)?;
            }
            "--scenario" | "--scenarios" => {
                let v = value()?;
                options.scenarios = list(arg, &v, |s| {
                    Scenario::ALL.into_iter().find(|c| c.name() == s)
                })?;
            }
            "--systems" => {
                let v = value()?;
                options.systems = list(arg, &v, System::parse)?;
            }
            "--vip-mode" => {
                // `routed` adds Warden with a routed VIP (on a routed bed, FRR announcing it);
                // `l2` the systems on one segment; both side by side in the same run.
                let v = value()?;
                let modes = list(arg, &v, |m| {
                    matches!(m, "l2" | "routed").then(|| m.to_string())
                })?;
                options.systems = modes
                    .iter()
                    .flat_map(|m| match m.as_str() {
                        "routed" => vec![System::WardenRouted],
                        _ => System::ALL.to_vec(),
                    })
                    .collect();
            }
            "--down-after" => {
                let v = value()?;
                options.down_after = list(arg, &v, |s| s.parse().ok().filter(|&ms| ms > 0))?;
            }
            "--warden-lease" => {
                let v = value()?;
                options.vip_lease_ms = Some(args::positive("--warden-lease", &v)?);
            }
            "--tag" => {
                let v = value()?;
                if v.is_empty() || !v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                    return Err(format!("--tag {v:?}: letters, digits and '-' only"));
                }
                options.tag = Some(v);
            }
            "-h" | "--help" => return Err(USAGE.to_string()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
        Ok(())
    })?;
    Ok(options)
}

/// Copies the Warden binary under test into `dir` and points `WARDEN_BIN` at the copy; returns
/// what identifies it (source path, modification time, the workspace's commit).
fn pin_warden(dir: &Path) -> io::Result<Json> {
    let source = warden()?;
    let copy = dir.join("warden");
    std::fs::copy(&source, &copy)?;
    // Single-threaded still: nothing reads the environment concurrently.
    std::env::set_var("WARDEN_BIN", &copy);
    let modified = std::fs::metadata(&source)?
        .modified()?
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_string());
    Ok(Json::obj([
        ("path", Json::str(source.display().to_string())),
        ("modified_unix", Json::from(modified)),
        ("workspace_commit", commit.map_or(Json::Null, Json::Str)),
    ]))
}

/// One finished run.
struct Run {
    system: System,
    scenario: Scenario,
    down_after_ms: u64,
    metrics: Metrics,
    acked: u64,
    lost_acked: Option<u64>,
    final_master: Option<String>,
    trace: Trace,
}

impl Run {
    fn json(&self) -> Json {
        let m = &self.metrics;
        let zero = self.trace.zero;
        let events = self
            .trace
            .events
            .iter()
            .filter(|e| e.at >= zero)
            .map(|e| {
                Json::obj([
                    ("ms", Json::from(ms(zero, e.at).round())),
                    ("node", Json::from(e.source as u64)),
                    ("event", Json::str(&e.channel)),
                    ("payload", Json::str(&e.payload)),
                ])
            })
            .collect();
        Json::obj([
            ("system", Json::str(self.system.name())),
            ("scenario", Json::str(self.scenario.name())),
            ("down_after_ms", Json::from(self.down_after_ms)),
            ("sdown_ms", Json::from(m.sdown_ms)),
            ("odown_ms", Json::from(m.odown_ms)),
            ("switch_ms", Json::from(m.switch_ms)),
            ("vip_ms", Json::from(m.vip_ms)),
            ("first_write_ms", Json::from(m.first_write_ms)),
            ("unavailable_ms", Json::from(m.unavailable_ms)),
            (
                "outages",
                Json::Arr(
                    m.outages
                        .iter()
                        .map(|o| {
                            Json::obj([
                                ("from_ms", Json::from(o.from_ms)),
                                ("to_ms", Json::from(o.to_ms)),
                                ("first", Json::str(o.first.name())),
                            ])
                        })
                        .collect(),
                ),
            ),
            ("readonly", Json::from(m.readonly)),
            ("timeouts", Json::from(m.timeouts)),
            ("errors", Json::from(m.errors)),
            ("acked", Json::from(self.acked)),
            ("lost_acked", Json::from(self.lost_acked)),
            ("dual_vip_ms", Json::from(m.dual_vip_ms)),
            ("ok_at_end", Json::Bool(m.ok_at_end)),
            (
                "final_master",
                self.final_master.clone().map_or(Json::Null, Json::Str),
            ),
            ("events", Json::Arr(events)),
        ])
    }
}

/// `ip:port` strings of every node's service on `port`.
fn addrs(bed: &NetBed, port: u16) -> Vec<String> {
    (0..NODES)
        .map(|i| format!("{}:{port}", bed.addr(i)))
        .collect()
}

/// One request on a fresh connection with [`REQUEST_TIMEOUT`] (from the calling thread's
/// namespace).
fn request(addr: &str, args: &[&str]) -> io::Result<Value> {
    Conn::connect(addr, Some(REQUEST_TIMEOUT))?.call(args)
}

/// Waits until the replicas are in sync, every sentinel knows the group and the VIP is on
/// node 0 alone and takes writes.
fn wait_ready(bed: &NetBed) -> io::Result<()> {
    let redis = addrs(bed, REDIS_PORT);
    let sentinels = addrs(bed, SENTINEL_PORT);
    let vip = format!("{}:{REDIS_PORT}", bed.vip());
    in_client(bed.bed(), move || {
        wait_until(SETUP_TIMEOUT, "the replicas to sync", || {
            for r in &redis[1..] {
                let info = request(r, &["INFO", "replication"]).map_err(|e| e.to_string())?;
                let text = info.as_text().unwrap_or_default();
                if !text.contains("master_link_status:up") {
                    return Err(format!("{r} not in sync"));
                }
            }
            Ok(())
        })?;
        wait_until(SETUP_TIMEOUT, "the sentinels to discover the group", || {
            let mut views = Vec::new();
            for s in &sentinels {
                let reply =
                    request(s, &["SENTINEL", "MASTER", MASTER_NAME]).map_err(|e| e.to_string())?;
                let field = |k| reply.field_text(k).unwrap_or_default();
                views.push(format!(
                    "{}/{}",
                    field("num-slaves"),
                    field("num-other-sentinels")
                ));
            }
            if views.iter().all(|v| v == "2/2") {
                Ok(())
            } else {
                Err(format!("replicas/other sentinels: {}", views.join(" ")))
            }
        })?;
        wait_until(SETUP_TIMEOUT, "a write through the VIP", || {
            request(&vip, &["SET", "fb-ready", "1"])
                .map(drop)
                .map_err(|e| e.to_string())
        })
    })??;
    let vip = bed.vip();
    wait_until(SETUP_TIMEOUT, "the VIP on node 0 only", || {
        let held: Vec<bool> = (0..NODES)
            .map(|i| {
                bed.bed()
                    .ip(i, &["-4", "addr", "show"])
                    .map(|text| text.contains(&format!("inet {vip}/")))
            })
            .collect::<io::Result<_>>()
            .map_err(|e| e.to_string())?;
        if held == [true, false, false] {
            Ok(())
        } else {
            Err(format!("held by nodes {held:?}"))
        }
    })
}

/// The master most sentinels name at the end, and how many acknowledged keys it lacks.
fn final_check(bed: &NetBed, acked: Vec<u64>) -> io::Result<(Option<String>, Option<u64>)> {
    let sentinels = addrs(bed, SENTINEL_PORT);
    in_client(bed.bed(), move || {
        let mut named: Vec<String> = sentinels
            .iter()
            .filter_map(|s| {
                let reply =
                    request(s, &["SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER_NAME]).ok()?;
                match reply.as_items()? {
                    [ip, port] => Some(format!("{}:{}", ip.as_text()?, port.as_text()?)),
                    _ => None,
                }
            })
            .collect();
        named.sort();
        let master = named
            .iter()
            .max_by_key(|m| named.iter().filter(|n| n == m).count())
            .cloned();
        let Some(master) = master else {
            return (None, None);
        };
        let lost = (|| -> io::Result<u64> {
            let mut conn = Conn::connect(&master, Some(Duration::from_secs(2)))?;
            let mut lost = 0;
            for chunk in acked.chunks(1000) {
                let mut args = vec!["MGET".to_string()];
                args.extend(chunk.iter().map(|seq| format!("{KEY_PREFIX}{seq}")));
                let reply = conn.call(&args)?;
                let items = reply
                    .as_items()
                    .ok_or_else(|| io::Error::other("MGET: not an array"))?;
                lost += items
                    .iter()
                    .filter(|v| matches!(v, Value::NullBulk | Value::Null))
                    .count() as u64;
            }
            Ok(lost)
        })();
        (Some(master), lost.ok())
    })
}

/// One run of `scenario` with `system`.
fn run_once(
    system: System,
    scenario: Scenario,
    down_after_ms: u64,
    vip_lease_ms: Option<u64>,
) -> io::Result<Run> {
    let mut bed = if system.routed() {
        NetBed::routed()?
    } else {
        NetBed::new()?
    };
    let master = bed.addr(0);
    for i in 0..NODES {
        bed.start_redis(i, (i > 0).then_some(master))?;
    }
    system.start_all(&mut bed, down_after_ms, vip_lease_ms)?;
    if let Err(e) = wait_ready(&bed) {
        let logs: Vec<String> = (0..NODES).map(|i| bed.logs(i, 15)).collect();
        return Err(io::Error::new(
            e.kind(),
            format!("{e}\n{}", logs.join("\n")),
        ));
    }
    let sentinels = addrs(&bed, SENTINEL_PORT);
    let mut log = in_client(bed.bed(), move || EventLog::subscribe_to(&sentinels))??;
    let watch = VipWatch::start(bed.bed(), 0..NODES, bed.vip());
    // The network's view of who has the VIP: ARP answers on a segment, the routers' RIBs when
    // it is routed.
    let arp = (!system.routed()).then(|| ArpView::start(bed.bed(), bed.vip()));
    let routes = bed
        .fabric()
        .map(|fabric| RouteView::start(bed.bed(), fabric.probe()));
    let nodes: Vec<_> = (0..NODES).map(|i| bed.addr(i)).collect();
    let roles = RolePoller::start(bed.bed(), &nodes);
    let writer = VipWriter::start(bed.bed(), bed.vip());
    let started = Instant::now();
    let mut live: Vec<Vec<(Instant, bool)>> = vec![vec![(started, true)]; NODES];
    wait_until(Duration::from_secs(5), "the client's first write", || {
        (writer.acknowledged() > 0)
            .then_some(())
            .ok_or("none yet".to_string())
    })?;
    observe_for(BEFORE)?;

    let zero = Instant::now();
    match scenario {
        Scenario::Kill => bed.kill_node(0)?,
        Scenario::Partition => bed.unplug(0)?,
        Scenario::Stop => bed.signal(0, "redis-server", libc::SIGSTOP)?,
        Scenario::Freeze => bed.signal_node(0, libc::SIGSTOP),
        Scenario::WardenKill => bed.kill(0, "sentinel")?,
        Scenario::WardenRestart => {
            bed.terminate(0, "sentinel", Duration::from_secs(10))?;
            system.start_sentinel(&mut bed, 0)?;
        }
        Scenario::Switchover | Scenario::SwitchoverCoordinated => {
            let sentinel = format!("{}:{SENTINEL_PORT}", bed.addr(1));
            let mut args = vec!["SENTINEL", "FAILOVER", MASTER_NAME];
            if scenario == Scenario::SwitchoverCoordinated
                && matches!(system, System::Warden | System::WardenRouted)
            {
                args.push("COORDINATED");
            }
            in_client(bed.bed(), move || request(&sentinel, &args))??;
        }
    }
    if matches!(scenario, Scenario::Kill | Scenario::Partition) {
        live[0].push((zero, false));
    }
    observe_for(Duration::from_millis(down_after_ms) + FAULT_WINDOW)?;
    let restored = match scenario {
        Scenario::Kill => {
            bed.restart_routing(0)?;
            bed.start_redis(0, None)?;
            system.start(&mut bed, 0)?;
            Some(Instant::now())
        }
        Scenario::Partition => {
            bed.plug(0)?;
            Some(Instant::now())
        }
        Scenario::Stop => {
            bed.signal(0, "redis-server", libc::SIGCONT)?;
            Some(Instant::now())
        }
        Scenario::Freeze => {
            bed.signal_node(0, libc::SIGCONT);
            Some(Instant::now())
        }
        Scenario::WardenKill => {
            system.start_sentinel(&mut bed, 0)?;
            Some(Instant::now())
        }
        Scenario::Switchover | Scenario::SwitchoverCoordinated | Scenario::WardenRestart => None,
    };
    if let Some(at) = restored {
        live[0].push((at, true));
    }
    observe_for(RETURN_WINDOW)?;

    let attempts = writer.finish()?;
    let end = Instant::now();
    let roles = roles.finish()?;
    let vip = watch.finish()?;
    let arp = arp.map(ArpView::finish).transpose()?.unwrap_or_default();
    let routes = routes
        .map(RouteView::finish)
        .transpose()?
        .unwrap_or_default();
    log.collect();
    let events: Vec<Event> = log.events().to_vec();
    drop(log);
    let acked_seqs: Vec<u64> = attempts
        .iter()
        .filter(|a| a.outcome == warden_benches::vipprobe::Outcome::Ok)
        .map(|a| a.seq)
        .collect();
    let acked = acked_seqs.len() as u64;
    let (final_master, lost_acked) = final_check(&bed, acked_seqs)?;
    let trace = Trace {
        zero,
        end,
        restored,
        events,
        attempts,
        roles,
        vip,
        live,
        arp,
        routes,
    };
    Ok(Run {
        system,
        scenario,
        down_after_ms,
        metrics: trace.metrics(),
        acked,
        lost_acked,
        final_master,
        trace,
    })
}

fn cell(v: Option<f64>) -> String {
    v.map_or_else(|| "–".to_string(), |v| format!("{v:.0}"))
}

type Metric = fn(&Run) -> Option<f64>;

/// The table's columns: title, JSON key of the summary, value.
const COLUMNS: [(&str, &str, Metric); 13] = [
    ("+sdown", "sdown_ms", |r| r.metrics.sdown_ms),
    ("+odown", "odown_ms", |r| r.metrics.odown_ms),
    ("+switch-master", "switch_ms", |r| r.metrics.switch_ms),
    ("VIP moved", "vip_ms", |r| r.metrics.vip_ms),
    ("old master demoted", "demoted_ms", |r| r.metrics.demoted_ms),
    ("first write", "first_write_ms", |r| {
        r.metrics.first_write_ms
    }),
    ("unavailable", "unavailable_ms", |r| {
        Some(r.metrics.unavailable_ms)
    }),
    ("READONLY", "readonly", |r| Some(r.metrics.readonly as f64)),
    ("lost acked", "lost_acked", |r| {
        r.lost_acked.map(|n| n as f64)
    }),
    ("two VIP holders", "dual_vip_ms", |r| {
        Some(r.metrics.dual_vip_ms)
    }),
    ("two holders (ARP)", "dual_arp_ms", |r| {
        (!r.system.routed()).then_some(r.metrics.dual_arp_ms)
    }),
    ("route moved", "route_ms", |r| r.metrics.route_ms),
    ("two announcers (RIB)", "dual_route_ms", |r| {
        r.system.routed().then_some(r.metrics.dual_route_ms)
    }),
];

fn summary(runs: &[&Run], metric: Metric) -> Option<Summary> {
    Summary::of(runs.iter().filter_map(|r| metric(r)))
}

/// The Markdown tables (one per scenario and down-after) and the JSON summaries.
fn report(options: &Options, runs: &[Run]) -> (String, Vec<Json>) {
    let mut md = format!(
        "Times in ms from the fault, median [min–max] over the runs; \"first write\" = first \
         acknowledged write through the VIP after writes started failing (0: they never \
         failed, – : never within the run); \"unavailable\" = total time writes failed during \
         the whole run (fault window + after the node came back); \"lost acked\" = acknowledged \
         writes missing on the final master; \"two VIP holders\" = ms with two live nodes \
         holding the VIP (their kernels' addresses, sampled every 5 ms); \"two holders (ARP)\" = \
         ms during which the client's ARP requests for the VIP (one every 50 ms) were answered \
         by two hardware addresses; \"route moved\" (warden-routed) = first moment both routers \
         carried exactly one announcement of the VIP, from another node than node 0; \"two \
         announcers (RIB)\" = ms during which the routers' RIBs (read every 10 ms) carried \
         announcements from two nodes; \"old master demoted\" = first `ROLE` of node 0 as a replica (sampled \
         every 50 ms; in a coordinated switchover its write pause ends then); \"ok at end\" = \
         runs whose last write succeeded. Warden's vip-lease: {}.\n",
        options
            .vip_lease_ms
            .map_or("default (1 x down-after)".to_string(), |ms| format!(
                "{ms} ms"
            )),
    );
    let mut summaries = Vec::new();
    for &scenario in &options.scenarios {
        for &down_after in &options.down_after {
            let of = |system: System| -> Vec<&Run> {
                runs.iter()
                    .filter(|r| {
                        r.system == system
                            && r.scenario == scenario
                            && r.down_after_ms == down_after
                    })
                    .collect()
            };
            md.push_str(&format!(
                "\n**{}** ({}), down-after {down_after} ms\n\n| system | runs |",
                scenario.name(),
                scenario.describe()
            ));
            for (title, _, _) in COLUMNS {
                md.push_str(&format!(" {title} |"));
            }
            md.push_str(" ok at end |\n|---|---:|");
            md.push_str(&"---:|".repeat(COLUMNS.len() + 1));
            md.push('\n');
            for &system in &options.systems {
                let these = of(system);
                md.push_str(&format!("| {system} | {} |", these.len()));
                let mut fields = vec![
                    ("system", Json::str(system.name())),
                    ("scenario", Json::str(scenario.name())),
                    ("down_after_ms", Json::from(down_after)),
                    ("runs", Json::from(these.len() as u64)),
                ];
                for (_, key, metric) in COLUMNS {
                    let s = summary(&these, metric);
                    md.push_str(&format!(" {} |", s.map_or("–".into(), |s| s.cell())));
                    fields.push((key, s.map_or(Json::Null, |s| s.json())));
                }
                let ok_at_end = these.iter().filter(|r| r.metrics.ok_at_end).count();
                md.push_str(&format!(" {ok_at_end}/{} |\n", these.len()));
                fields.push(("ok_at_end", Json::from(ok_at_end as u64)));
                summaries.push(Json::obj(fields));
            }
            let median = |system, metric| summary(&of(system), metric).map(|s| s.median);
            let ratio = |other: System, metric: Metric| match (
                median(System::Warden, metric),
                median(other, metric),
            ) {
                (Some(w), Some(o)) if o > 0.0 => format!("{:.2}", w / o),
                _ => "–".into(),
            };
            for other in [System::ScriptVip, System::Seed] {
                if options.systems.contains(&System::Warden) && options.systems.contains(&other) {
                    md.push_str(&format!(
                        "\nWarden / {other} (ratio of medians): unavailable {}, first write {}, VIP moved {}\n",
                        ratio(other, |r| Some(r.metrics.unavailable_ms)),
                        ratio(other, |r| r.metrics.first_write_ms),
                        ratio(other, |r| r.metrics.vip_ms),
                    ));
                }
            }
        }
    }
    (md, summaries)
}

/// What distinguishes the output files: `-<tag>`, else `-lease<ms>` with a non-default
/// Warden lease, else nothing.
fn suffix(options: &Options) -> String {
    match (&options.tag, options.vip_lease_ms) {
        (Some(tag), _) => format!("-{tag}"),
        (None, Some(ms)) => format!("-lease{ms}"),
        (None, None) => String::new(),
    }
}

/// Writes the result files; returns the directory.
fn write_results(options: &Options, runs: &[Run], tested: &Json) -> io::Result<std::path::PathBuf> {
    let target = target_dir();
    let dir = target
        .canonicalize()
        .unwrap_or(target)
        .join("failover-bench");
    std::fs::create_dir_all(&dir)?;
    let (md, summaries) = report(options, runs);
    let json = Json::obj([
        ("bench", Json::str("failover-vip-netns")),
        ("machine", describe()),
        ("warden", tested.clone()),
        (
            "config",
            Json::obj([
                (
                    "write_period_ms",
                    Json::from(WRITE_PERIOD.as_millis() as u64),
                ),
                (
                    "write_timeout_ms",
                    Json::from(WRITE_TIMEOUT.as_millis() as u64),
                ),
                ("warden_vip_lease_ms", Json::from(options.vip_lease_ms)),
                (
                    "failover_timeout_ms",
                    Json::from(warden_benches::vipsystems::FAILOVER_TIMEOUT_MS),
                ),
                (
                    "fault_window_ms",
                    Json::from(FAULT_WINDOW.as_millis() as u64),
                ),
                (
                    "return_window_ms",
                    Json::from(RETURN_WINDOW.as_millis() as u64),
                ),
            ]),
        ),
        ("runs", Json::Arr(runs.iter().map(Run::json).collect())),
        ("summary", Json::Arr(summaries)),
    ]);
    let suffix = suffix(options);
    std::fs::write(
        dir.join(format!("results{suffix}.json")),
        format!("{json}\n"),
    )?;
    std::fs::write(dir.join(format!("results{suffix}.md")), &md)?;
    for &scenario in &options.scenarios {
        write_timeline(&dir, options, scenario, runs)?;
    }
    Ok(dir)
}

/// `timeline-<scenario>.svg`: the first run of each system and down-after.
fn write_timeline(
    dir: &Path,
    options: &Options,
    scenario: Scenario,
    runs: &[Run],
) -> io::Result<()> {
    let mut panels = Vec::new();
    let mut to: f64 = 1000.0;
    for &down_after in &options.down_after {
        for &system in &options.systems {
            let Some(run) = runs.iter().find(|r| {
                r.system == system && r.scenario == scenario && r.down_after_ms == down_after
            }) else {
                continue;
            };
            to = to.max(ms(run.trace.zero, run.trace.end));
            let m = &run.metrics;
            let title = format!(
                "{system}, down-after {down_after}: unavailable {} ms, first write {} ms, {} READONLY, {} lost acked, {} ms two VIP holders",
                cell(Some(m.unavailable_ms)),
                cell(m.first_write_ms),
                m.readonly,
                run.lost_acked.map_or("?".into(), |n| n.to_string()),
                cell(Some(m.dual_vip_ms)),
            );
            panels.push(run.trace.panel(title, m));
        }
    }
    if panels.is_empty() {
        return Ok(());
    }
    let svg = render(
        &format!(
            "Failover through the VIP: {} ({})",
            scenario.name(),
            scenario.describe()
        ),
        &panels,
        -(BEFORE.as_millis() as f64),
        to,
    );
    std::fs::write(
        dir.join(format!(
            "timeline-{}{}.svg",
            scenario.name(),
            suffix(options)
        )),
        svg,
    )
}

fn main() -> ExitCode {
    let options = match parse_options() {
        Ok(options) => options,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    if let Some(why) = netns::unavailable() {
        eprintln!("failover: {why} (run as root)");
        return ExitCode::FAILURE;
    }
    // The binary is copied once, so a rebuild during a long run does not mix versions.
    let snapshot = match TempDir::new("failover-vip-bin") {
        Ok(dir) => dir,
        Err(e) => {
            eprintln!("cannot create a scratch directory: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut tested = Json::Null;
    if options.systems.contains(&System::Warden) {
        match pin_warden(snapshot.path()) {
            Ok(info) => tested = info,
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::FAILURE;
            }
        }
    }
    catch_interrupts();
    let bench_start = Instant::now();
    let mut runs = Vec::new();
    let mut failures = 0;
    'all: for &scenario in &options.scenarios {
        for &down_after in &options.down_after {
            for n in 1..=options.runs {
                // Rotate which system goes first, so slow drift favours none.
                let mut order = options.systems.clone();
                let first = n % order.len().max(1);
                order.rotate_left(first);
                for &system in &order {
                    if interrupted() {
                        break 'all;
                    }
                    let started = Instant::now();
                    let label = format!(
                        "{system:>10} {:>10} down-after {down_after:>4} run {n}/{}",
                        scenario.name(),
                        options.runs
                    );
                    match run_once(system, scenario, down_after, options.vip_lease_ms) {
                        Ok(run) => {
                            let m = &run.metrics;
                            eprintln!(
                                "{label}: odown {} switch {} vip {} first write {} unavailable {} \
                                 readonly {} lost {} dual {} dual-arp {} ({:.1} s)",
                                cell(m.odown_ms),
                                cell(m.switch_ms),
                                cell(m.vip_ms),
                                cell(m.first_write_ms),
                                cell(Some(m.unavailable_ms)),
                                m.readonly,
                                run.lost_acked.map_or("?".into(), |n| n.to_string()),
                                cell(Some(m.dual_vip_ms)),
                                cell(Some(m.dual_arp_ms)),
                                started.elapsed().as_secs_f64()
                            );
                            runs.push(run);
                            if let Err(e) = write_results(&options, &runs, &tested) {
                                eprintln!("cannot write results: {e}");
                            }
                        }
                        Err(e) => {
                            failures += 1;
                            eprintln!("{label}: failed: {e}");
                        }
                    }
                }
            }
        }
    }
    let (md, _) = report(&options, &runs);
    println!("\n{md}");
    let suffix = suffix(&options);
    match write_results(&options, &runs, &tested) {
        Ok(dir) => println!(
            "Results: {}/results{suffix}.json, results{suffix}.md, timeline-*{suffix}.svg ({} runs, \
             {failures} failed, {:.0} s)",
            dir.display(),
            runs.len(),
            bench_start.elapsed().as_secs_f64()
        ),
        Err(e) => {
            eprintln!("cannot write results: {e}");
            return ExitCode::FAILURE;
        }
    }
    if interrupted() {
        eprintln!("interrupted: cleaned up, partial results written");
        return ExitCode::from(130);
    }
    ExitCode::SUCCESS
}
