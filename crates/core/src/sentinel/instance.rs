//! The instances a sentinel knows: masters, their replicas, and the other sentinels watching
//! them, with the per-instance state Redis Sentinel keeps (flags, timings, what INFO said).

use crate::config::MasterConfig;
use crate::Millis;

/// Key of an instance link in [`super::links::Links`].
pub type LinkKey = u64;

/// What kind of instance an entry describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A monitored master.
    Master,
    /// A replica of a monitored master.
    Replica,
    /// Another sentinel monitoring the same master.
    Sentinel,
}

impl Kind {
    /// The word used in event messages (`master`, `slave`, `sentinel`).
    pub fn word(self) -> &'static str {
        match self {
            Kind::Master => "master",
            Kind::Replica => "slave",
            Kind::Sentinel => "sentinel",
        }
    }
}

/// The role an instance reports in INFO.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// `role:master`
    Master,
    /// `role:slave`
    Slave,
}

/// An instance address: the host as configured/announced and the IP it resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addr {
    /// Host as given (an IP, or a hostname with resolve-hostnames).
    pub hostname: String,
    /// Resolved IP (same as `hostname` when that is already an IP).
    pub ip: String,
    /// TCP port.
    pub port: u16,
}

impl Addr {
    /// Whether this address designates `host:port` (by IP or by hostname).
    pub fn matches(&self, host: &str, port: u16) -> bool {
        self.port == port && (self.ip == host || self.hostname.eq_ignore_ascii_case(host))
    }

    /// Whether two addresses designate the same endpoint.
    pub fn same_as(&self, other: &Addr) -> bool {
        self.matches(&other.ip, other.port) || self.matches(&other.hostname, other.port)
    }

    /// The address as shown to clients and peers: hostname with announce-hostnames, else IP.
    pub fn announced(&self, announce_hostnames: bool) -> &str {
        if announce_hostnames {
            &self.hostname
        } else {
            &self.ip
        }
    }
}

/// Instance flags, each as in Redis Sentinel's `SRI_*` set (printed in this order).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flags {
    /// Subjectively down.
    pub s_down: bool,
    /// Objectively down (masters).
    pub o_down: bool,
    /// A peer sentinel said the master is down (sentinel entries).
    pub master_down: bool,
    /// A failover of this master is in progress.
    pub failover_in_progress: bool,
    /// This replica is the one being promoted.
    pub promoted: bool,
    /// SLAVEOF sent during reconfiguration.
    pub reconf_sent: bool,
    /// Replica points at the promoted master.
    pub reconf_inprog: bool,
    /// Replica's link with the promoted master is up.
    pub reconf_done: bool,
    /// Manual failover (`SENTINEL FAILOVER`).
    pub force_failover: bool,
    /// SCRIPT KILL already sent during this SDOWN.
    pub script_kill_sent: bool,
    /// Master rebooted (run id changed) and has not answered PONG since.
    pub master_reboot: bool,
}

