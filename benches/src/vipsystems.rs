//! The three failover systems the netns bench compares, each set up on every node of a
//! [`NetBed`] next to that node's `redis-server`:
//!
//! * [`System::Warden`]: `warden` with `sentinel vip <master> <vip> eth0` (the VIP built in);
//! * [`System::WardenRouted`]: `warden` with `sentinel vip <master> <vip> lo routed` on a routed
//!   bed ([`NetBed::routed`]), FRR announcing the VIP by BGP from the node that holds it;
//! * [`System::Seed`]: `redis-sentinel` + keepalived, as in the seed (one VRRP instance,
//!   `virtual_router_id 1`, `advert_int 1`, PASS auth, priority 200 on the initial master and
//!   100 on the replicas);
//! * [`System::ScriptVip`]: `redis-sentinel` with a `client-reconfig-script` that moves the VIP
//!   with `ip addr` + `arping` (the VIP is put on the initial master by hand, as an operator
//!   does: Sentinel never runs the script at start-up).
//!
//! Every sentinel has the seed's `sentinel.conf` (quorum 2, failover-timeout 10000) with the
//! run's down-after.

use std::fmt;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use warden_integration::binaries::{redis_sentinel, warden};

use crate::netbed::{NetBed, NODES, REDIS_PORT, SENTINEL_PORT};

/// The monitored master's name.
pub const MASTER_NAME: &str = "mymaster";
/// Sentinels that must agree the master is down.
pub const QUORUM: u32 = 2;
/// `failover-timeout` of every sentinel (the seed's).
pub const FAILOVER_TIMEOUT_MS: u64 = 10_000;
/// Interface of the VIP in every node.
const IFACE: &str = warden_integration::netns::NODE_IFACE;

/// A failover system under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum System {
    /// Warden with its built-in VIP.
    Warden,
    /// Warden with a routed VIP, on a routed bed.
    WardenRouted,
    /// redis-sentinel + keepalived (the seed's setup).
    Seed,
    /// redis-sentinel + a `client-reconfig-script` moving the VIP.
    ScriptVip,
}

impl System {
    /// The systems on one layer-2 segment (the default set), in table order.
    pub const ALL: [System; 3] = [System::Warden, System::Seed, System::ScriptVip];

    /// The system named `name` on the command line.
    pub fn parse(name: &str) -> Option<System> {
        System::ALL
            .into_iter()
            .chain([System::WardenRouted])
            .find(|s| s.name() == name)
    }

    /// Whether it runs on a routed bed ([`NetBed::routed`]).
    pub fn routed(self) -> bool {
        self == System::WardenRouted
    }

