//! FRR (`zebra`, `bfdd`, `bgpd`) on the routers and nodes of a routed bed
//! ([`TestBed::routed`]), configured the way docs/vip.md tells operators to run a routed VIP.
//!
//! Every router and node gets its own private AS (routers `65101 + r`, nodes `65111 + i`) and
//! eBGP sessions: node ↔ its rack's router, router ↔ neighbouring router, all with BFD
//! (100 ms × 3) and 1 s / 3 s BGP timers. A node exports exactly the VIP's /32, and only when
//! it originates it (`redistribute connected` filtered to the VIP, outbound policy also
//! requiring an empty AS path, so a node never re-announces what it learnt from its rack);
//! routers take only the VIP from nodes, export their connected subnets, and pass every path
//! between themselves (`addpath-tx-all-paths`), so each router's RIB shows every announcer.
//!
//! Each daemon is a [`Process`] (foreground, by PID) with its sockets, pid files and logs in a
//! directory of its own; `vtysh --vty_socket <dir>` queries it.

use std::io;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::netns::TestBed;
use crate::process::Process;
use crate::wait::wait_until;

/// Where Debian's `frr` package puts the daemons.
pub const FRR_DIR: &str = "/usr/lib/frr";
/// How long the sessions have to come up and the routes to spread.
const CONVERGE_TIMEOUT: Duration = Duration::from_secs(60);
/// The first router's AS; router `r` is `ROUTER_AS + r`.
pub const ROUTER_AS: u32 = 65101;
/// The first node's AS; node `i` is `NODE_AS + i`.
pub const NODE_AS: u32 = 65111;

/// Why FRR cannot run here, or `None` when it can.
pub fn unavailable() -> Option<String> {
    let missing: Vec<&str> = ["zebra", "bfdd", "bgpd"]
        .into_iter()
        .filter(|d| !Path::new(FRR_DIR).join(d).exists())
        .collect();
    if !missing.is_empty() {
        return Some(format!(
            "FRR is not installed ({} missing in {FRR_DIR}; apt-get install frr)",
            missing.join(", ")
        ));
    }
    match Command::new("vtysh").arg("--help").output() {
        Ok(out) if out.status.success() => None,
        _ => Some("vtysh does not run (apt-get install frr)".into()),
    }
}

/// The daemons of one namespace.
struct Instance {
    namespace: String,
    dir: PathBuf,
    daemons: Vec<Process>,
    /// Restarts so far (unique log names).
    starts: u32,
}

/// FRR on every router and node (not the client) of a routed bed. Dropping it kills every
/// daemon.
pub struct Fabric {
    routers: Vec<Instance>,
    nodes: Vec<Instance>,
    vip: Ipv4Addr,
}

/// Reads the routers' RIBs from any thread (see [`Fabric::probe`]).
#[derive(Debug, Clone)]
pub struct RibProbe {
    routers: Vec<(String, PathBuf)>,
    vip: Ipv4Addr,
}

impl RibProbe {
    /// The nodes whose announcement of the VIP router `r` holds (every path, best or not, as
    /// the `addpath` sessions carry them), by origin AS; sorted.
    pub fn announcers(&self, r: usize) -> io::Result<Vec<usize>> {
        let (namespace, dir) = &self.routers[r];
        let text = vtysh(namespace, dir, &self.query()).map_err(io::Error::other)?;
        Ok(announcers_in(&text))
    }

    fn query(&self) -> String {
        format!("show ip bgp {}/32 json", self.vip)
    }

    /// Connections to every router's bgpd for quick repeated reads ([`RibReader`]).
    pub fn reader(&self) -> io::Result<RibReader> {
        let conns = self
            .routers
            .iter()
            .map(|(_, dir)| std::os::unix::net::UnixStream::connect(dir.join("bgpd.vty")))
            .collect::<io::Result<Vec<_>>>()?;
        Ok(RibReader {
            conns,
            query: self.query(),
        })
    }

    /// Number of routers.
    pub fn routers(&self) -> usize {
        self.routers.len()
    }
}

