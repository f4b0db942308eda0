//! Three Redis + Warden nodes sharing a VIP, and a client namespace, in network namespaces.
//!
//! ```text
//!   node 0, 1, 2 (TestBed nodes)                       node 3 = CLIENT
//!   redis-server :6379 (node 0 master, 1-2 replicas)   writes through VIP:6379
//!   warden :26379  monitor <node 0> 6379 quorum 2,
//!                  down-after 1000, failover-timeout 10000, vip <VIP> eth0
//! ```
//!
//! Redis listens on every address of its node (`bind 0.0.0.0`, as in the seed), so it answers
//! on the VIP wherever the VIP is. The node namespaces get the sysctls `docs/vip.md` asks of a
//! VIP host (`arp_ignore=1`, `arp_announce=2`). The client namespace keeps a resolved neighbour
//! entry REACHABLE for at least 5 minutes without confirmation (`base_reachable 600000`), so a
//! neighbour entry that switches to a new MAC during a test was switched by a gratuitous ARP,
//! never by the entry expiring.
//!
//! Processes are started by PID ([`Process`]) and killed individually; the namespaces go away
//! with the bed. Every query runs over a socket opened inside the queried node's namespace, to
//! `127.0.0.1`, so a node cut off the bridge can still be asked.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use crate::binaries;
use crate::frr::Fabric;
use crate::info::info_field;
use crate::netns::{self, TestBed, NODE_IFACE};
use crate::nsclient::NsClient;
use crate::process::Process;
use crate::resp::Value;
use crate::tempdir::TempDir;
use crate::vipwatch::has_addr;
use crate::wait::wait_until;
use crate::writer::Writer;

/// The monitored master's name.
pub const MASTER_NAME: &str = "mymaster";
/// Redis's port on every node.
pub const REDIS_PORT: u16 = 6379;
/// Warden's port on every node.
pub const SENTINEL_PORT: u16 = 26379;
/// `down-after-milliseconds` of every Warden.
pub const DOWN_AFTER_MS: u64 = 1000;
/// A generous bound on the VIP lease that follows from it (the default lease is 1 x down-after).
pub const LEASE: Duration = Duration::from_millis(3 * DOWN_AFTER_MS);
/// Number of Redis + Warden nodes (indices `0..NODES`).
pub const NODES: usize = 3;
/// Index of the client namespace.
pub const CLIENT: usize = NODES;
/// Timeout of one query (connect, write, read).
const CALL_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a started server has to answer PING.
const START_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the group has to form (hellos every 2 s, then the first claim).
const SETTLE_TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Default)]
struct NodeProcs {
    redis: Option<Process>,
    warden: Option<Process>,
}

/// The bed. See the module documentation. Field order matters: processes are killed before
/// their directory is removed and before the namespaces are deleted.
pub struct VipBed {
    procs: Vec<NodeProcs>,
    /// FRR on the routers and nodes of a routed bed.
    fabric: Option<Fabric>,
    /// How many processes were started so far (unique log file names across restarts).
    started: u32,
    dir: TempDir,
    bed: TestBed,
    vip: Ipv4Addr,
    /// The interface the VIP goes on: the node's link, or `lo` for a routed VIP.
    vip_iface: &'static str,
    extra_conf: Vec<String>,
}

/// Nodes per rack of a routed bed: nodes 0 and 1 behind router 0, node 2 behind router 1, and
/// the client behind router 1.
pub const RACKS: [usize; 2] = [2, 1];

impl VipBed {
    /// Builds the namespaces and starts the group: Redis master on node 0, replicas on nodes 1
    /// and 2, a Warden on each node (configured with the lines above plus `extra_conf`), and
    /// waits until every Warden knows the whole group and node 0 holds the VIP.
    pub fn start(extra_conf: &[&str]) -> io::Result<VipBed> {
        let bed = TestBed::new(NODES + 1)?;
        let vip = bed.spare_addr(0);
        VipBed::build(bed, vip, TempDir::new("vipbed")?, None, extra_conf)
    }

