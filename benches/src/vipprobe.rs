//! What the failover bench watches, each on its own thread inside a namespace of the bed:
//! a client writing through the VIP ([`VipWriter`]), every node's Redis role ([`RolePoller`])
//! and whether each node's interface holds the VIP ([`VipWatch`]). Each records timestamped
//! observations until it is finished.

use std::io;
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use warden_integration::frr::RibProbe;
use warden_integration::netns::TestBed;
use warden_integration::resp::Value;
use warden_integration::vipwatch::has_addr;

use crate::conn::Conn;
use crate::netbed::{CLIENT, REDIS_PORT};

/// Connect, read and write timeout of each write through the VIP.
pub const WRITE_TIMEOUT: Duration = Duration::from_millis(200);
/// Period of the writes.
pub const WRITE_PERIOD: Duration = Duration::from_millis(10);
/// Period (and timeout) of the role polls.
pub const ROLE_PERIOD: Duration = Duration::from_millis(50);
/// Period of the address polls.
pub const VIP_PERIOD: Duration = Duration::from_millis(5);
/// Prefix of the keys the writer sets.
pub const KEY_PREFIX: &str = "fb:";

/// How one write attempt ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// `INCR` and `SET` both acknowledged.
    Ok,
    /// A `-READONLY` error (the VIP led to a replica).
    ReadOnly,
    /// Any other error: refused or reset connection, another error reply.
    Error,
    /// No answer within [`WRITE_TIMEOUT`].
    Timeout,
}

impl Outcome {
    /// Lower-case name, as in the JSON.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::ReadOnly => "readonly",
            Outcome::Error => "error",
            Outcome::Timeout => "timeout",
        }
    }
}

/// One write attempt: `INCR` a counter, then `SET fb:<seq>` to the counter's value.
#[derive(Clone, Debug)]
pub struct Attempt {
    /// When it started.
    pub start: Instant,
    /// When it ended.
    pub end: Instant,
    /// How it ended.
    pub outcome: Outcome,
    /// Its sequence number (the key is `fb:<seq>`).
    pub seq: u64,
}

/// Runs `f` on a thread inside the client namespace and waits for its result.
pub fn in_client<T: Send + 'static>(
    bed: &TestBed,
    f: impl FnOnce() -> T + Send + 'static,
) -> io::Result<T> {
    bed.spawn_in(CLIENT, f)
        .join()
        .map_err(|_| io::Error::other("client-namespace thread panicked"))?
}

/// A thread that stops when asked and hands back what it recorded.
struct Recorder<T> {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<io::Result<T>>,
}

impl<T: Send + 'static> Recorder<T> {
    /// Runs `body(stop)` on a thread inside namespace `ns` of `bed`.
    fn start(
        bed: &TestBed,
        ns: usize,
        body: impl FnOnce(&AtomicBool) -> T + Send + 'static,
    ) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        Recorder {
            stop,
            thread: bed.spawn_in(ns, move || body(&flag)),
        }
    }

    fn finish(self) -> io::Result<T> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread
            .join()
            .map_err(|_| io::Error::other("recorder thread panicked"))?
    }
}

/// The client in the client namespace that starts a write through the VIP every
/// [`WRITE_PERIOD`], like an application serving steady traffic: an attempt that waits out its
/// timeouts does not hold back the next ones. Attempts use one kept connection when it is free;
/// while it is busy (waiting out a timeout) the next attempts open connections of their own,
/// and after a failure the connection is dropped, so a retry goes through the VIP to whoever
/// holds it now. Unavailability is therefore measured to within one period rather than one
/// timeout, and only the kept connection can be stale after the VIP moves.
pub struct VipWriter {
    ok: Arc<AtomicU64>,
    recorder: Recorder<Vec<Attempt>>,
}

/// Workers of the [`VipWriter`]: enough for an attempt to start every period while each of
/// them waits out a connect and two call timeouts.
const WRITERS: usize = 64;

