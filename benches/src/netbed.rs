//! The failover bench's network: three node namespaces (one `redis-server` on 6379 each, plus
//! whatever sentinel system runs there) and a client namespace, all on one bridge — or, for a
//! routed VIP, in two racks behind routers running FRR — built on
//! [`warden_integration::netns::TestBed`] (private /24 only inside the namespaces, no default
//! routes).
//!
//! Every process is started through [`NetBed::spawn`] and killed by its PID; what those
//! processes forked (keepalived's VRRP child, a reconfiguration script) lives in a namespace
//! this bed created, and is killed from there (`ip netns pids`) before the namespaces are
//! deleted. Ctrl-C and SIGTERM only set a flag ([`interrupted`]) that every wait of the bench
//! checks, so an interrupted run unwinds through the same drops as a finished one.

use std::io;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use warden_integration::binaries::redis_server;
use warden_integration::frr::Fabric;
use warden_integration::netns::{self, TestBed};
use warden_integration::process::Process;
use warden_integration::tempdir::TempDir;

/// Number of database nodes (node 0 is the initial master).
pub const NODES: usize = 3;
/// Index of the client namespace in the bed.
pub const CLIENT: usize = NODES;
/// Port of every `redis-server`.
pub const REDIS_PORT: u16 = 6379;
/// Port of every sentinel.
pub const SENTINEL_PORT: u16 = 26379;

/// The ARP settings the operations guide asks for on every node that can hold a VIP (set inside
/// each node's namespace, for every system alike): answer ARP only for the interface's own
/// addresses, and never use the VIP as the sender of the node's own ARP requests (otherwise a
/// node that still holds a stale VIP re-points clients at itself when it asks for their MAC).
pub const ARP_SYSCTLS: [(&str, &str); 2] = [
    ("net.ipv4.conf.all.arp_ignore", "1"),
    ("net.ipv4.conf.all.arp_announce", "2"),
];

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Makes SIGINT and SIGTERM set the [`interrupted`] flag instead of ending the process, so
/// namespaces and processes are cleaned up by the normal drops.
pub fn catch_interrupts() {
    for signal in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
        unsafe {
            libc::signal(
                signal,
                on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t,
            );
        }
    }
}

/// Whether SIGINT or SIGTERM arrived.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// The error every wait returns once [`interrupted`].
fn interruption() -> io::Error {
    io::Error::new(io::ErrorKind::Interrupted, "interrupted")
}

/// Sleeps for `duration` (an observation window, not a synchronisation), returning early with
/// an error when interrupted.
pub fn observe_for(duration: Duration) -> io::Result<()> {
    let end = Instant::now() + duration;
    while Instant::now() < end {
        if interrupted() {
            return Err(interruption());
        }
        thread::sleep(Duration::from_millis(20).min(end.saturating_duration_since(Instant::now())));
    }
    Ok(())
}