    /// Like [`VipBed::start`] on a routed bed ([`TestBed::routed`] with [`RACKS`]) running FRR
    /// ([`Fabric`]): the VIP is a routed one (`sentinel vip ... lo routed`), announced by BGP
    /// from the node that holds it.
    pub fn start_routed(extra_conf: &[&str]) -> io::Result<VipBed> {
        let bed = TestBed::routed(&RACKS)?;
        let vip = bed.spare_addr(50);
        let dir = TempDir::new("vipbed")?;
        let fabric = Fabric::start(&bed, &RACKS, vip, &dir.path().join("frr"))?;
        VipBed::build(bed, vip, dir, Some(fabric), extra_conf)
    }

    fn build(
        bed: TestBed,
        vip: Ipv4Addr,
        dir: TempDir,
        fabric: Option<Fabric>,
        extra_conf: &[&str],
    ) -> io::Result<VipBed> {
        let vip_iface = if fabric.is_some() { "lo" } else { NODE_IFACE };
        let mut vb = VipBed {
            procs: (0..NODES).map(|_| NodeProcs::default()).collect(),
            fabric,
            started: 0,
            dir,
            bed,
            vip,
            vip_iface,
            extra_conf: extra_conf.iter().map(|s| s.to_string()).collect(),
        };
        for i in 0..NODES {
            vb.bed.exec(
                i,
                "sysctl",
                &[
                    "-qw",
                    "net.ipv4.conf.all.arp_ignore=1",
                    "net.ipv4.conf.all.arp_announce=2",
                ],
            )?;
            std::fs::create_dir_all(vb.node_dir(i))?;
        }
        vb.bed.ip(
            CLIENT,
            &[
                "ntable",
                "change",
                "name",
                "arp_cache",
                "dev",
                NODE_IFACE,
                "base_reachable",
                "600000",
            ],
        )?;
        vb.start_redis(0, None)?;
        for i in 1..NODES {
            vb.start_redis(i, Some(0))?;
        }
        for i in 0..NODES {
            vb.start_warden(i)?;
        }
        vb.wait_settled(0, &[0, 1, 2])?;
        Ok(vb)
    }

    /// The namespaces.
    pub fn bed(&self) -> &TestBed {
        &self.bed
    }

    /// FRR, on a routed bed.
    pub fn fabric(&mut self) -> Option<&mut Fabric> {
        self.fabric.as_mut()
    }

    /// FRR, on a routed bed (read-only).
    pub fn fabric_ref(&self) -> Option<&Fabric> {
        self.fabric.as_ref()
    }

    /// The VIP.
    pub fn vip(&self) -> Ipv4Addr {
        self.vip
    }

    /// Redis through the VIP.
    pub fn vip_redis(&self) -> SocketAddr {
        SocketAddr::from((self.vip, REDIS_PORT))
    }

    /// Node `i`'s own address.
    pub fn addr(&self, i: usize) -> Ipv4Addr {
        self.bed.node(i).addr
    }

    /// Node `i`'s MAC.
    pub fn mac(&self, i: usize) -> &str {
        &self.bed.node(i).mac
    }

    /// The node whose address is `ip`, if any.
    pub fn node_of(&self, ip: &str) -> Option<usize> {
        (0..NODES).find(|&i| self.addr(i).to_string() == ip)
    }

    fn node_dir(&self, i: usize) -> PathBuf {
        self.dir.path().join(format!("n{i}"))
    }

    /// Node `i`'s Warden's config file.
    pub fn config_path(&self, i: usize) -> PathBuf {
        self.node_dir(i).join("sentinel.conf")
    }

    fn spawn(&mut self, i: usize, what: &str, program: &str, args: &[&str]) -> io::Result<Process> {
        self.started += 1;
        let name = format!("{what}-n{i}-{}", self.started);
        self.bed.spawn(i, &name, program, args, self.dir.path())
    }

