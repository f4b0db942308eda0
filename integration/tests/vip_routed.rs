//! End to end, routed VIP (issue 16): two racks, each a subnet behind a router namespace
//! running FRR — nodes 0 and 1 behind router 0, node 2 and the client behind router 1 — eBGP
//! with BFD between each node and its rack's router and between the routers; each node runs
//! redis-server, Warden (`sentinel vip mymaster <VIP> lo routed`) and FRR, which announces the
//! VIP's /32 from the node that holds it. The client writes through the VIP across the routers.
//!
//! Needs root, `ip netns` and FRR (`apt-get install frr`); skipped with a message otherwise.
//! The tests run one at a time. Measured numbers are printed with the prefix `measured:`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use warden_integration::events::{self, EventLog};
use warden_integration::frr::{self, RibProbe};
use warden_integration::netns;
use warden_integration::vipbed::{VipBed, DOWN_AFTER_MS, SENTINEL_PORT};
use warden_integration::wait::wait_until;
use warden_integration::writer::{Outcome, Writer};

/// How long a failover may take, with room for a split vote.
const FAILOVER_TIMEOUT: Duration = Duration::from_secs(45);
/// How long a route change may take to reach both routers.
const ROUTE_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the sampler reads both routers' RIBs.
const SAMPLE_PERIOD: Duration = Duration::from_millis(5);
/// Writer pacing and per-request timeout.
const WRITE_PERIOD: Duration = Duration::from_millis(10);
const WRITE_TIMEOUT: Duration = Duration::from_millis(200);
/// The kernel removes an address whose lifetime ran out within a second of its end, and a
/// lease shorter than a second still gets a one-second lifetime.
const KERNEL_ROUNDING: Duration = Duration::from_millis(2000);
/// FRR's time from the kernel dropping an address to both routers withdrawing its route
/// (measured 120–180 ms), with room for a loaded machine.
const DAEMON_REACTION: Duration = Duration::from_millis(1000);

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> Option<MutexGuard<'static, ()>> {
    if let Some(why) = netns::unavailable().or_else(frr::unavailable) {
        eprintln!("skipping: {why}");
        return None;
    }
    Some(SERIAL.lock().unwrap_or_else(|p| p.into_inner()))
}

fn start() -> VipBed {
    VipBed::start_routed(&[]).unwrap_or_else(|e| panic!("cannot start the routed bed: {e}"))
}

fn fail(bed: &VipBed, what: impl std::fmt::Display) -> ! {
    let frr = bed
        .fabric_ref()
        .map(|f| f.diagnostics())
        .unwrap_or_default();
    panic!("{what}\n{}\n{frr}", bed.diagnostics())
}

fn ms(d: Duration) -> u128 {
    d.as_millis()
}

/// What both routers' RIBs said at one moment: the announcing nodes at each router.
#[derive(Debug, Clone)]
struct Sample {
    at: Instant,
    announcers: Vec<Vec<usize>>,
}

/// Reads both routers' RIBs every [`SAMPLE_PERIOD`] on a thread of its own.
struct RibSampler {
    stop: Arc<AtomicBool>,
    samples: Arc<Mutex<Vec<Sample>>>,
    thread: JoinHandle<()>,
}

impl RibSampler {
    fn start(probe: RibProbe) -> RibSampler {
        let stop = Arc::new(AtomicBool::new(false));
        let samples = Arc::new(Mutex::new(Vec::new()));
        let (stop2, samples2) = (stop.clone(), samples.clone());
        let mut reader = probe.reader().expect("the routers' vty sockets");
        let thread = std::thread::spawn(move || {
            // Bounded: at most 10 minutes of sampling.
            let end = Instant::now() + Duration::from_secs(600);
            while !stop2.load(Ordering::Relaxed) && Instant::now() < end {
                let at = Instant::now();
                let announcers = reader.read().expect("a RIB read");
                samples2.lock().unwrap().push(Sample { at, announcers });
                std::thread::sleep(SAMPLE_PERIOD);
            }
        });
        RibSampler {
            stop,
            samples,
            thread,
        }
    }

    fn stop(self) -> Vec<Sample> {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.thread.join();
        let samples = self.samples.lock().unwrap().clone();
        samples
    }
}

