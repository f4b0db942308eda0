//! The configuration model: what `sentinel.conf` holds, in typed form.
//!
//! [`SentinelConfig`] is everything under `sentinel ...` directives (and thus everything the
//! sentinel persists); [`ServerConfig`] the generic redis.conf directives Warden honours.
//! Parsing (`parse`) and the crash-safe rewrite's text transformation (`rewrite`) are pure
//! functions over text; the driver does the file I/O.

use std::collections::BTreeMap;

mod compat;
mod directives;
pub mod include;
pub mod parse;
pub mod rewrite;
pub mod tokenize;
pub mod vip;

pub use compat::Compat;
pub use include::{expand_includes, Expanded};
pub use parse::{command_line, config_text, parse, CommandLine, ConfigEnv, ConfigError, Parsed};
pub use rewrite::{master_text, rewrite};
pub use vip::{VipMode, VipOption};

/// The SHA-256 digest of `data` as 64 lower-case hex characters (Redis writes `requirepass` as
/// the default user's `#<hash>` password; Warden ranks candidates by it).
pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Defaults from Redis Sentinel 7.0.15.
pub mod defaults {
    /// `down-after-milliseconds` default.
    pub const DOWN_AFTER_MS: u64 = 30_000;
    /// `failover-timeout` default.
    pub const FAILOVER_TIMEOUT_MS: u64 = 180_000;
    /// `parallel-syncs` default.
    pub const PARALLEL_SYNCS: i64 = 1;
    /// Sentinel port.
    pub const PORT: u16 = 26379;
}

/// One `user`-style VIP configuration: `sentinel vip <master> <addr>[/<prefix>] <iface> [opts]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VipConfig {
    /// The virtual address.
    pub addr: std::net::IpAddr,
    /// Prefix length (32/128 when not given).
    pub prefix: u8,
    /// Interface to put it on.
    pub interface: String,
    /// Gratuitous ARP / unsolicited NA frames per burst.
    pub garp_count: u32,
    /// Milliseconds between frames within a burst.
    pub garp_interval_ms: u64,
    /// Delay before the second burst, in ms (0 = none).
    pub garp_repeat_delay_ms: u64,
    /// Periodic refresh while held, in ms (0 = none).
    pub garp_refresh_ms: u64,
    /// Fencing lease in ms: without contact with a majority of sentinels for this long, release.
    pub lease_ms: u64,
    /// How clients reach the address: announced on the segment, or routed by a daemon.
    pub mode: VipMode,
}

/// Per-master configuration and persisted state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MasterConfig {
    /// Master name.
    pub name: String,
    /// Current master host (IP, or hostname with resolve-hostnames).
    pub host: String,
    /// Current master port.
    pub port: u16,
    /// Quorum.
    pub quorum: u32,
    /// `down-after-milliseconds`.
    pub down_after_ms: u64,
    /// `failover-timeout`.
    pub failover_timeout_ms: u64,
    /// `parallel-syncs` (any integer in a file; >0 via SET).
    pub parallel_syncs: i64,
    /// `notification-script`.
    pub notification_script: Option<String>,
    /// `client-reconfig-script`.
    pub client_reconfig_script: Option<String>,
    /// `auth-pass`.
    pub auth_pass: Option<String>,
    /// `auth-user`.
    pub auth_user: Option<String>,
    /// `master-reboot-down-after-period`, Valkey's `primary-reboot-down-after-period` (0 = off).
    pub master_reboot_down_after_period_ms: u64,
    /// `rename-command` table: upper-case original name → new name, in insertion order.
    pub renamed_commands: Vec<(String, String)>,
    /// `config-epoch`.
    pub config_epoch: u64,
    /// `leader-epoch` (epoch of this sentinel's last vote for this master).
    pub leader_epoch: u64,
    /// Run id this sentinel last voted for (not persisted by Redis; kept in memory).
    pub leader: Option<String>,
    /// `known-replica <host> <port>` lines.
    pub known_replicas: Vec<(String, u16)>,
    /// `known-sentinel <host> <port> <runid>` lines.
    pub known_sentinels: Vec<(String, u16, String)>,
    /// Warden extension: the VIP for this master.
    pub vip: Option<VipConfig>,
}