/// Reads the routers' view of the VIP over bgpd's own vty sockets (what `vtysh` does: the
/// command line and a NUL out, the output and a four-byte end marker — three NULs and the
/// status — back), a millisecond or two per read instead of a process per query.
pub struct RibReader {
    conns: Vec<std::os::unix::net::UnixStream>,
    query: String,
}

impl RibReader {
    /// The announcing nodes at every router, in router order.
    pub fn read(&mut self) -> io::Result<Vec<Vec<usize>>> {
        use std::io::{Read, Write};
        let mut out = Vec::with_capacity(self.conns.len());
        for conn in &mut self.conns {
            conn.write_all(self.query.as_bytes())?;
            conn.write_all(&[0])?;
            let mut answer = Vec::new();
            let mut buf = [0u8; 4096];
            while !(answer.len() >= 4 && answer[answer.len() - 4..answer.len() - 1] == [0, 0, 0]) {
                let n = conn.read(&mut buf)?;
                if n == 0 {
                    return Err(io::Error::other("bgpd closed its vty"));
                }
                answer.extend_from_slice(&buf[..n]);
            }
            answer.truncate(answer.len() - 4);
            out.push(announcers_in(&String::from_utf8_lossy(&answer)));
        }
        Ok(out)
    }
}

/// A BGP neighbour in a generated configuration.
struct Neighbour {
    addr: Ipv4Addr,
    asn: u32,
    /// A node (only the VIP accepted from it) rather than a router.
    node: bool,
}

impl Fabric {
    /// Configures and starts FRR for a bed built by `TestBed::routed(racks)` whose nodes may
    /// announce `vip`, logging under `dir`, and waits until every session is established and
    /// every node has a route to every other rack and to the client.
    pub fn start(bed: &TestBed, racks: &[usize], vip: Ipv4Addr, dir: &Path) -> io::Result<Fabric> {
        let net = bed.network().octets();
        let host = |h: u8| Ipv4Addr::new(net[0], net[1], net[2], h);
        let rack_of: Vec<usize> = racks
            .iter()
            .enumerate()
            .flat_map(|(r, &n)| std::iter::repeat(r).take(n))
            .collect();
        let routers = bed.routers();
        let mut fabric = Fabric {
            routers: Vec::new(),
            nodes: Vec::new(),
            vip,
        };
        for (r, ns) in routers.iter().enumerate() {
            let mut peers: Vec<Neighbour> = (0..rack_of.len())
                .filter(|&i| rack_of[i] == r)
                .map(|i| Neighbour {
                    addr: bed.node(i).addr,
                    asn: NODE_AS + i as u32,
                    node: true,
                })
                .collect();
            let link = |k: usize, side: u8| host(128 + 4 * k as u8 + side);
            if r > 0 {
                peers.push(Neighbour {
                    addr: link(r - 1, 1),
                    asn: ROUTER_AS + r as u32 - 1,
                    node: false,
                });
            }
            if r + 1 < routers.len() {
                peers.push(Neighbour {
                    addr: link(r, 2),
                    asn: ROUTER_AS + r as u32 + 1,
                    node: false,
                });
            }
            let id = host(64 * r as u8 + 1);
            let conf = router_bgpd(ROUTER_AS + r as u32, id, &peers, bed.network());
            fabric
                .routers
                .push(Instance::start(ns, &dir.join(format!("r{r}")), &conf)?);
        }
        for (i, &r) in rack_of.iter().enumerate() {
            let node = bed.node(i);
            let rack_router = Neighbour {
                addr: host(64 * r as u8 + 1),
                asn: ROUTER_AS + r as u32,
                node: false,
            };
            let conf = node_bgpd(NODE_AS + i as u32, node.addr, &rack_router, vip);
            fabric.nodes.push(Instance::start(
                &node.namespace,
                &dir.join(format!("n{i}")),
                &conf,
            )?);
        }
        fabric.wait_converged(bed, racks)?;
        Ok(fabric)
    }