/// The samples in which any router carried more than one announcer.
fn doubles(samples: &[Sample]) -> Vec<&Sample> {
    samples
        .iter()
        .filter(|s| s.announcers.iter().any(|a| a.len() > 1))
        .collect()
}

/// The first sample at or after `since` in which `check` holds for every router's
/// announcers.
fn first_where(
    samples: &[Sample],
    since: Instant,
    check: impl Fn(&[usize]) -> bool,
) -> Option<Instant> {
    samples
        .iter()
        .find(|s| s.at >= since && s.announcers.iter().all(|a| check(a)))
        .map(|s| s.at)
}

/// Waits up to `timeout` (for `what`) until every router's announcers pass `check`; returns
/// when they did.
fn wait_routes(
    bed: &VipBed,
    probe: &RibProbe,
    timeout: Duration,
    what: &str,
    check: impl Fn(&[usize]) -> bool,
) -> Instant {
    wait_until(timeout, what, || {
        let seen: Vec<Vec<usize>> = (0..probe.routers())
            .map(|r| probe.announcers(r).unwrap_or_default())
            .collect();
        if seen.iter().all(|a| check(a)) {
            Ok(Instant::now())
        } else {
            Err(format!("{seen:?}"))
        }
    })
    .unwrap_or_else(|t| fail(bed, t))
}

/// Waits until both routers carry exactly `nodes` as announcers of the VIP.
fn wait_announced_by(bed: &VipBed, probe: &RibProbe, nodes: &[usize]) {
    let what = format!("both routers to carry the VIP from nodes {nodes:?} only");
    wait_routes(bed, probe, ROUTE_TIMEOUT, &what, |a| a == nodes);
}

fn start_writer(bed: &VipBed) -> Writer {
    let writer = bed.vip_writer(WRITE_PERIOD, WRITE_TIMEOUT);
    wait_acked(bed, &writer, 10, "the writer's first acknowledged writes");
    writer
}

fn wait_acked(bed: &VipBed, writer: &Writer, at_least: u64, what: &str) {
    writer
        .wait_acked(at_least, FAILOVER_TIMEOUT, what)
        .unwrap_or_else(|t| fail(bed, t));
}

fn wait_new_holder(bed: &VipBed, survivors: &[usize], old: usize) -> usize {
    bed.wait_new_holder(survivors, old, FAILOVER_TIMEOUT)
        .unwrap_or_else(|e| fail(bed, e))
}

#[test]
fn the_routed_vip_follows_the_master_and_is_never_announced_twice() {
    let Some(_serial) = serial() else { return };
    let mut bed = start();
    let probe = bed.fabric().expect("routed").probe();
    wait_announced_by(&bed, &probe, &[0]);
    let shown = bed.vip_status(0).unwrap();
    assert_eq!(
        shown.field_text("mode").as_deref(),
        Some("routed"),
        "{shown}"
    );

    let events = EventLog::subscribe_in(bed.bed(), &[1, 2], SENTINEL_PORT).unwrap();
    let writer = start_writer(&bed);
    let sampler = RibSampler::start(probe.clone());
    std::thread::sleep(Duration::from_millis(300));

    // The master's node dies: every process on it, and its link.
    let t0 = Instant::now();
    bed.kill(0);
    bed.fabric().expect("routed").kill_node(0);
    bed.bed().link_down(0).unwrap();
    let promoted = wait_new_holder(&bed, &[1, 2], 0);
    wait_announced_by(&bed, &probe, &[promoted]);
    let resumed = writer.acked();
    wait_acked(
        &bed,
        &writer,
        resumed + 20,
        "writes through the VIP to succeed again",
    );
    let log = writer.stop().unwrap();
    let samples = sampler.stop();
    let events = events.stop();

    println!("events after the kill:\n{}", events::timeline(&events, t0));
    let withdrawn = first_where(&samples, t0, |a| !a.contains(&0)).map(|t| t - t0);
    let announced = first_where(&samples, t0, |a| a == [promoted]).map(|t| t - t0);
    let claimed = events::first(
        events::since(&events, t0),
        Some(promoted),
        "+vip-claimed",
        "",
    )
    .map(|e| e.at - t0);
    let first_ok = log
        .first_failure_after(t0)
        .and_then(|f| log.first_ok_after(f))
        .map(|t| t - t0);
    println!(
        "measured: routed, node kill -> node {promoted}: node 0's route gone from both routers at \
         {:?} ms, +vip-claimed at {:?} ms, announced by node {promoted} at both routers at {:?} ms, \
         first write ok at {:?} ms (down-after {DOWN_AFTER_MS}); {} RIB samples, writes {}",
        withdrawn.map(ms),
        claimed.map(ms),
        announced.map(ms),
        first_ok.map(ms),
        samples.len(),
        log.summary()
    );
    assert!(
        doubles(&samples).is_empty(),
        "two announcers at once: {:?}",
        doubles(&samples).first()
    );
    assert_eq!(
        log.count(|o| *o == Outcome::ReadOnly),
        0,
        "{}",
        log.summary()
    );
    assert!(first_ok.is_some(), "no write succeeded: {}", log.summary());
    assert!(claimed.is_some(), "{}", events::timeline(&events, t0));
    // The old node comes back (processes restarted later are not needed for this): its link
    // alone must not bring its route back.
    bed.bed().link_up(0).unwrap();
    std::thread::sleep(Duration::from_secs(3));
    for r in 0..probe.routers() {
        assert_eq!(probe.announcers(r).unwrap(), vec![promoted], "router {r}");
    }
}