impl MasterConfig {
    /// A freshly monitored master with Redis Sentinel's defaults.
    pub fn new(name: &str, host: &str, port: u16, quorum: u32) -> Self {
        MasterConfig {
            name: name.to_string(),
            host: host.to_string(),
            port,
            quorum,
            down_after_ms: defaults::DOWN_AFTER_MS,
            failover_timeout_ms: defaults::FAILOVER_TIMEOUT_MS,
            parallel_syncs: defaults::PARALLEL_SYNCS,
            notification_script: None,
            client_reconfig_script: None,
            auth_pass: None,
            auth_user: None,
            master_reboot_down_after_period_ms: 0,
            renamed_commands: Vec::new(),
            config_epoch: 0,
            leader_epoch: 0,
            leader: None,
            known_replicas: Vec::new(),
            known_sentinels: Vec::new(),
            vip: None,
        }
    }
}

/// Everything under `sentinel ...` directives.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SentinelConfig {
    /// `myid` (40 hex chars); `None` until generated.
    pub myid: Option<String>,
    /// `current-epoch`.
    pub current_epoch: u64,
    /// `announce-ip` (None = use the link's local address).
    pub announce_ip: Option<String>,
    /// `announce-port` (0 = use `port`).
    pub announce_port: u16,
    /// `deny-scripts-reconfig` (default yes).
    pub deny_scripts_reconfig: bool,
    /// `sentinel-user`.
    pub sentinel_user: Option<String>,
    /// `sentinel-pass`.
    pub sentinel_pass: Option<String>,
    /// `resolve-hostnames`.
    pub resolve_hostnames: bool,
    /// `announce-hostnames`.
    pub announce_hostnames: bool,
    /// The `loglevel` set at run time by `SENTINEL CONFIG SET loglevel` (Redis 7.2+, Valkey),
    /// written by the rewrite in place of the loaded one; `None` until such a change.
    pub loglevel: Option<String>,
    /// Monitored masters, in config order.
    pub masters: Vec<MasterConfig>,
}

impl SentinelConfig {
    /// An empty configuration with Redis Sentinel's defaults (`deny-scripts-reconfig yes`;
    /// note that `Default` gives `false` there).
    pub fn new() -> Self {
        SentinelConfig {
            deny_scripts_reconfig: true,
            ..Default::default()
        }
    }
}

/// Generic (non-`sentinel`) directives that Warden acts on. Every other valid redis.conf
/// directive is accepted and kept verbatim in `other`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// `port` (default 26379).
    pub port: u16,
    /// `bind` addresses (empty = all interfaces, like Redis' default `* -::*`).
    pub bind: Vec<String>,
    /// `protected-mode` (sentinel default no).
    pub protected_mode: bool,
    /// `daemonize`.
    pub daemonize: bool,
    /// `pidfile`.
    pub pidfile: Option<String>,
    /// `logfile` ("" = stdout).
    pub logfile: String,
    /// `loglevel` (debug|verbose|notice|warning|nothing).
    pub loglevel: String,
    /// `dir`.
    pub dir: Option<String>,
    /// `supervised` (no|upstart|systemd|auto).
    pub supervised: String,
    /// `requirepass` (password of the `default` user).
    pub requirepass: Option<String>,
    /// `user ...` ACL rules, each the words after `user`.
    pub users: Vec<Vec<String>>,
    /// `aclfile`.
    pub aclfile: Option<String>,
    /// `maxclients` (default 10000).
    pub maxclients: u32,
    /// Other accepted directives, lower-cased name → arguments, last one wins.
    pub other: BTreeMap<String, Vec<String>>,
}

impl ServerConfig {
    /// The `metrics-port` (0: the HTTP side is off).
    pub fn metrics_port(&self) -> u16 {
        self.other
            .get("metrics-port")
            .and_then(|v| v.first())
            .and_then(|port| port.parse().ok())
            .unwrap_or(0)
    }

    /// The `metrics-bind` addresses (empty: those of `bind`).
    pub fn metrics_bind(&self) -> &[String] {
        self.other.get("metrics-bind").map_or(&[], Vec::as_slice)
    }

    /// The `warden-compat` setting (the default when the file has none).
    pub fn compat(&self) -> Compat {
        self.other
            .get(Compat::DIRECTIVE)
            .and_then(|v| v.first())
            .and_then(|name| Compat::from_name(name))
            .unwrap_or_default()
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            port: defaults::PORT,
            bind: Vec::new(),
            protected_mode: false,
            daemonize: false,
            pidfile: None,
            logfile: String::new(),
            loglevel: "notice".into(),
            dir: None,
            supervised: "no".into(),
            requirepass: None,
            users: Vec::new(),
            aclfile: None,
            maxclients: 10_000,
            other: BTreeMap::new(),
        }
    }
}

#[cfg(test)]
mod parse_tests;
#[cfg(test)]
mod rewrite_tests;