    /// Starts redis-server on node `i` (a replica of node `replica_of` if given) and waits
    /// until it answers PING.
    pub fn start_redis(&mut self, i: usize, replica_of: Option<usize>) -> io::Result<()> {
        let dir = self.node_dir(i).display().to_string();
        let port = REDIS_PORT.to_string();
        let master = replica_of.map(|m| self.addr(m).to_string());
        let mut args = netns::redis_args(&port, &dir);
        args.extend(["--repl-diskless-sync-delay", "0"]);
        if let Some(m) = &master {
            args.extend(["--replicaof", m, &port]);
        }
        let program = binaries::redis_server().display().to_string();
        let mut process = self.spawn(i, "redis", &program, &args)?;
        self.wait_ping(i, REDIS_PORT, &mut process)?;
        self.procs[i].redis = Some(process);
        Ok(())
    }

    /// Starts Warden on node `i` and waits until it answers PING. The first start writes its
    /// configuration; later starts reuse the file as the previous process left it.
    pub fn start_warden(&mut self, i: usize) -> io::Result<()> {
        let mut process = self.spawn_warden(i)?;
        self.wait_ping(i, SENTINEL_PORT, &mut process)?;
        self.procs[i].warden = Some(process);
        Ok(())
    }

    /// Starts Warden on node `i` without waiting for it, for tests that watch the start-up
    /// itself; hand the process back with [`VipBed::adopt_warden`].
    pub fn spawn_warden(&mut self, i: usize) -> io::Result<Process> {
        let path = self.config_path(i);
        if !path.exists() {
            std::fs::write(&path, self.config_text(i))?;
        }
        let program = binaries::warden()?.display().to_string();
        let conf = path.display().to_string();
        self.spawn(i, "warden", &program, &[&conf])
    }

    /// Sends `signal` to node `i`'s Warden (e.g. SIGSTOP to freeze it, SIGCONT to resume it).
    pub fn signal_warden(&mut self, i: usize, signal: i32) -> io::Result<()> {
        match self.procs[i].warden.as_mut() {
            Some(process) => process.signal(signal),
            None => Err(io::Error::other(format!("node {i} runs no Warden"))),
        }
    }

    /// Stops node `i`'s Warden as systemd would (SIGTERM), waits for its exit and reaps it;
    /// its Redis keeps running.
    pub fn terminate_warden(&mut self, i: usize) -> io::Result<()> {
        let mut process = self.procs[i]
            .warden
            .take()
            .ok_or_else(|| io::Error::other(format!("node {i} runs no Warden")))?;
        let status = process.terminate(START_TIMEOUT)?;
        if status.success() {
            Ok(())
        } else {
            Err(io::Error::other(format!(
                "node {i}'s Warden exited with {status}\n{}",
                process.output_tail(30)
            )))
        }
    }

    /// Waits for node `i`'s Warden to exit by itself (after `SHUTDOWN`) and reaps it.
    pub fn wait_warden_exit(&mut self, i: usize) -> io::Result<()> {
        let mut process = self.procs[i]
            .warden
            .take()
            .ok_or_else(|| io::Error::other(format!("node {i} runs no Warden")))?;
        process.wait_exit(START_TIMEOUT).map(drop)
    }

    /// SIGKILLs node `i`'s Warden only (its Redis keeps running) and reaps it.
    pub fn kill_warden(&mut self, i: usize) {
        self.procs[i].warden.take();
    }

    /// Keeps a Warden started by [`VipBed::spawn_warden`] as node `i`'s.
    pub fn adopt_warden(&mut self, i: usize, process: Process) {
        self.procs[i].warden = Some(process);
    }

    fn config_text(&self, i: usize) -> String {
        let m = MASTER_NAME;
        let mut text = format!(
            "port {SENTINEL_PORT}\nprotected-mode no\ndir {dir}\n\
             sentinel monitor {m} {master} {REDIS_PORT} 2\n\
             sentinel down-after-milliseconds {m} {DOWN_AFTER_MS}\n\
             sentinel failover-timeout {m} 10000\n\
             sentinel vip {m} {vip} {iface}{mode}\n",
            dir = self.node_dir(i).display(),
            master = self.addr(0),
            vip = self.vip,
            iface = self.vip_iface,
            mode = if self.fabric.is_some() { " routed" } else { "" },
        );
        for line in &self.extra_conf {
            text.push_str(line);
            text.push('\n');
        }
        text
    }