/// Waits until no router carries node `i`'s announcement; returns when that was seen.
fn wait_withdrawn(bed: &VipBed, probe: &RibProbe, i: usize, timeout: Duration) -> Instant {
    let what = format!("node {i}'s route to be withdrawn");
    wait_routes(bed, probe, timeout, &what, |a| !a.contains(&i))
}

/// The longest a holder's route may outlive its contact with the majority: its lease, the
/// kernel's rounding of the address's lifetime, and FRR's reaction.
fn withdrawal_bound() -> Duration {
    Duration::from_millis(DOWN_AFTER_MS) + KERNEL_ROUNDING + DAEMON_REACTION
}

/// Node `i` loses the other nodes (blackhole routes to their addresses) but keeps its BGP
/// session to its rack's router: only the lease can take its route away.
fn isolate(bed: &VipBed, i: usize, add: bool) {
    for j in (0..3).filter(|&j| j != i) {
        let dst = format!("{}/32", bed.addr(j));
        let verb = if add { "add" } else { "del" };
        bed.bed()
            .ip(i, &["route", verb, "blackhole", &dst])
            .unwrap_or_else(|e| fail(bed, e));
    }
}

#[test]
fn a_partitioned_holders_route_is_withdrawn_within_the_lease_and_never_comes_back() {
    let Some(_serial) = serial() else { return };
    let mut bed = start();
    let probe = bed.fabric().expect("routed").probe();
    wait_announced_by(&bed, &probe, &[0]);
    let writer = start_writer(&bed);
    let sampler = RibSampler::start(probe.clone());

    let t0 = Instant::now();
    isolate(&bed, 0, true);
    let gone = wait_withdrawn(&bed, &probe, 0, withdrawal_bound() + ROUTE_TIMEOUT) - t0;
    let promoted = wait_new_holder(&bed, &[1, 2], 0);
    wait_announced_by(&bed, &probe, &[promoted]);
    let resumed = writer.acked();
    wait_acked(
        &bed,
        &writer,
        resumed + 20,
        "writes through the VIP on the new master",
    );

    // The partition heals: node 0 learns the new epoch and must never announce again.
    let healed = Instant::now();
    isolate(&bed, 0, false);
    wait_until(
        FAILOVER_TIMEOUT,
        "node 0's Warden to follow the new master",
        || match bed.master_seen_by(0) {
            Ok(Some(m)) if m == promoted => Ok(()),
            other => Err(format!("{other:?}")),
        },
    )
    .unwrap_or_else(|t| fail(&bed, t));
    std::thread::sleep(Duration::from_secs(2));
    let log = writer.stop().unwrap();
    let samples = sampler.stop();
    println!(
        "measured: routed, partition of the holder: its route gone from both routers {} ms after \
         the cut (bound {} ms), node {promoted} announcing at {:?} ms; writes {}",
        ms(gone),
        ms(withdrawal_bound()),
        first_where(&samples, t0, |a| a == [promoted]).map(|t| ms(t - t0)),
        log.summary()
    );
    assert!(gone <= withdrawal_bound(), "route outlived the lease");
    assert!(
        doubles(&samples).is_empty(),
        "two announcers at once: {:?}",
        doubles(&samples).first()
    );
    assert!(
        samples
            .iter()
            .filter(|s| s.at >= healed)
            .all(|s| s.announcers.iter().all(|a| !a.contains(&0))),
        "node 0 announced the VIP again after the partition healed"
    );
    assert_eq!(
        log.count(|o| *o == Outcome::ReadOnly),
        0,
        "{}",
        log.summary()
    );
}