/// One known instance.
#[derive(Debug, Clone)]
pub struct Instance {
    /// Kind of instance.
    pub kind: Kind,
    /// Its address.
    pub addr: Addr,
    /// Run id (from INFO for Redis instances, from hellos for sentinels).
    pub runid: Option<String>,
    /// Its link.
    pub link: LinkKey,
    /// Flags.
    pub flags: Flags,
    /// When SDOWN began (0 if not down).
    pub s_down_since: Millis,
    /// When ODOWN began (0 if not down).
    pub o_down_since: Millis,
    /// `down-after-milliseconds` (copied from the master).
    pub down_after: Millis,
    /// Time of the last INFO reply (0 = never).
    pub info_refresh: Millis,
    /// Last INFO text.
    pub info: Option<String>,
    /// Role reported by INFO.
    pub role_reported: Role,
    /// When that role was first reported.
    pub role_reported_time: Millis,
    /// Last successful hello publish to this instance.
    pub last_pub_time: Millis,
    /// Last hello received from this sentinel.
    pub last_hello_time: Millis,
    /// Last VIP lease confirmation asked of this sentinel.
    pub last_vip_confirm_ask: Millis,
    /// Last valid `is-master-down-by-addr` reply from this sentinel.
    pub last_master_down_reply_time: Millis,
    /// Last `is-master-down-by-addr` sent to this sentinel.
    pub last_ask_time: Millis,
    /// The leader this sentinel voted for, as it told us.
    pub leader: Option<String>,
    /// Epoch of that vote.
    pub leader_epoch: u64,
    /// Replica: ms its link with the master has been down (from INFO).
    pub master_link_down_time: Millis,
    /// Replica: the master it replicates from.
    pub slave_master_host: Option<String>,
    /// Replica: port of the master it replicates from.
    pub slave_master_port: u16,
    /// Replica: `master_link_status:up`.
    pub slave_master_link_up: bool,
    /// Replica: when its master address last changed.
    pub slave_conf_change_time: Millis,
    /// Replica: `slave_priority`.
    pub slave_priority: i64,
    /// Replica: `slave_repl_offset`.
    pub slave_repl_offset: u64,
    /// Replica: `replica_announced`.
    pub replica_announced: bool,
    /// Replica: when SLAVEOF was sent during a failover.
    pub slave_reconf_sent_time: Millis,
    /// Master: when the reboot was detected.
    pub master_reboot_since: Millis,
}

impl Instance {
    /// A peer sentinel's last `is-master-down-by-addr` answer no longer counts: neither its
    /// "down" nor its vote (stale, or about an address the master no longer has).
    pub fn forget_master_down_answer(&mut self) {
        self.flags.master_down = false;
        self.leader = None;
    }

    /// A new instance entry with Redis Sentinel's initial values.
    pub fn new(kind: Kind, addr: Addr, link: LinkKey, down_after: Millis, now: Millis) -> Self {
        Instance {
            kind,
            addr,
            runid: None,
            link,
            flags: Flags::default(),
            s_down_since: 0,
            o_down_since: 0,
            down_after,
            info_refresh: 0,
            info: None,
            role_reported: if kind == Kind::Replica {
                Role::Slave
            } else {
                Role::Master
            },
            role_reported_time: now,
            last_pub_time: now,
            last_hello_time: now,
            last_vip_confirm_ask: 0,
            last_master_down_reply_time: now,
            last_ask_time: 0,
            leader: None,
            leader_epoch: 0,
            master_link_down_time: 0,
            slave_master_host: None,
            slave_master_port: 0,
            slave_master_link_up: false,
            slave_conf_change_time: now,
            slave_priority: 100,
            slave_repl_offset: 0,
            replica_announced: true,
            slave_reconf_sent_time: 0,
            master_reboot_since: 0,
        }
    }

    /// The name used in events and maps: run id for sentinels, `ip:port` for replicas
    /// (`[v6]:port` for IPv6), the configured name for masters (supplied by the caller).
    pub fn name(&self, announce_hostnames: bool) -> String {
        match self.kind {
            Kind::Sentinel => self.runid.clone().unwrap_or_default(),
            _ => {
                let host = self.addr.announced(announce_hostnames);
                if host.contains(':') {
                    format!("[{}]:{}", host, self.addr.port)
                } else {
                    format!("{}:{}", host, self.addr.port)
                }
            }
        }
    }

    /// Whether the instance has been up (not SDOWN/ODOWN) for at least `ms`.
    pub fn no_down_for(&self, ms: Millis, now: Millis) -> bool {
        let most_recent = self.s_down_since.max(self.o_down_since);
        most_recent == 0 || now.saturating_sub(most_recent) > ms
    }
}