    fn wait_ping(&self, i: usize, port: u16, process: &mut Process) -> io::Result<()> {
        let what = format!("{} to answer PING", process.name());
        let ready = wait_until(START_TIMEOUT, &what, || {
            if let Ok(Some(status)) = process.try_exit_status() {
                return Ok(Err(status));
            }
            match self.call(i, port, &["PING"]) {
                Ok(Value::Simple(s)) if s == "PONG" => Ok(Ok(())),
                Ok(other) => Err(format!("PING -> {other}")),
                Err(e) => Err(e.to_string()),
            }
        });
        let failure = match ready {
            Ok(Ok(())) => return Ok(()),
            Ok(Err(status)) => format!("{} exited ({status})", process.name()),
            Err(timeout) => timeout.to_string(),
        };
        Err(io::Error::other(format!(
            "{failure}\n{}",
            process.output_tail(30)
        )))
    }

    /// SIGKILLs node `i`'s Redis and Warden (by PID) and reaps them; the namespace, its link
    /// and its addresses stay, as after a crash of the processes.
    pub fn kill(&mut self, i: usize) {
        // Dropping a Process sends SIGKILL to its PID and reaps it.
        self.procs[i].warden.take();
        self.procs[i].redis.take();
    }

    /// One command to `127.0.0.1:port` inside node `i`, on a new connection.
    pub fn call(&self, i: usize, port: u16, args: &[&str]) -> io::Result<Value> {
        let to = SocketAddr::from(([127, 0, 0, 1], port));
        NsClient::connect(&self.bed, i, to, CALL_TIMEOUT)?.call(args)
    }

    /// One command to node `i`'s Warden.
    pub fn sentinel(&self, i: usize, args: &[&str]) -> io::Result<Value> {
        self.call(i, SENTINEL_PORT, args)
    }

    /// One command to node `i`'s Redis.
    pub fn redis(&self, i: usize, args: &[&str]) -> io::Result<Value> {
        self.call(i, REDIS_PORT, args)
    }

    /// A field of node `i`'s Redis `INFO replication`.
    pub fn replication(&self, i: usize, field: &str) -> io::Result<Option<String>> {
        let info = self.redis(i, &["INFO", "replication"])?;
        Ok(info
            .as_text()
            .and_then(|t| info_field(&t, field).map(str::to_owned)))
    }