#[test]
fn a_killed_or_frozen_wardens_route_is_withdrawn_within_the_lease() {
    let Some(_serial) = serial() else { return };
    let mut bed = start();
    let probe = bed.fabric().expect("routed").probe();
    wait_announced_by(&bed, &probe, &[0]);
    let sampler = RibSampler::start(probe.clone());

    // SIGKILL: nothing is left to renew the address; its kernel lifetime ends the route.
    let t0 = Instant::now();
    bed.kill_warden(0);
    let killed = wait_withdrawn(&bed, &probe, 0, withdrawal_bound() + ROUTE_TIMEOUT) - t0;
    // The Redis master is fine: a restarted Warden announces it again.
    bed.start_warden(0).unwrap_or_else(|e| fail(&bed, e));
    wait_announced_by(&bed, &probe, &[0]);

    // SIGSTOP: the same, from a process that is still there.
    let t1 = Instant::now();
    bed.signal_warden(0, libc::SIGSTOP).unwrap();
    let frozen = wait_withdrawn(&bed, &probe, 0, withdrawal_bound() + ROUTE_TIMEOUT) - t1;
    bed.signal_warden(0, libc::SIGCONT).unwrap();
    wait_announced_by(&bed, &probe, &[0]);
    let samples = sampler.stop();
    println!(
        "measured: routed, the holder's Warden SIGKILLed: route gone from both routers after {} ms; \
         SIGSTOPped: {} ms (bound: lease {DOWN_AFTER_MS} + kernel {} + FRR {} ms)",
        ms(killed),
        ms(frozen),
        ms(KERNEL_ROUNDING),
        ms(DAEMON_REACTION)
    );
    assert!(killed <= withdrawal_bound(), "after SIGKILL");
    assert!(frozen <= withdrawal_bound(), "after SIGSTOP");
    assert!(
        doubles(&samples).is_empty(),
        "two announcers at once: {:?}",
        doubles(&samples).first()
    );
}

/// `warden doctor` on a routed node: silent while FRR peers and exports the VIP; a failure
/// named when the outbound policy that FRR's `ebgp-requires-policy` wants is missing.
#[test]
fn the_doctor_checks_the_routing_daemon() {
    let Some(_serial) = serial() else { return };
    let mut bed = start();
    let probe = bed.fabric().expect("routed").probe();
    wait_announced_by(&bed, &probe, &[0]);
    let vty = bed.fabric().expect("routed").node_vty_dir(0).to_path_buf();
    let config = bed.config_path(0);
    let warden = warden_integration::binaries::warden().unwrap();
    let doctor = || {
        let out = bed
            .bed()
            .command(0, &warden.display().to_string())
            .arg("doctor")
            .arg("--frr-vty-dir")
            .arg(&vty)
            .arg(&config)
            .output()
            .unwrap();
        let lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect();
        (lines, out.status.success())
    };
    assert_eq!(doctor(), (Vec::new(), true), "a good routed node");

    let rack = bed.bed().network().octets();
    let router = format!("{}.{}.{}.1", rack[0], rack[1], rack[2]);
    let fabric = bed.fabric_ref().expect("routed");
    fabric
        .configure_node(0, &[&format!("no neighbor {router} route-map VIP-OUT out")])
        .unwrap_or_else(|e| panic!("{e}"));
    let (lines, ok) = doctor();
    assert!(!ok, "{lines:#?}");
    assert!(
        lines.iter().any(|l| l.starts_with("FAIL vip")
            && l.contains(&format!("eBGP neighbour {router} has no outbound policy"))),
        "{lines:#?}"
    );
    let fabric = bed.fabric_ref().expect("routed");
    fabric
        .configure_node(0, &[&format!("neighbor {router} route-map VIP-OUT out")])
        .unwrap();
    wait_announced_by(&bed, &probe, &[0]);
}