/// One master's failover: the attempt in progress, if any, and the times that pace attempts.
#[derive(Debug, Clone, Default)]
pub struct Failover {
    /// Where the attempt stands.
    pub state: FailoverState,
    /// Epoch of the attempt in progress.
    pub epoch: u64,
    /// When the last attempt started (plus the random desync).
    pub start_time: Millis,
    /// When `state` last changed.
    pub state_change_time: Millis,
    /// Warden: no attempt before this time (a small random delay after ODOWN, so sentinels
    /// that reach ODOWN together do not all start and split the vote).
    pub start_after: Millis,
    /// `start_time` for which the "next failover delay" was logged.
    pub delay_logged: Millis,
    /// Warden: when this sentinel last switched the master to the address a peer's failover
    /// promoted (`+config-update-from`), 0 if never. A `SENTINEL FAILOVER` shortly after joins
    /// that failover instead of starting another one (see `commands.rs`).
    pub followed_switch_time: Millis,
    /// Warden: the last failover of this master a peer asked our vote for while we saw the
    /// master up (its run id, epoch and when): a `SENTINEL FAILOVER` right after joins it.
    pub peer_request: Option<(String, u64, Millis)>,
    /// Index into the master's replicas of the replica being promoted.
    pub promoted: Option<usize>,
    /// The attempt is a coordinated switchover (`SENTINEL FAILOVER <name> COORDINATED`): the
    /// old master hands over with Redis's `FAILOVER TO`, losing no write.
    pub coordinated: bool,
}

/// Where a failover stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FailoverState {
    /// No failover.
    #[default]
    None,
    /// Waiting to be elected.
    WaitStart,
    /// Choosing the replica to promote.
    SelectSlave,
    /// Sending SLAVEOF NO ONE.
    SendSlaveofNoone,
    /// Waiting for the replica to report `role:master`.
    WaitPromotion,
    /// Re-pointing the other replicas.
    ReconfSlaves,
    /// Switching the configuration to the promoted replica.
    UpdateConfig,
}

impl FailoverState {
    /// Name shown in the `failover-state` field.
    pub fn name(self) -> &'static str {
        match self {
            FailoverState::None => "none",
            FailoverState::WaitStart => "wait_start",
            FailoverState::SelectSlave => "select_slave",
            FailoverState::SendSlaveofNoone => "send_slaveof_noone",
            FailoverState::WaitPromotion => "wait_promotion",
            FailoverState::ReconfSlaves => "reconf_slaves",
            FailoverState::UpdateConfig => "update_config",
        }
    }
}

/// A monitored master with its replicas, peer sentinels and failover state.
#[derive(Debug, Clone)]
pub struct Master {
    /// Configuration and persisted state (name, quorum, timeouts, epochs, our vote...).
    pub cfg: MasterConfig,
    /// The master instance itself.
    pub inst: Instance,
    /// Known replicas, in discovery order.
    pub replicas: Vec<Instance>,
    /// Known other sentinels, in discovery order.
    pub sentinels: Vec<Instance>,
    /// Its failover: the attempt in progress, if any, and the times between attempts.
    pub failover: Failover,
    /// The fence of its instance not done yet, after this node lost its VIP by the lease
    /// (`sentinel/fence.rs`).
    pub fence: Option<Fence>,
    /// The save generation holding this master's last vote, failover epoch or configuration
    /// change (what its vote replies and failover commands wait for).
    pub saved_generation: u64,
}

impl Master {
    /// The replica being promoted, if any.
    pub fn promoted_replica(&self) -> Option<&Instance> {
        self.failover.promoted.and_then(|i| self.replicas.get(i))
    }

    /// The address clients should use: the promoted replica's once the failover reached
    /// reconf_slaves, else the master's.
    pub fn current_addr(&self) -> &Addr {
        match (self.failover.state, self.promoted_replica()) {
            (FailoverState::ReconfSlaves | FailoverState::UpdateConfig, Some(p)) => &p.addr,
            _ => &self.inst.addr,
        }
    }

    /// Index of the replica at `host:port`.
    pub fn replica_index(&self, host: &str, port: u16) -> Option<usize> {
        self.replicas
            .iter()
            .position(|r| r.addr.matches(host, port))
    }

    /// Index of the sentinel with run id `runid`.
    pub fn sentinel_index(&self, runid: &str) -> Option<usize> {
        self.sentinels
            .iter()
            .position(|s| s.runid.as_deref() == Some(runid))
    }
}

/// A fence not done yet on a master's instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fence {
    /// The address of the fenced instance (the master's when the VIP was lost).
    pub ip: String,
    /// Its port.
    pub port: u16,
    /// When the kill was last sent.
    pub last_sent: Option<Millis>,
}
