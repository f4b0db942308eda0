//! Multi-host test beds in network namespaces the test creates itself.
//!
//! [`TestBed::new`]`(n)` builds, without touching the host's own network namespace:
//!
//! ```text
//!   wdn<pid>b<k>sw  (switch namespace)          wdn<pid>b<k>n<i>  (node i, 0-based)
//!   ┌──────────────────────────────┐            ┌───────────────────────────────┐
//!   │ br0 ── p0, p1, ... (veth)    │── veth ──  │ eth0 10.<x>.<y>.(i+1)/24       │
//!   └──────────────────────────────┘            │ MAC 02:00:<x>:<y>:00:(i+1)     │
//!                                               └───────────────────────────────┘
//! ```
//!
//! Private addresses only inside the namespaces, no default routes. Helpers run commands in a
//! node (`ip netns exec`), spawn long-running processes there (as [`Process`] guards, killed by
//! PID), cut and restore a node's link (the bridge-side port: the node sees NO-CARRIER and keeps
//! its addresses), read a node's neighbour table, and run code on a thread that entered a
//! node's namespace (sockets it opens live in that namespace). Dropping the bed deletes every
//! namespace it created, also while unwinding from a panic; namespaces left by a test process
//! that was killed are removed by the next bed.

use std::io;
use std::net::Ipv4Addr;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread::JoinHandle;

use crate::process::Process;

/// Prefix of every namespace a bed creates: `wdn<pid>b<k>...`.
const PREFIX: &str = "wdn";
/// Interface name of a node's link.
pub const NODE_IFACE: &str = "eth0";

static BEDS: AtomicU32 = AtomicU32::new(0);

/// Why the netns tests cannot run here (not root, no `ip netns`), or `None` when they can.
pub fn unavailable() -> Option<String> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Some("network-namespace tests need root".into());
    }
    match Command::new("ip").args(["netns", "list"]).output() {
        Ok(out) if out.status.success() => None,
        Ok(out) => Some(format!(
            "`ip netns list` failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Err(e) => Some(format!("cannot run `ip`: {e}")),
    }
}

/// The arguments of a `redis-server` in a node of a bed: listening on `port` on every address
/// of the node (its own and any VIP it holds), without protected mode or persistence, working
/// in `dir`.
pub fn redis_args<'a>(port: &'a str, dir: &'a str) -> Vec<&'a str> {
    vec![
        "--port",
        port,
        "--bind",
        "0.0.0.0",
        "--protected-mode",
        "no",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        dir,
    ]
}

/// One node of a bed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// Namespace name.
    pub namespace: String,
    /// Its address on [`NODE_IFACE`].
    pub addr: Ipv4Addr,
    /// Its MAC on [`NODE_IFACE`], lower-case `aa:bb:...` like `ip` prints it.
    pub mac: String,
    /// The far end of its link (a bridge port in the switch namespace, or a router's port).
    port: String,
    /// The namespace that far end is in.
    port_ns: String,
}

/// One entry of a neighbour table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Neighbour {
    /// The neighbour's IP address as `ip` prints it.
    pub ip: String,
    /// Its link-layer address, if resolved.
    pub mac: Option<String>,
    /// NUD state (`REACHABLE`, `STALE`, `FAILED`...).
    pub state: String,
}

/// A set of node namespaces on one bridge. See the module documentation.
///
/// Declare the bed before the [`Process`] guards of what runs in it, so that those are
/// killed (dropped first) before the namespaces are deleted.
#[derive(Debug)]
pub struct TestBed {
    /// Namespaces that are not nodes (the switch, routers), deleted with the bed.
    infra: Vec<String>,
    nodes: Vec<Node>,
    subnet: (u8, u8),
}