impl VipWriter {
    /// Starts writing to `vip`:[`REDIS_PORT`].
    pub fn start(bed: &TestBed, vip: Ipv4Addr) -> VipWriter {
        let ok = Arc::new(AtomicU64::new(0));
        let counter = ok.clone();
        let addr = format!("{vip}:{REDIS_PORT}");
        let recorder = Recorder::start(bed, CLIENT, move |stop| {
            let (jobs, queue) = std::sync::mpsc::channel::<u64>();
            let queue = std::sync::Mutex::new(queue);
            let attempts = std::sync::Mutex::new(Vec::new());
            let kept: std::sync::Mutex<Option<Conn>> = std::sync::Mutex::new(None);
            // Threads spawned here inherit the client namespace of this thread.
            thread::scope(|scope| {
                for _ in 0..WRITERS {
                    scope.spawn(|| loop {
                        let next = queue.lock().map(|q| q.recv());
                        let Ok(Ok(seq)) = next else { break };
                        let start = Instant::now();
                        let mut conn = kept.lock().ok().and_then(|mut k| k.take());
                        let outcome = write_once(&mut conn, &addr, seq);
                        if outcome == Outcome::Ok {
                            counter.fetch_add(1, Ordering::Relaxed);
                            // Keep it unless another one is kept already (then it closes).
                            if let (Some(c), Ok(mut k)) = (conn.take(), kept.lock()) {
                                k.get_or_insert(c);
                            }
                        }
                        let attempt = Attempt {
                            start,
                            end: Instant::now(),
                            outcome,
                            seq,
                        };
                        if let Ok(mut all) = attempts.lock() {
                            all.push(attempt);
                        }
                    });
                }
                let mut next = Instant::now();
                let mut seq = 0;
                while !stop.load(Ordering::Relaxed) {
                    seq += 1;
                    if jobs.send(seq).is_err() {
                        break;
                    }
                    next += WRITE_PERIOD;
                    thread::sleep(next.saturating_duration_since(Instant::now()));
                }
                drop(jobs);
            });
            let mut attempts = attempts.into_inner().unwrap_or_default();
            attempts.sort_by_key(|a| a.start);
            attempts
        });
        VipWriter { ok, recorder }
    }

    /// Writes acknowledged so far.
    pub fn acknowledged(&self) -> u64 {
        self.ok.load(Ordering::Relaxed)
    }

    /// Stops and returns every attempt, in the order they started.
    pub fn finish(self) -> io::Result<Vec<Attempt>> {
        self.recorder.finish()
    }
}

/// One `INCR` + `SET` on `conn` (opened to `addr` if needed).
fn write_once(conn: &mut Option<Conn>, addr: &str, seq: u64) -> Outcome {
    if conn.is_none() {
        match Conn::connect(addr, Some(WRITE_TIMEOUT)) {
            Ok(c) => *conn = Some(c),
            Err(e) => return classify(&e),
        }
    }
    let Some(c) = conn.as_mut() else {
        return Outcome::Error;
    };
    let value = match c.call(&["INCR", "fb-counter"]) {
        Ok(Value::Integer(n)) => n,
        Ok(_) => return Outcome::Error,
        Err(e) => return classify(&e),
    };
    let key = format!("{KEY_PREFIX}{seq}");
    match c.call(&["SET", &key, &value.to_string()]) {
        Ok(Value::Simple(s)) if s == "OK" => Outcome::Ok,
        Ok(_) => Outcome::Error,
        Err(e) => classify(&e),
    }
}

/// The outcome an I/O error or error reply stands for.
fn classify(e: &io::Error) -> Outcome {
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => Outcome::Timeout,
        _ if e.to_string().starts_with("READONLY") => Outcome::ReadOnly,
        _ => Outcome::Error,
    }
}

/// A node's Redis role as seen from the client namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// `ROLE` says master.
    Master,
    /// `ROLE` says slave.
    Replica,
    /// No answer within [`ROLE_PERIOD`] (dead, stopped or cut off).
    Unreachable,
}

/// Timestamped changes of one observed value (the first entry is the initial value).
pub type Changes<T> = Vec<(Instant, T)>;

/// Appends `value` at `at` unless it equals the last recorded value.
fn record<T: PartialEq>(changes: &mut Changes<T>, at: Instant, value: T) {
    if changes.last().map_or(true, |(_, last)| *last != value) {
        changes.push((at, value));
    }
}

/// Polls `ROLE` of each node every [`ROLE_PERIOD`] from the client namespace.
pub struct RolePoller {
    recorders: Vec<Recorder<Changes<Role>>>,
}

impl RolePoller {
    /// One polling thread per address in `nodes`.
    pub fn start(bed: &TestBed, nodes: &[Ipv4Addr]) -> RolePoller {
        let recorders = nodes
            .iter()
            .map(|ip| {
                let addr = format!("{ip}:{REDIS_PORT}");
                Recorder::start(bed, CLIENT, move |stop| {
                    let mut conn: Option<Conn> = None;
                    let mut changes = Vec::new();
                    while !stop.load(Ordering::Relaxed) {
                        let start = Instant::now();
                        let role = poll_role(&mut conn, &addr);
                        record(&mut changes, start, role);
                        thread::sleep(
                            (start + ROLE_PERIOD).saturating_duration_since(Instant::now()),
                        );
                    }
                    changes
                })
            })
            .collect();
        RolePoller { recorders }
    }