    /// The command-line and JSON name.
    pub fn name(self) -> &'static str {
        match self {
            System::Warden => "warden",
            System::WardenRouted => "warden-routed",
            System::Seed => "seed",
            System::ScriptVip => "script-vip",
        }
    }

    /// The sentinel binary.
    fn sentinel(self) -> io::Result<PathBuf> {
        match self {
            System::Warden | System::WardenRouted => warden(),
            System::Seed | System::ScriptVip => Ok(redis_sentinel()),
        }
    }

    /// Writes node `i`'s configuration files (sentinel, keepalived or the script);
    /// `vip_lease_ms` sets Warden's `vip-lease` (its default, 1 x down-after, when `None`).
    pub fn configure(
        self,
        bed: &NetBed,
        i: usize,
        down_after_ms: u64,
        vip_lease_ms: Option<u64>,
    ) -> io::Result<()> {
        let dir = bed.node_dir(i);
        let vip = bed.vip();
        let mut conf = format!(
            "port {SENTINEL_PORT}\nbind 0.0.0.0\nprotected-mode no\ndir {}\n\
             sentinel monitor {MASTER_NAME} {} {REDIS_PORT} {QUORUM}\n\
             sentinel down-after-milliseconds {MASTER_NAME} {down_after_ms}\n\
             sentinel failover-timeout {MASTER_NAME} {FAILOVER_TIMEOUT_MS}\n\
             sentinel parallel-syncs {MASTER_NAME} 1\n",
            dir.display(),
            bed.addr(0),
        );
        match self {
            System::Warden | System::WardenRouted => {
                let line = if self.routed() {
                    format!("sentinel vip {MASTER_NAME} {vip} lo routed\n")
                } else {
                    format!("sentinel vip {MASTER_NAME} {vip} {IFACE}\n")
                };
                conf.push_str(&line);
                if let Some(lease) = vip_lease_ms {
                    conf.push_str(&format!("sentinel vip-lease {MASTER_NAME} {lease}\n"));
                }
            }
            System::Seed => {
                let priority = if i == 0 { 200 } else { 100 };
                let state = if i == 0 { "MASTER" } else { "BACKUP" };
                std::fs::write(
                    dir.join("keepalived.conf"),
                    format!(
                        "global_defs {{\n  router_id node{i}\n}}\n\
                         vrrp_instance VI_1 {{\n  state {state}\n  interface {IFACE}\n  \
                         virtual_router_id 1\n  priority {priority}\n  advert_int 1\n  \
                         authentication {{\n    auth_type PASS\n    auth_pass redisha\n  }}\n  \
                         virtual_ipaddress {{\n    {vip}/32 dev {IFACE}\n  }}\n}}\n"
                    ),
                )?;
            }
            System::ScriptVip => {
                let script = dir.join("move-vip.sh");
                std::fs::write(
                    &script,
                    format!(
                        "#!/bin/sh\n\
                         # client-reconfig-script: <master> <role> <state> <from-ip> <from-port> <to-ip> <to-port>\n\
                         if [ \"$6\" = \"{me}\" ]; then\n  \
                         ip addr add {vip}/32 dev {IFACE} 2>/dev/null\n  \
                         arping -q -U -c 3 -I {IFACE} {vip}\n\
                         else\n  \
                         ip addr del {vip}/32 dev {IFACE} 2>/dev/null\n\
                         fi\n\
                         exit 0\n",
                        me = bed.addr(i),
                    ),
                )?;
                std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))?;
                conf.push_str(&format!(
                    "sentinel client-reconfig-script {MASTER_NAME} {}\n",
                    script.display()
                ));
            }
        }
        std::fs::write(dir.join("sentinel.conf"), conf)
    }

    /// Starts the system's processes on node `i` (its `redis-server` already runs), with the
    /// configuration files as they are now (a restarted sentinel reads what it rewrote).
    pub fn start(self, bed: &mut NetBed, i: usize) -> io::Result<()> {
        self.start_sentinel(bed, i)?;
        let dir = bed.node_dir(i);
        let path = |name: &str| dir.join(name).to_string_lossy().into_owned();
        if self == System::Seed {
            bed.spawn(
                i,
                "keepalived",
                Path::new("keepalived"),
                &[
                    "-n",
                    "-l",
                    "-D",
                    "--vrrp",
                    "-f",
                    &path("keepalived.conf"),
                    "-p",
                    &path("keepalived.pid"),
                    "-r",
                    &path("vrrp.pid"),
                ],
            )?;
        }
        Ok(())
    }

    /// Starts only the system's sentinel on node `i` (Warden, or redis-sentinel), as `sentinel`,
    /// with its configuration file as it is now.
    pub fn start_sentinel(self, bed: &mut NetBed, i: usize) -> io::Result<()> {
        let conf = bed.node_dir(i).join("sentinel.conf");
        let conf = conf.to_string_lossy().into_owned();
        bed.spawn(i, "sentinel", &self.sentinel()?, &[&conf])
    }

    /// What an operator does once at set-up: the script variant needs the VIP put on the
    /// initial master by hand; the others claim it themselves.
    pub fn place_initial_vip(self, bed: &NetBed) -> io::Result<()> {
        if self != System::ScriptVip {
            return Ok(());
        }
        let vip = bed.vip().to_string();
        bed.bed()
            .ip(0, &["addr", "add", &format!("{vip}/32"), "dev", IFACE])?;
        // arping's exit status says whether anyone answered, which nobody does to a GARP.
        bed.bed()
            .command(0, "arping")
            .args(["-q", "-U", "-c", "1", "-I", IFACE, &vip])
            .output()
            .map(drop)
    }

    /// Sets up and starts the system on every node (see [`System::configure`]).
    pub fn start_all(
        self,
        bed: &mut NetBed,
        down_after_ms: u64,
        vip_lease_ms: Option<u64>,
    ) -> io::Result<()> {
        for i in 0..NODES {
            self.configure(bed, i, down_after_ms, vip_lease_ms)?;
        }
        self.place_initial_vip(bed)?;
        for i in 0..NODES {
            self.start(bed, i)?;
        }
        Ok(())
    }
}

impl fmt::Display for System {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