impl TestBed {
    /// Builds a bed of `nodes` nodes (1..=250).
    pub fn new(nodes: usize) -> io::Result<TestBed> {
        if !(1..=250).contains(&nodes) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a bed has 1..=250 nodes",
            ));
        }
        let mut bed = TestBed::empty();
        let switch = bed.add_infra("sw")?;
        bridge(&switch)?;
        for i in 0..nodes {
            bed.add_node(i, ((i + 1) as u8, 24), &switch, true)?;
        }
        Ok(bed)
    }

    /// A bed without namespaces yet, with its name base and subnet.
    fn empty() -> TestBed {
        remove_orphans();
        let pid = std::process::id();
        let k = BEDS.fetch_add(1, Ordering::Relaxed);
        // Any private /24 works (nothing leaves the namespaces); vary it for readable captures.
        let subnet = (100 + (pid % 100) as u8, (k % 250) as u8 + 1);
        TestBed {
            infra: vec![format!("{PREFIX}{pid}b{k}")],
            nodes: Vec::new(),
            subnet,
        }
    }

    /// The bed's namespace name base (`wdn<pid>b<k>`).
    fn base(&self) -> &str {
        &self.infra[0]
    }

    /// Creates the infrastructure namespace `<base><name>` (loopback up).
    fn add_infra(&mut self, name: &str) -> io::Result<String> {
        let ns = format!("{}{name}", self.base());
        ip(&["netns", "add", &ns])?;
        self.infra.push(ns.clone());
        ip(&["-n", &ns, "link", "set", "lo", "up"])?;
        Ok(ns)
    }

    /// Creates node `i` with host part `host` of the bed's /24 on a `prefix`-long subnet, its
    /// [`NODE_IFACE`] linked to a port `p<i>` in namespace `port_ns`, plugged into the `br0`
    /// there when `bridged` (else left for the caller to address).
    fn add_node(
        &mut self,
        i: usize,
        (host, prefix): (u8, u8),
        port_ns: &str,
        bridged: bool,
    ) -> io::Result<()> {
        let (a, b) = self.subnet;
        let node = Node {
            namespace: format!("{}n{i}", self.base()),
            addr: Ipv4Addr::new(10, a, b, host),
            mac: format!("02:00:{a:02x}:{b:02x}:00:{host:02x}"),
            port: format!("p{i}"),
            port_ns: port_ns.to_string(),
        };
        ip(&["netns", "add", &node.namespace])?;
        self.nodes.push(node.clone());
        let ns = node.namespace.as_str();
        ip(&[
            "-n", port_ns, "link", "add", &node.port, "type", "veth", "peer", "name", NODE_IFACE,
            "netns", ns,
        ])?;
        if bridged {
            ip(&["-n", port_ns, "link", "set", &node.port, "master", "br0"])?;
        }
        ip(&["-n", port_ns, "link", "set", &node.port, "up"])?;
        ip(&["-n", ns, "link", "set", "lo", "up"])?;
        ip(&["-n", ns, "link", "set", NODE_IFACE, "address", &node.mac])?;
        let cidr = format!("{}/{prefix}", node.addr);
        ip(&["-n", ns, "addr", "add", &cidr, "dev", NODE_IFACE])?;
        ip(&["-n", ns, "link", "set", NODE_IFACE, "up"])?;
        Ok(())
    }

    /// A routed bed (see [`crate::routedbed`]): `racks[r]` nodes behind router `r`, each rack a
    /// /26 of the bed's /24 (router `.64r+1`, nodes from `.64r+11`), routers chained by /30
    /// links from `.128`, and a client node behind the last router on `.160/27` (router `.161`,
    /// client `.170`, routed to the /24 through it: no default route). Nodes are numbered rack
    /// by rack, the client last; routers forward, nodes do not. No routing runs yet.
    pub fn routed(racks: &[usize]) -> io::Result<TestBed> {
        let mut bed = TestBed::empty();
        let (a, b) = bed.subnet;
        let net = |host: u8, prefix: u8| format!("10.{a}.{b}.{host}/{prefix}");
        let mut routers = Vec::new();
        let mut i = 0;
        for (r, &nodes) in racks.iter().enumerate() {
            let router = bed.add_infra(&format!("r{r}"))?;
            ip(&[
                "netns",
                "exec",
                &router,
                "sysctl",
                "-qw",
                "net.ipv4.ip_forward=1",
            ])?;
            bridge(&router)?;
            let base = 64 * r as u8;
            ip(&[
                "-n",
                &router,
                "addr",
                "add",
                &net(base + 1, 26),
                "dev",
                "br0",
            ])?;
            for k in 0..nodes {
                bed.add_node(i, (base + 11 + k as u8, 26), &router, true)?;
                i += 1;
            }
            routers.push(router);
        }
        for (r, pair) in routers.windows(2).enumerate() {
            let (left, right) = (&pair[0], &pair[1]);
            let host = 128 + 4 * r as u8;
            ip(&[
                "-n", left, "link", "add", "up0", "type", "veth", "peer", "name", "down0", "netns",
                right,
            ])?;
            ip(&["-n", left, "addr", "add", &net(host + 1, 30), "dev", "up0"])?;
            ip(&[
                "-n",
                right,
                "addr",
                "add",
                &net(host + 2, 30),
                "dev",
                "down0",
            ])?;
            ip(&["-n", left, "link", "set", "up0", "up"])?;
            ip(&["-n", right, "link", "set", "down0", "up"])?;
        }
        let last = routers
            .last()
            .ok_or_else(|| io::Error::other("no rack"))?
            .clone();
        bed.add_node(i, (170, 27), &last, false)?;
        let port = format!("p{i}");
        ip(&["-n", &last, "addr", "add", &net(161, 27), "dev", &port])?;
        let client = bed.nodes[i].namespace.clone();
        let gateway = format!("10.{a}.{b}.161");
        ip(&["-n", &client, "route", "add", &net(0, 24), "via", &gateway])?;
        Ok(bed)
    }

    /// The routers of a [`TestBed::routed`] bed (namespace names, rack order).
    pub fn routers(&self) -> Vec<&str> {
        self.infra[1..].iter().map(String::as_str).collect()
    }

    /// The `.0` address of the bed's /24 (`10.<a>.<b>.0`).
    pub fn network(&self) -> Ipv4Addr {
        Ipv4Addr::new(10, self.subnet.0, self.subnet.1, 0)
    }

    /// Node `i`.
    pub fn node(&self, i: usize) -> &Node {
        &self.nodes[i]
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// True when the bed has no nodes (never, by construction).
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// An unused address in the bed's subnet (host part `200 + n`), e.g. for a VIP.
    pub fn spare_addr(&self, n: u8) -> Ipv4Addr {
        Ipv4Addr::new(10, self.subnet.0, self.subnet.1, 200u8.saturating_add(n))
    }

    /// A `Command` that runs `program` inside node `i` (`ip netns exec`, which execs the
    /// program, so the child's PID is the program's).
    pub fn command(&self, i: usize, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.nodes[i].namespace, program]);
        c
    }

    /// Runs `program args...` in node `i` and returns its output; a non-zero exit is an error
    /// carrying stderr.
    pub fn exec(&self, i: usize, program: &str, args: &[&str]) -> io::Result<Output> {
        checked(self.command(i, program).args(args))
    }

    /// Runs `ip args...` against node `i`'s namespace (`ip -n <ns> ...`).
    pub fn ip(&self, i: usize, args: &[&str]) -> io::Result<String> {
        let mut full = vec!["-n", self.nodes[i].namespace.as_str()];
        full.extend_from_slice(args);
        ip(&full)
    }

    /// Starts a long-running `program args...` in node `i`, logging to `log_dir`; the guard
    /// kills exactly that PID when dropped.
    pub fn spawn(
        &self,
        i: usize,
        name: &str,
        program: &str,
        args: &[&str],
        log_dir: &Path,
    ) -> io::Result<Process> {
        let mut c = self.command(i, program);
        c.args(args);
        Process::spawn(name, c, log_dir)
    }

    /// Cuts node `i` off the bridge or its router (its far port goes down; the node sees
    /// NO-CARRIER).
    pub fn link_down(&self, i: usize) -> io::Result<()> {
        let node = &self.nodes[i];
        ip(&["-n", &node.port_ns, "link", "set", &node.port, "down"]).map(drop)
    }

    /// Plugs node `i` back in.
    pub fn link_up(&self, i: usize) -> io::Result<()> {
        let node = &self.nodes[i];
        ip(&["-n", &node.port_ns, "link", "set", &node.port, "up"]).map(drop)
    }

    /// Node `i`'s neighbour table (IPv4 and IPv6) on [`NODE_IFACE`].
    pub fn neighbours(&self, i: usize) -> io::Result<Vec<Neighbour>> {
        let text = self.ip(i, &["neigh", "show", "dev", NODE_IFACE])?;
        Ok(text.lines().filter_map(parse_neighbour).collect())
    }

    /// Node `i`'s neighbour entry for `ip`, if any.
    pub fn neighbour(&self, i: usize, ip: &str) -> io::Result<Option<Neighbour>> {
        Ok(self.neighbours(i)?.into_iter().find(|n| n.ip == ip))
    }

    /// Runs `f` on a new thread that first enters node `i`'s network namespace; sockets it
    /// opens belong to that namespace. The thread's error to enter is returned by `join`.
    pub fn spawn_in<T, F>(&self, i: usize, f: F) -> JoinHandle<io::Result<T>>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let path = format!("/run/netns/{}", self.nodes[i].namespace);
        std::thread::spawn(move || {
            enter(&path)?;
            Ok(f())
        })
    }
}