    /// The node that node `i`'s Warden names as master (`SENTINEL GET-MASTER-ADDR-BY-NAME`).
    pub fn master_seen_by(&self, i: usize) -> io::Result<Option<usize>> {
        let reply = self.sentinel(i, &["SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER_NAME])?;
        Ok(reply
            .as_items()
            .and_then(|items| items.first())
            .and_then(Value::as_text)
            .and_then(|ip| self.node_of(&ip)))
    }

    /// Waits up to `timeout` until the Wardens of `survivors` all name the same new master
    /// (not `old`) and that node carries the VIP; returns the node.
    pub fn wait_new_holder(
        &self,
        survivors: &[usize],
        old: usize,
        timeout: Duration,
    ) -> io::Result<usize> {
        wait_until(timeout, "a new master holding the VIP", || {
            let seen: Vec<Option<usize>> = survivors
                .iter()
                .map(|&i| self.master_seen_by(i).ok().flatten())
                .collect();
            match seen[0] {
                Some(p) if p != old && seen.iter().all(|s| *s == Some(p)) => {
                    if self.vip_on(p).unwrap_or(false) {
                        Ok(p)
                    } else {
                        Err(format!("master {p} agreed, VIP not there yet"))
                    }
                }
                _ => Err(format!("masters seen: {seen:?}")),
            }
        })
        .map_err(|t| io::Error::other(format!("{t}\n{}", self.diagnostics())))
    }

    /// A writer from the client namespace through the VIP (see [`Writer`]).
    pub fn vip_writer(&self, period: Duration, timeout: Duration) -> Writer {
        Writer::start(&self.bed, CLIENT, self.vip_redis(), period, timeout)
    }

    /// Node `i`'s Warden's `SENTINEL VIP` reply.
    pub fn vip_status(&self, i: usize) -> io::Result<Value> {
        self.sentinel(i, &["SENTINEL", "VIP", MASTER_NAME])
    }

    /// The VIP's `state` in node `i`'s Warden's `INFO sentinel` (`vip0:...,state=held,...`).
    pub fn vip_info_state(&self, i: usize) -> io::Result<Option<String>> {
        let info = self.sentinel(i, &["INFO", "sentinel"])?;
        let text = info.as_text().unwrap_or_default();
        Ok(info_field(&text, "vip0").and_then(|v| {
            v.split(',')
                .find_map(|kv| kv.strip_prefix("state="))
                .map(str::to_owned)
        }))
    }

    /// Whether the VIP is on an interface of node `i` (the kernel's view).
    pub fn vip_on(&self, i: usize) -> io::Result<bool> {
        let vip = self.vip;
        self.bed
            .spawn_in(i, move || has_addr(vip))
            .join()
            .map_err(|_| io::Error::other("address check panicked"))??
    }

    /// The nodes among `0..NODES` whose interfaces carry the VIP.
    pub fn holders(&self) -> io::Result<Vec<usize>> {
        let mut out = Vec::new();
        for i in 0..NODES {
            if self.vip_on(i)? {
                out.push(i);
            }
        }
        Ok(out)
    }

    /// Puts the VIP on node `i`'s interface by hand, the way Warden adds it (/32, label
    /// `<iface>:warden`), as a killed Warden would have left it.
    pub fn add_vip_by_hand(&self, i: usize) -> io::Result<()> {
        let label = format!("{}:warden", self.vip_iface);
        let cidr = format!("{}/32", self.vip);
        let args = ["addr", "add", &cidr, "dev", self.vip_iface, "label", &label];
        self.bed.ip(i, &args).map(drop)
    }

    /// Waits until every Warden of `wardens` names `master` as master and knows the other two
    /// nodes (as replicas and as sentinels), `master`'s Redis has both replicas connected, and
    /// only `master` carries the VIP, held according to its Warden's `INFO`.
    pub fn wait_settled(&self, master: usize, wardens: &[usize]) -> io::Result<()> {
        let what = format!("the group to settle with node {master} as master holding the VIP");
        wait_until(SETTLE_TIMEOUT, &what, || self.settled(master, wardens))
            .map_err(|t| io::Error::other(format!("{t}\n{}", self.diagnostics())))
    }

    fn settled(&self, master: usize, wardens: &[usize]) -> Result<(), String> {
        let e = |e: io::Error| e.to_string();
        for &i in wardens {
            let m = self
                .sentinel(i, &["SENTINEL", "MASTER", MASTER_NAME])
                .map_err(e)?;
            let field = |k: &str| m.field_text(k).unwrap_or_default();
            let want_ip = self.addr(master).to_string();
            if field("ip") != want_ip
                || field("flags") != "master"
                || field("num-slaves") != "2"
                || field("num-other-sentinels") != "2"
            {
                return Err(format!("node {i}'s Warden: {m}"));
            }
        }
        let slaves = self.replication(master, "connected_slaves").map_err(e)?;
        if slaves.as_deref() != Some("2") {
            return Err(format!("node {master}: connected_slaves {slaves:?}"));
        }
        let holders = self.holders().map_err(e)?;
        if holders != [master] {
            return Err(format!("VIP on nodes {holders:?}"));
        }
        let state = self.vip_info_state(master).map_err(e)?;
        if state.as_deref() != Some("held") {
            return Err(format!("node {master}'s INFO: VIP state {state:?}"));
        }
        Ok(())
    }

    /// The last lines of every process's output (killed ones included), for failure messages.
    pub fn diagnostics(&self) -> String {
        let mut logs: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        logs.retain(|p| {
            p.extension()
                .is_some_and(|e| e == "stdout" || e == "stderr")
        });
        logs.sort();
        logs.iter()
            .filter_map(|p| {
                let text = std::fs::read_to_string(p).ok()?;
                let lines: Vec<&str> = text.lines().collect();
                let tail = lines[lines.len().saturating_sub(40)..].join("\n");
                Some(format!("--- {} ---\n{tail}", p.display()))
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}