/// Polls `probe` every 20 ms until it returns `Ok`, `timeout` passes (an error naming `what`
/// and the last observation) or the bench is interrupted.
pub fn wait_until<T>(
    timeout: Duration,
    what: &str,
    mut probe: impl FnMut() -> Result<T, String>,
) -> io::Result<T> {
    let end = Instant::now() + timeout;
    loop {
        if interrupted() {
            return Err(interruption());
        }
        let last = match probe() {
            Ok(value) => return Ok(value),
            Err(last) => last,
        };
        if Instant::now() >= end {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("timed out after {timeout:?} waiting for {what} (last seen: {last})"),
            ));
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// The bed. Fields drop in order: processes, then FRR, then namespaces, then the scratch
/// directory.
pub struct NetBed {
    procs: Vec<Vec<Process>>,
    /// FRR on the routers and nodes, in a routed bed ([`NetBed::routed`]).
    fabric: Option<Fabric>,
    bed: TestBed,
    dir: TempDir,
}

/// Nodes per rack of a routed bed: nodes 0 and 1 behind router 0, node 2 and the client behind
/// router 1.
pub const RACKS: [usize; 2] = [2, 1];

impl NetBed {
    /// Creates the namespaces ([`NODES`] nodes and the client) with [`ARP_SYSCTLS`] set in the
    /// nodes, and a scratch directory with one sub-directory per node.
    pub fn new() -> io::Result<NetBed> {
        NetBed::build(TestBed::new(NODES + 1)?, false)
    }

    /// Like [`NetBed::new`], but the nodes sit in two racks behind router namespaces running
    /// FRR ([`TestBed::routed`] with [`RACKS`], [`Fabric`]), the client behind the second: a
    /// VIP there is routed, announced by BGP.
    pub fn routed() -> io::Result<NetBed> {
        NetBed::build(TestBed::routed(&RACKS)?, true)
    }

    fn build(testbed: TestBed, routed: bool) -> io::Result<NetBed> {
        let dir = TempDir::new("failover-vip")?;
        for i in 0..NODES {
            std::fs::create_dir(dir.path().join(format!("n{i}")))?;
        }
        let mut bed = NetBed {
            procs: (0..=NODES).map(|_| Vec::new()).collect(),
            fabric: None,
            bed: testbed,
            dir,
        };
        if routed {
            let vip = bed.vip();
            let frr = bed.dir.path().join("frr");
            bed.fabric = Some(Fabric::start(&bed.bed, &RACKS, vip, &frr)?);
        }
        for i in 0..NODES {
            for (key, value) in ARP_SYSCTLS {
                bed.bed
                    .exec(i, "sysctl", &["-q", "-w", &format!("{key}={value}")])?;
            }
        }
        Ok(bed)
    }

    /// The underlying namespaces.
    pub fn bed(&self) -> &TestBed {
        &self.bed
    }

    /// Node `i`'s address.
    pub fn addr(&self, i: usize) -> Ipv4Addr {
        self.bed.node(i).addr
    }

    /// The virtual IP every system moves (an unused address of the bed's /24).
    pub fn vip(&self) -> Ipv4Addr {
        if self.bed.routers().is_empty() {
            self.bed.spare_addr(0)
        } else {
            self.bed.spare_addr(50)
        }
    }

    /// FRR, in a routed bed.
    pub fn fabric(&self) -> Option<&Fabric> {
        self.fabric.as_ref()
    }

    /// Starts node `i`'s FRR again after the node was killed (nothing in an L2 bed).
    pub fn restart_routing(&mut self, i: usize) -> io::Result<()> {
        match &mut self.fabric {
            Some(fabric) => fabric.restart_node(i),
            None => Ok(()),
        }
    }

    /// Node `i`'s scratch directory (configuration files, logs, Redis' `dir`).
    pub fn node_dir(&self, i: usize) -> PathBuf {
        self.dir.path().join(format!("n{i}"))
    }

    /// Starts `program args...` in node `i` as `name` (logs in the node's directory).
    pub fn spawn(&mut self, i: usize, name: &str, program: &Path, args: &[&str]) -> io::Result<()> {
        let program = program.to_str().ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "program path is not UTF-8")
        })?;
        let process = self.bed.spawn(i, name, program, args, &self.node_dir(i))?;
        self.procs[i].push(process);
        Ok(())
    }

    /// Starts node `i`'s `redis-server` on [`REDIS_PORT`], without persistence, as a replica of
    /// `master` if given.
    pub fn start_redis(&mut self, i: usize, master: Option<Ipv4Addr>) -> io::Result<()> {
        let dir = self.node_dir(i);
        let dir = dir.to_string_lossy().into_owned();
        let port = REDIS_PORT.to_string();
        let mut args = netns::redis_args(&port, &dir);
        let master = master.map(|m| format!("{m} {REDIS_PORT}"));
        if let Some(m) = &master {
            args.extend(["--replicaof", m]);
        }
        self.spawn(i, "redis-server", &redis_server(), &args)
    }

    /// A process of node `i` by the name it was started with (the latest one).
    fn process(&mut self, i: usize, name: &str) -> io::Result<&mut Process> {
        self.procs[i]
            .iter_mut()
            .rev()
            .find(|p| p.name() == name)
            .ok_or_else(|| {
                io::Error::new(io::ErrorKind::NotFound, format!("no {name} on node {i}"))
            })
    }

    /// Sends `signal` to node `i`'s process `name`.
    pub fn signal(&mut self, i: usize, name: &str, signal: i32) -> io::Result<()> {
        self.process(i, name)?.signal(signal)
    }

    /// Sends `signal` to every process in node `i`'s namespace (SIGSTOP and SIGCONT freeze and
    /// thaw the whole node, as a cgroup freeze or a stuck host would).
    pub fn signal_node(&self, i: usize, signal: i32) {
        signal_namespace(&self.bed.node(i).namespace, signal);
    }

    /// Stops node `i`'s process `name` with SIGTERM (SIGKILL after `timeout`) and forgets it.
    pub fn terminate(&mut self, i: usize, name: &str, timeout: Duration) -> io::Result<()> {
        self.take(i, name)?.terminate(timeout).map(drop)
    }

    /// SIGKILLs node `i`'s process `name` (only that one), reaps it and forgets it.
    pub fn kill(&mut self, i: usize, name: &str) -> io::Result<()> {
        // Dropping a Process sends SIGKILL to its PID and reaps it.
        self.take(i, name).map(drop)
    }

    fn take(&mut self, i: usize, name: &str) -> io::Result<Process> {
        let at = self.procs[i]
            .iter()
            .rposition(|p| p.name() == name)
            .ok_or_else(|| {
                io::Error::new(io::ErrorKind::NotFound, format!("no {name} on node {i}"))
            })?;
        Ok(self.procs[i].remove(at))
    }

    /// SIGKILLs every process in node `i`'s namespace (what the bench started there and what
    /// those forked) and reaps the ones it started.
    pub fn kill_node(&mut self, i: usize) -> io::Result<()> {
        signal_namespace(&self.bed.node(i).namespace, libc::SIGKILL);
        for process in &mut self.procs[i] {
            process.wait_exit(Duration::from_secs(5))?;
        }
        self.procs[i].clear();
        Ok(())
    }

    /// Cuts node `i` off the bridge.
    pub fn unplug(&self, i: usize) -> io::Result<()> {
        self.bed.link_down(i)
    }

    /// Plugs node `i` back in.
    pub fn plug(&self, i: usize) -> io::Result<()> {
        self.bed.link_up(i)
    }

    /// The last lines of every log of node `i`, for failure messages.
    pub fn logs(&self, i: usize, lines: usize) -> String {
        self.procs[i]
            .iter()
            .map(|p| p.output_tail(lines))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for NetBed {
    fn drop(&mut self) {
        self.procs.clear();
        for i in 0..=NODES {
            signal_namespace(&self.bed.node(i).namespace, libc::SIGKILL);
        }
    }
}

/// Sends `signal` to every process in namespace `ns` (one this bench created).
fn signal_namespace(ns: &str, signal: i32) {
    let Ok(out) = std::process::Command::new("ip")
        .args(["netns", "pids", ns])
        .output()
    else {
        return;
    };
    for pid in String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .filter_map(|p| p.parse::<libc::pid_t>().ok())
    {
        // SAFETY: plain syscall; the PID is in a namespace only this bench's processes use.
        unsafe {
            libc::kill(pid, signal);
        }
    }
}