    fn wait_converged(&self, bed: &TestBed, racks: &[usize]) -> io::Result<()> {
        let all: Vec<&Instance> = self.routers.iter().chain(&self.nodes).collect();
        wait_until(
            CONVERGE_TIMEOUT,
            "every BGP session to be established",
            || {
                for instance in &all {
                    let summary = instance.vtysh("show bgp summary json")?;
                    let peers = json_object(&summary, &["ipv4Unicast", "peers"]);
                    let states: Vec<&str> = peers
                        .as_ref()
                        .and_then(|p| p.as_object())
                        .map(|p| p.values().filter_map(|v| v["state"].as_str()).collect())
                        .unwrap_or_default();
                    if states.is_empty() || states.iter().any(|s| *s != "Established") {
                        return Err(format!("{}: {states:?}", instance.namespace));
                    }
                }
                Ok(())
            },
        )
        .map_err(|e| io::Error::other(format!("{e}\n{}", self.diagnostics())))?;
        // Every node reaches every other rack and the client (connected routes spread by BGP).
        let nodes: usize = racks.iter().sum();
        let client = bed.node(nodes).addr.to_string();
        wait_until(CONVERGE_TIMEOUT, "routes between the racks", || {
            for i in 0..nodes {
                for target in (0..nodes).map(|j| bed.node(j).addr.to_string()) {
                    let route = bed
                        .ip(i, &["route", "get", &target])
                        .map_err(|e| e.to_string())?;
                    if route.contains("unreachable") {
                        return Err(format!("node {i}: {route}"));
                    }
                }
                bed.ip(i, &["route", "get", &client])
                    .map_err(|e| format!("node {i} to the client: {e}"))?;
            }
            Ok(())
        })
        .map_err(|e| io::Error::other(e.to_string()))
    }

    /// A handle that reads the routers' view of the VIP.
    pub fn probe(&self) -> RibProbe {
        RibProbe {
            routers: self
                .routers
                .iter()
                .map(|r| (r.namespace.clone(), r.dir.clone()))
                .collect(),
            vip: self.vip,
        }
    }

    /// The directory of node `i`'s FRR sockets (`vtysh --vty_socket`, `warden doctor
    /// --frr-vty-dir`).
    pub fn node_vty_dir(&self, i: usize) -> &Path {
        &self.nodes[i].dir
    }

    /// Changes node `i`'s running BGP configuration: `lines` in `router bgp <its AS>`,
    /// `address-family ipv4 unicast`.
    pub fn configure_node(&self, i: usize, lines: &[&str]) -> io::Result<()> {
        let node = &self.nodes[i];
        let mut command = Command::new("vtysh");
        command.arg("--vty_socket").arg(&node.dir);
        let asn = format!("router bgp {}", NODE_AS + i as u32);
        for line in ["configure terminal", &asn, "address-family ipv4 unicast"]
            .into_iter()
            .chain(lines.iter().copied())
        {
            command.args(["-c", line]);
        }
        let out = command.output()?;
        if out.status.success() {
            Ok(())
        } else {
            Err(io::Error::other(
                String::from_utf8_lossy(&out.stderr).into_owned(),
            ))
        }
    }

    /// SIGKILLs every FRR daemon of node `i` and reaps them.
    pub fn kill_node(&mut self, i: usize) {
        self.nodes[i].daemons.clear();
    }

    /// Starts node `i`'s FRR again (after [`Fabric::kill_node`], or after something else
    /// killed its daemons: their guards are dropped first), with its configuration as written.
    pub fn restart_node(&mut self, i: usize) -> io::Result<()> {
        self.nodes[i].daemons.clear();
        self.nodes[i].start_daemons()
    }