impl Drop for TestBed {
    fn drop(&mut self) {
        for node in &self.nodes {
            let _ = ip(&["netns", "del", &node.namespace]);
        }
        // The first name is the base, not a namespace.
        for ns in &self.infra[1..] {
            let _ = ip(&["netns", "del", ns]);
        }
    }
}

/// Adds an up bridge `br0` in namespace `ns`.
fn bridge(ns: &str) -> io::Result<()> {
    ip(&["-n", ns, "link", "add", "br0", "type", "bridge"])?;
    ip(&["-n", ns, "link", "set", "br0", "up"]).map(drop)
}

/// Moves the calling thread into the network namespace mounted at `path`.
fn enter(path: &str) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let file = std::fs::File::open(path)?;
    // SAFETY: setns on a valid namespace fd; it affects only the calling thread's network
    // namespace.
    if unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) } == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Parses one line of `ip neigh show dev X`: `<ip> [lladdr <mac>] [router] <STATE>`.
fn parse_neighbour(line: &str) -> Option<Neighbour> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let ip = (*words.first()?).to_string();
    let mac = words
        .iter()
        .position(|w| *w == "lladdr")
        .and_then(|p| words.get(p + 1))
        .map(|m| m.to_string());
    let state = (*words.last()?).to_string();
    Some(Neighbour { ip, mac, state })
}