    /// Stops and returns each node's role changes.
    pub fn finish(self) -> io::Result<Vec<Changes<Role>>> {
        self.recorders.into_iter().map(Recorder::finish).collect()
    }
}

fn poll_role(conn: &mut Option<Conn>, addr: &str) -> Role {
    if conn.is_none() {
        *conn = Conn::connect(addr, Some(ROLE_PERIOD)).ok();
    }
    let role = conn
        .as_mut()
        .and_then(|c| c.call(&["ROLE"]).ok())
        .and_then(|reply| reply.as_items().and_then(|items| items.first()?.as_text()));
    match role.as_deref() {
        Some("master") => Role::Master,
        Some("slave") => Role::Replica,
        _ => {
            *conn = None;
            Role::Unreachable
        }
    }
}

/// How often the client asks who has the VIP ([`ArpView`]).
pub const ARP_PERIOD: Duration = Duration::from_millis(50);

/// One ARP request of the client for the VIP and the hardware addresses that answered it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArpProbe {
    /// When the request went out.
    pub at: Instant,
    /// The distinct MACs whose replies arrived before the next request.
    pub answers: Vec<String>,
}

/// The client's view of who has the VIP, as ARP shows it: from inside the client namespace an
/// `arping` every [`ARP_PERIOD`] and a `tcpdump` of the replies; a probe answered by two MACs is
/// a moment the network saw two holders, whatever the kernels' address lists say.
pub struct ArpView {
    recorder: Recorder<Vec<ArpProbe>>,
}

impl ArpView {
    /// Starts probing for `vip` from the client namespace.
    pub fn start(bed: &TestBed, vip: Ipv4Addr) -> ArpView {
        let recorder = Recorder::start(bed, CLIENT, move |stop| probe_arp(stop, vip));
        ArpView { recorder }
    }

    /// Stops and returns the probes (none if the tools could not run).
    pub fn finish(self) -> io::Result<Vec<ArpProbe>> {
        self.recorder.finish()
    }
}

/// The MAC a `tcpdump -e -n` line shows answering for `vip` (`... Reply <vip> is-at <mac>, ...`).
fn arp_answer(line: &str, vip: &str) -> Option<String> {
    let rest = line.split_once(&format!("Reply {vip} is-at "))?.1;
    Some(rest.split([',', ' ']).next()?.to_ascii_lowercase())
}

fn probe_arp(stop: &AtomicBool, vip: Ipv4Addr) -> Vec<ArpProbe> {
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    use std::sync::mpsc;
    let iface = warden_integration::netns::NODE_IFACE;
    let vip_text = vip.to_string();
    let Ok(mut dump) = Command::new("tcpdump")
        .args([
            "-l", "-n", "-e", "-i", iface, "arp", "and", "host", &vip_text,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
    else {
        return Vec::new();
    };
    let (tx, rx) = mpsc::channel();
    if let Some(out) = dump.stdout.take() {
        thread::spawn(move || {
            for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send((Instant::now(), line)).is_err() {
                    break;
                }
            }
        });
    }
    // tcpdump needs a moment before it captures.
    thread::sleep(Duration::from_millis(300));
    let mut probes: Vec<ArpProbe> = Vec::new();
    let mut pinging = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let at = Instant::now();
        if let Ok(child) = Command::new("arping")
            .args(["-c", "1", "-w", "1", "-I", iface, &vip_text])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
        {
            pinging.push(child);
        }
        probes.push(ArpProbe {
            at,
            answers: Vec::new(),
        });
        thread::sleep(ARP_PERIOD);
        pinging.retain_mut(|c| matches!(c.try_wait(), Ok(None)));
        for (seen, line) in rx.try_iter() {
            let Some(mac) = arp_answer(&line, &vip_text) else {
                continue;
            };
            if let Some(probe) = probes.iter_mut().rev().find(|p| p.at <= seen) {
                if !probe.answers.contains(&mac) {
                    probe.answers.push(mac);
                }
            }
        }
    }
    for mut child in pinging.into_iter().chain(std::iter::once(dump)) {
        let _ = child.kill();
        let _ = child.wait();
    }
    probes
}

