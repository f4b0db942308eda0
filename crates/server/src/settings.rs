//! What the server needs from the configuration, decoupled from the config model.

use std::path::PathBuf;
use warden_core::config::{Compat, ServerConfig};

/// The environment variable that overrides `warden-compat` (for test harnesses that write the
/// config file themselves).
pub const COMPAT_ENV: &str = "WARDEN_COMPAT";

/// The compatibility setting in effect: `$WARDEN_COMPAT` when set to a valid value, else the
/// file's `warden-compat`, else the default (Redis 7.0.15).
pub fn effective_compat(config: &ServerConfig) -> Compat {
    std::env::var(COMPAT_ENV)
        .ok()
        .and_then(|name| Compat::from_name(&name))
        .unwrap_or_else(|| config.compat())
}

/// Static settings of the RESP server.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// TCP port.
    pub port: u16,
    /// `bind` addresses; empty means Redis' default `* -::*` (all IPv4, and all IPv6 if
    /// available). A leading `-` marks an address whose bind failure is tolerated.
    pub bind: Vec<String>,
    /// `protected-mode`: when on and the default user has no password, only loopback clients
    /// are served.
    pub protected_mode: bool,
    /// `maxclients`.
    pub maxclients: u32,
    /// `requirepass` (password of the `default` user).
    pub requirepass: Option<String>,
    /// `user ...` lines (the words after `user`).
    pub users: Vec<Vec<String>>,
    /// `aclfile`.
    pub aclfile: Option<PathBuf>,
    /// `acllog-max-len` (default 128).
    pub acllog_max_len: usize,
    /// Absolute path of the config file (INFO `config_file`).
    pub config_file: PathBuf,
    /// Absolute path of the executable (INFO `executable`).
    pub executable: PathBuf,
    /// INFO `process_supervised` (`no`, `systemd`, ...).
    pub supervised: String,
    /// Which upstream surface `COMMAND` and `INFO` present (see [`effective_compat`]).
    pub compat: Compat,
}

impl ServerSettings {
    /// Settings from the parsed generic directives; `config_file` must already be absolute.
    pub fn new(config: &ServerConfig, config_file: PathBuf) -> ServerSettings {
        let acllog_max_len = config
            .other
            .get("acllog-max-len")
            .and_then(|v| v.first())
            .and_then(|v| v.parse().ok())
            .unwrap_or(128);
        ServerSettings {
            port: config.port,
            bind: config.bind.clone(),
            protected_mode: config.protected_mode,
            maxclients: config.maxclients,
            requirepass: config.requirepass.clone(),
            users: config.users.clone(),
            aclfile: config.aclfile.as_ref().map(PathBuf::from),
            acllog_max_len,
            config_file,
            executable: std::env::current_exe().unwrap_or_default(),
            supervised: match config.supervised.as_str() {
                "systemd" | "upstart" => config.supervised.clone(),
                _ => "no".into(),
            },
            compat: effective_compat(config),
        }
    }
}