/// Runs `ip args...`, returning stdout, or an error with stderr on a non-zero exit.
fn ip(args: &[&str]) -> io::Result<String> {
    let out = checked(Command::new("ip").args(args))?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn checked(command: &mut Command) -> io::Result<Output> {
    let out = command.output()?;
    if !out.status.success() {
        return Err(io::Error::other(format!(
            "{:?} failed ({}): {}",
            command,
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(out)
}

/// Deletes namespaces named `wdn<pid>b...` whose creating process no longer exists (a test
/// run that was killed before its beds dropped).
fn remove_orphans() {
    let Ok(list) = ip(&["netns", "list"]) else {
        return;
    };
    for name in list.lines().filter_map(|l| l.split_whitespace().next()) {
        let Some(pid) = name
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split('b').next())
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = ip(&["netns", "del", name]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_neighbour_lines() {
        assert_eq!(
            parse_neighbour("10.1.2.3 lladdr 02:00:00:00:00:01 STALE"),
            Some(Neighbour {
                ip: "10.1.2.3".into(),
                mac: Some("02:00:00:00:00:01".into()),
                state: "STALE".into()
            })
        );
        assert_eq!(
            parse_neighbour("fe80::1 lladdr 02:00:00:00:00:02 router REACHABLE"),
            Some(Neighbour {
                ip: "fe80::1".into(),
                mac: Some("02:00:00:00:00:02".into()),
                state: "REACHABLE".into()
            })
        );
        assert_eq!(
            parse_neighbour("10.1.2.4 FAILED"),
            Some(Neighbour {
                ip: "10.1.2.4".into(),
                mac: None,
                state: "FAILED".into()
            })
        );
        assert_eq!(parse_neighbour("   "), None);
    }
}