/// Watches, inside each node's namespace, whether an interface holds the VIP.
pub struct VipWatch {
    recorders: Vec<Recorder<Changes<bool>>>,
}

impl VipWatch {
    /// One watching thread per node index in `nodes`, polling every [`VIP_PERIOD`].
    pub fn start(bed: &TestBed, nodes: std::ops::Range<usize>, vip: Ipv4Addr) -> VipWatch {
        let recorders = nodes
            .map(|i| {
                Recorder::start(bed, i, move |stop| {
                    let mut changes = Vec::new();
                    while !stop.load(Ordering::Relaxed) {
                        let now = Instant::now();
                        if let Ok(held) = has_addr(vip) {
                            record(&mut changes, now, held);
                        }
                        thread::sleep(VIP_PERIOD);
                    }
                    changes
                })
            })
            .collect();
        VipWatch { recorders }
    }

    /// Stops and returns each node's changes (true = holds the VIP).
    pub fn finish(self) -> io::Result<Vec<Changes<bool>>> {
        self.recorders.into_iter().map(Recorder::finish).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_arp_answers_from_tcpdump() {
        let line =
            "12:00:00.000001 02:aa:bb:cc:dd:01 > 02:aa:bb:cc:dd:09, ethertype ARP (0x0806), \
                    length 42: Reply 10.9.0.200 is-at 02:AA:bb:cc:dd:01, length 28";
        assert_eq!(
            arp_answer(line, "10.9.0.200").as_deref(),
            Some("02:aa:bb:cc:dd:01")
        );
        assert_eq!(arp_answer(line, "10.9.0.201"), None);
        let request = "12:00:00 02:aa > ff:ff, ethertype ARP (0x0806), length 42: Request \
                       who-has 10.9.0.200 tell 10.9.0.9, length 28";
        assert_eq!(arp_answer(request, "10.9.0.200"), None);
    }

    #[test]
    fn records_only_changes() {
        let t = Instant::now();
        let mut changes = Vec::new();
        for v in [false, false, true, true, false] {
            record(&mut changes, t, v);
        }
        let values: Vec<bool> = changes.iter().map(|(_, v)| *v).collect();
        assert_eq!(values, [false, true, false]);
    }

    #[test]
    fn classifies_errors() {
        assert_eq!(
            classify(&io::Error::other(
                "READONLY You can't write against a read only replica."
            )),
            Outcome::ReadOnly
        );
        assert_eq!(
            classify(&io::Error::from(io::ErrorKind::WouldBlock)),
            Outcome::Timeout
        );
        assert_eq!(
            classify(&io::Error::from(io::ErrorKind::ConnectionRefused)),
            Outcome::Error
        );
    }
}

/// How often the routers' RIBs are read ([`RouteView`]).
pub const ROUTE_PERIOD: Duration = Duration::from_millis(10);

/// What the routers' RIBs said about a routed VIP at one moment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteSample {
    /// When the routers were read.
    pub at: Instant,
    /// The nodes announcing the VIP at each router, in router order.
    pub announcers: Vec<Vec<usize>>,
}

impl RouteSample {
    /// The distinct announcing nodes at any router.
    pub fn nodes(&self) -> Vec<usize> {
        let mut all: Vec<usize> = self.announcers.concat();
        all.sort_unstable();
        all.dedup();
        all
    }
}

/// The routers' view of a routed VIP: every [`ROUTE_PERIOD`], each router's paths for the VIP
/// (every path, `addpath` between the routers), read over bgpd's vty sockets.
pub struct RouteView {
    recorder: Recorder<Vec<RouteSample>>,
}

impl RouteView {
    /// Starts reading the routers `probe` names.
    pub fn start(bed: &TestBed, probe: RibProbe) -> RouteView {
        let recorder = Recorder::start(bed, CLIENT, move |stop| {
            let mut samples = Vec::new();
            let mut reader = None;
            while !stop.load(Ordering::Relaxed) {
                let at = Instant::now();
                if reader.is_none() {
                    reader = probe.reader().ok();
                }
                match reader.as_mut().map(|r| r.read()) {
                    Some(Ok(announcers)) => samples.push(RouteSample { at, announcers }),
                    // A broken connection is opened again at the next sample.
                    _ => reader = None,
                }
                std::thread::sleep(ROUTE_PERIOD);
            }
            samples
        });
        RouteView { recorder }
    }

    /// Stops and returns the samples.
    pub fn finish(self) -> io::Result<Vec<RouteSample>> {
        self.recorder.finish()
    }
}