    /// The last lines of every daemon's log, for failure messages.
    pub fn diagnostics(&self) -> String {
        self.routers
            .iter()
            .chain(&self.nodes)
            .flat_map(|instance| {
                ["zebra", "bfdd", "bgpd"].map(|d| {
                    let log = instance.dir.join(format!("{d}.log"));
                    let text = std::fs::read_to_string(&log).unwrap_or_default();
                    let lines: Vec<&str> = text.lines().collect();
                    let tail = lines[lines.len().saturating_sub(15)..].join("\n");
                    format!("--- {} ---\n{tail}", log.display())
                })
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Instance {
    /// Writes the configurations into `dir` and starts zebra, then bfdd and bgpd, in
    /// namespace `ns`.
    fn start(ns: &str, dir: &Path, bgpd: &str) -> io::Result<Instance> {
        std::fs::create_dir_all(dir)?;
        // The daemons drop their privileges to the `frr` user: their directory must be its.
        let owned = Command::new("chown")
            .args(["frr:frr", &dir.display().to_string()])
            .status()?;
        if !owned.success() {
            return Err(io::Error::other(format!("chown frr {}", dir.display())));
        }
        let log = |d: &str| {
            format!(
                "log file {}/{d}.log\nlog timestamp precision 6\n",
                dir.display()
            )
        };
        std::fs::write(
            dir.join("zebra.conf"),
            format!("hostname {ns}\n{}", log("zebra")),
        )?;
        let bfd = "bfd\n profile fast\n  transmit-interval 100\n  receive-interval 100\n  \
                   detect-multiplier 3\n exit\nexit\n";
        std::fs::write(
            dir.join("bfdd.conf"),
            format!("hostname {ns}\n{}{bfd}", log("bfdd")),
        )?;
        std::fs::write(
            dir.join("bgpd.conf"),
            format!("hostname {ns}\n{}{bgpd}", log("bgpd")),
        )?;
        let mut instance = Instance {
            namespace: ns.to_string(),
            dir: dir.to_path_buf(),
            daemons: Vec::new(),
            starts: 0,
        };
        instance.start_daemons()?;
        Ok(instance)
    }

    fn start_daemons(&mut self) -> io::Result<()> {
        self.starts += 1;
        let dir = self.dir.display().to_string();
        let zserv = format!("{dir}/zserv.api");
        for daemon in ["zebra", "bfdd", "bgpd"] {
            let mut command = Command::new("ip");
            command.args(["netns", "exec", &self.namespace]);
            command.arg(Path::new(FRR_DIR).join(daemon));
            command.args(["-z", &zserv, "--vty_socket", &dir, "-P", "0"]);
            command.args(["-f", &format!("{dir}/{daemon}.conf")]);
            command.args(["-i", &format!("{dir}/{daemon}.pid")]);
            if daemon == "bfdd" {
                command.args(["--bfdctl", &format!("{dir}/bfdd.sock")]);
            }
            let name = format!("{daemon}-{}", self.starts);
            self.daemons
                .push(Process::spawn(&name, command, &self.dir)?);
            if daemon == "zebra" {
                wait_until(Duration::from_secs(10), "zebra's API socket", || {
                    if Path::new(&zserv).exists() {
                        Ok(())
                    } else {
                        Err("not yet".to_string())
                    }
                })
                .map_err(|e| io::Error::other(e.to_string()))?;
            }
        }
        Ok(())
    }

    /// Runs one `vtysh` command against this instance.
    fn vtysh(&self, command: &str) -> Result<String, String> {
        vtysh(&self.namespace, &self.dir, command)
    }
}

/// Runs one `vtysh` command against the daemons whose sockets are in `dir` (of `namespace`).
fn vtysh(namespace: &str, dir: &Path, command: &str) -> Result<String, String> {
    let out = Command::new("vtysh")
        .args(["--vty_socket", &dir.display().to_string(), "-c", command])
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "vtysh -c {command:?} in {namespace}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A router's `bgpd.conf`: take the VIPs from nodes, export connected subnets of `network`'s
/// /24, pass every path between routers.
fn router_bgpd(asn: u32, id: Ipv4Addr, peers: &[Neighbour], network: Ipv4Addr) -> String {
    let mut c = format!(
        "ip prefix-list HOSTS seq 10 permit {network}/24 ge 32\n\
         ip prefix-list LAB seq 10 permit {network}/24 le 30\n\
         route-map FROM-NODE permit 10\n match ip address prefix-list HOSTS\nexit\n\
         route-map CONNECTED permit 10\n match ip address prefix-list LAB\nexit\n\
         route-map ALL permit 10\nexit\n\
         router bgp {asn}\n bgp router-id {id}\n bgp log-neighbor-changes\n\
         \x20bgp bestpath as-path multipath-relax\n timers bgp 1 3\n"
    );
    for p in peers {
        c.push_str(&format!(
            " neighbor {a} remote-as {asn}\n neighbor {a} bfd profile fast\n neighbor {a} timers connect 1\n",
            a = p.addr,
            asn = p.asn
        ));
    }
    c.push_str(" address-family ipv4 unicast\n  redistribute connected route-map CONNECTED\n  maximum-paths 4\n");
    for p in peers {
        let a = p.addr;
        if p.node {
            c.push_str(&format!("  neighbor {a} route-map FROM-NODE in\n"));
        } else {
            c.push_str(&format!(
                "  neighbor {a} route-map ALL in\n  neighbor {a} addpath-tx-all-paths\n"
            ));
        }
        c.push_str(&format!("  neighbor {a} route-map ALL out\n"));
    }
    c.push_str(" exit-address-family\nexit\n");
    c
}

/// A node's `bgpd.conf`, as docs/vip.md shows it: export the VIP's /32 when this node
/// originates it, nothing else; take everything from the rack.
fn node_bgpd(asn: u32, id: Ipv4Addr, rack: &Neighbour, vip: Ipv4Addr) -> String {
    format!(
        "ip prefix-list VIP seq 10 permit {vip}/32\n\
         bgp as-path access-list LOCAL permit ^$\n\
         route-map VIP permit 10\n match ip address prefix-list VIP\nexit\n\
         route-map VIP-OUT permit 10\n match ip address prefix-list VIP\n match as-path LOCAL\nexit\n\
         route-map FROM-RACK permit 10\nexit\n\
         router bgp {asn}\n bgp router-id {id}\n bgp log-neighbor-changes\n timers bgp 1 3\n\
         \x20neighbor {r} remote-as {rasn}\n neighbor {r} bfd profile fast\n neighbor {r} timers connect 1\n\
         \x20address-family ipv4 unicast\n  redistribute connected route-map VIP\n\
         \x20 neighbor {r} route-map VIP-OUT out\n  neighbor {r} route-map FROM-RACK in\n\
         \x20exit-address-family\nexit\n",
        r = rack.addr,
        rasn = rack.asn
    )
}

/// The value at `path` in a JSON document, if it parses and has one.
fn json_object(text: &str, path: &[&str]) -> Option<serde_json::Value> {
    let mut value: serde_json::Value = serde_json::from_str(text).ok()?;
    for key in path {
        value = value.get(key)?.clone();
    }
    Some(value)
}

/// The announcing nodes in `show ip bgp <prefix> json`: each path's origin AS (the last of its
/// AS path) that is a node's; sorted, without duplicates.
fn announcers_in(text: &str) -> Vec<usize> {
    let paths = json_object(text, &["paths"]).unwrap_or_default();
    let mut nodes: Vec<usize> = paths
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(|p| p["aspath"]["string"].as_str())
        .filter_map(|s| s.split_whitespace().last()?.parse::<u32>().ok())
        .filter_map(|asn| asn.checked_sub(NODE_AS).map(|i| i as usize))
        .collect();
    nodes.sort_unstable();
    nodes.dedup();
    nodes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn announcers_are_the_origin_ases_of_every_path() {
        let two = r#"{"prefix":"10.1.2.250/32","paths":[
            {"aspath":{"string":"65101 65111"},"bestpath":{"overall":true}},
            {"aspath":{"string":"65101 65112"}},
            {"aspath":{"string":"65111"}}]}"#;
        assert_eq!(announcers_in(two), vec![0, 1]);
        assert_eq!(announcers_in("{}"), Vec::<usize>::new());
        assert_eq!(announcers_in("% Network not in table"), Vec::<usize>::new());
    }
}
