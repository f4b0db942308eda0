//! Loading a sentinel config file: Redis 7.0.15's grammar, its generic directives, and the
//! three-phase `sentinel` loader with Redis's exact error texts. Pure: filesystem and DNS
//! checks go through [`ConfigEnv`].

use super::directives::{self, Kind};
use super::tokenize::{atoi, split_args, split_lines, strtoull};
use super::vip::{self, VipMode, VipOption};
use super::{MasterConfig, SentinelConfig, ServerConfig, VipConfig};
use std::collections::HashSet;
use std::fmt;
use std::net::IpAddr;

use crate::REDIS_VERSION;

/// The sentinel directives loaded before any `monitor` line.
const PRE_MONITOR: &[&str] = &[
    "announce-ip",
    "announce-port",
    "deny-scripts-reconfig",
    "sentinel-user",
    "sentinel-pass",
    "current-epoch",
    "myid",
    "resolve-hostnames",
    "announce-hostnames",
];

/// What loading needs from the outside world (the real implementation lives in the binary).
pub trait ConfigEnv {
    /// Whether `path` names an executable file (`access(path, X_OK) == 0`).
    fn is_executable(&self, path: &str) -> bool;
    /// Resolves a hostname (only used with `resolve-hostnames yes`, to warn like Redis).
    fn resolve(&self, host: &str) -> Option<IpAddr>;
    /// Whether `dir` could be entered; `Err(strerror)` otherwise (Redis chdirs while loading).
    fn check_dir(&self, path: &str) -> Result<(), String>;
}

/// A fatal configuration error: where, and Redis's reason text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// 1-based line number in the loaded text (file followed by command-line options).
    pub line: usize,
    /// The offending line, trimmed.
    pub text: String,
    /// Redis's reason, e.g. `No such master with specified name.`.
    pub reason: String,
}

impl ConfigError {
    /// Exactly what redis-sentinel prints on stderr before exiting with status 1.
    pub fn stderr_text(&self) -> String {
        format!("\n{self}\n")
    }

    /// A compact `file:line: reason` form for logs.
    pub fn one_line(&self, file: &str) -> String {
        format!("{file}:{}: {}", self.line, self.reason)
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "*** FATAL CONFIG FILE ERROR (Redis {REDIS_VERSION}) ***\nReading the configuration file, at line {}\n>>> '{}'\n{}",
            self.line, self.text, self.reason
        )
    }
}

impl std::error::Error for ConfigError {}

/// A successfully loaded configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// Generic directives.
    pub server: ServerConfig,
    /// `sentinel` directives.
    pub sentinel: SentinelConfig,
    /// Warnings Redis logs while loading (e.g. `Failed to resolve hostname 'x'`).
    pub warnings: Vec<String>,
}

/// A `sentinel` line queued for the three-phase load.
struct Queued<'a> {
    args: Vec<String>,
    line: usize,
    text: &'a str,
}

/// Parses config text (the file, then command-line options, see [`config_text`]).
///
/// Generic directives are applied in order as Redis does; every `sentinel` line is queued and
/// loaded afterwards in three phases (pre-monitor directives, `monitor`, the rest), so the
/// first error reported is the first generic error, else the first sentinel error in that
/// loading order.
pub fn parse(text: &str, env: &dyn ConfigEnv) -> Result<Parsed, ConfigError> {
    let mut server = ServerConfig::default();
    let mut queue = Vec::new();
    for (i, line) in split_lines(text).into_iter().enumerate() {
        let err = |reason: &str| ConfigError {
            line: i + 1,
            text: line.to_string(),
            reason: reason.to_string(),
        };
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let args =
            split_args(line).ok_or_else(|| err("Unbalanced quotes in configuration line"))?;
        if args.is_empty() {
            continue;
        }
        let name = args[0].to_ascii_lowercase();
        if name == "sentinel" {
            if args.len() > 1 {
                queue.push(Queued {
                    args: args[1..].to_vec(),
                    line: i + 1,
                    text: line,
                });
            }
            continue;
        }
        apply_generic(&mut server, &name, &args, env).map_err(|r| err(&r))?;
    }

    let mut loader = SentinelLoader {
        cfg: SentinelConfig::new(),
        explicit_lease: HashSet::new(),
        warnings: Vec::new(),
    };
    let is_pre = |q: &&Queued| {
        PRE_MONITOR
            .iter()
            .any(|p| p.eq_ignore_ascii_case(&q.args[0]))
    };
    let is_monitor = |q: &&Queued| q.args[0].eq_ignore_ascii_case("monitor");
    let phases = [
        queue.iter().filter(is_pre).collect::<Vec<_>>(),
        queue.iter().filter(is_monitor).collect(),
        queue
            .iter()
            .filter(|q| !is_pre(q) && !is_monitor(q))
            .collect(),
    ];
    for q in phases.into_iter().flatten() {
        loader
            .handle(&q.args, &server, env)
            .map_err(|reason| ConfigError {
                line: q.line,
                text: q.text.to_string(),
                reason: reason.to_string(),
            })?;
    }
    let SentinelLoader {
        mut cfg,
        explicit_lease,
        warnings,
    } = loader;
    for m in &mut cfg.masters {
        if let Some(v) = m.vip.as_mut() {
            if !explicit_lease.contains(&m.name) {
                v.lease_ms = VipConfig::default_lease(m.down_after_ms);
            }
        }
    }
    Ok(Parsed {
        server,
        sentinel: cfg,
        warnings,
    })
}

/// Applies one generic (non-`sentinel`) directive; `name` is lower-case.
fn apply_generic(
    server: &mut ServerConfig,
    name: &str,
    args: &[String],
    env: &dyn ConfigEnv,
) -> Result<(), String> {
    if let Some(d) = directives::lookup(name) {
        let mut values = args[1..].to_vec();
        // Multi-argument directives given as one quoted argument are split again.
        if d.multi_arg && values.len() == 1 && !values[0].is_empty() {
            if let Some(split) = split_args(&values[0]) {
                values = split;
            }
        }
        // Redis 7.2's `loglevel nothing` is accepted, while a bad level gets 7.0.15's error,
        // which lists the four levels it knows.
        if d.name == "loglevel" && values.len() == 1 && values[0].eq_ignore_ascii_case("nothing") {
            server.loglevel = "nothing".into();
            return Ok(());
        }
        let values = d.check(&values)?;
        return apply_known(server, d.name, d.kind, values, env);
    }
    if directives::DEPRECATED.contains(&name) && args.len() == 2 {
        return Ok(());
    }
    match (name, args.len()) {
        ("user", n) if n >= 2 => {
            server.users.push(args[1..].to_vec());
            Ok(())
        }
        ("rename-command", 3) => {
            server.other.insert(name.to_string(), args[1..].to_vec());
            Ok(())
        }
        // Expanded before parsing (`include::expand_includes`); one left here was not.
        ("include", 2) => Err("include must be expanded before parsing".into()),
        ("loadmodule", n) if n >= 2 => Err("loadmodule is not supported by Warden".into()),
        _ => Err("Bad directive or wrong number of arguments".into()),
    }
}

/// Stores a validated directive value into its typed field, or into `other`.
fn apply_known(
    server: &mut ServerConfig,
    name: &str,
    kind: Kind,
    values: Vec<String>,
    env: &dyn ConfigEnv,
) -> Result<(), String> {
    let v = values.first().cloned().unwrap_or_default();
    let yes = v == "yes";
    let non_empty = |v: String| if v.is_empty() { None } else { Some(v) };
    match name {
        "port" => server.port = v.parse().unwrap_or_default(),
        "bind" => {
            if values.len() > 16 {
                return Err("Too many bind addresses specified.".into());
            }
            server.bind = if values.len() == 1 && v.is_empty() {
                Vec::new()
            } else {
                values
            };
        }
        "protected-mode" => server.protected_mode = yes,
        "daemonize" => server.daemonize = yes,
        "pidfile" => server.pidfile = non_empty(v),
        "logfile" => server.logfile = v,
        "loglevel" => server.loglevel = v,
        "dir" => {
            let dir = match &server.dir {
                Some(prev) if !v.starts_with('/') => format!("{}/{v}", prev.trim_end_matches('/')),
                _ => v,
            };
            env.check_dir(&dir)?;
            server.dir = Some(dir);
        }
        "supervised" => server.supervised = v,
        "requirepass" => server.requirepass = non_empty(v),
        "aclfile" => server.aclfile = non_empty(v),
        "maxclients" => server.maxclients = v.parse().unwrap_or(server.maxclients),
        _ => {
            let values = match kind {
                Kind::Str {
                    empty_is_null: true,
                    ..
                } if v.is_empty() => {
                    server.other.remove(name);
                    return Ok(());
                }
                _ => values,
            };
            server.other.insert(name.to_string(), values);
        }
    }
    Ok(())
}

/// The sentinel half of loading (Redis's `sentinelHandleConfiguration`).
struct SentinelLoader {
    cfg: SentinelConfig,
    explicit_lease: HashSet<String>,
    warnings: Vec<String>,
}

const UNRECOGNIZED: &str = "Unrecognized sentinel configuration statement.";
const NO_MASTER: &str = "No such master with specified name.";

impl SentinelLoader {
    fn master(&mut self, name: &str) -> Result<&mut MasterConfig, &'static str> {
        self.cfg
            .masters
            .iter_mut()
            .find(|m| m.name == name)
            .ok_or(NO_MASTER)
    }

    /// Validates an instance address like Redis's `createSentinelAddr`: port range, then an IP
    /// literal unless `resolve-hostnames` (then unresolvable names are accepted with a warning).
    fn address(
        &mut self,
        host: &str,
        port: &str,
        env: &dyn ConfigEnv,
    ) -> Result<(String, u16), &'static str> {
        let port = u16::try_from(atoi(port)).map_err(|_| "Invalid port number.")?;
        if self.cfg.resolve_hostnames {
            if host.parse::<IpAddr>().is_err() && env.resolve(host).is_none() {
                self.warnings
                    .push(format!("Failed to resolve hostname '{host}'"));
            }
            return Ok((host.to_string(), port));
        }
        match host.parse::<IpAddr>() {
            Ok(ip) => Ok((ip.to_string(), port)),
            Err(_) => {
                self.warnings
                    .push(format!("Failed to resolve hostname '{host}'"));
                Err("Can't resolve instance hostname.")
            }
        }
    }

    fn handle(
        &mut self,
        argv: &[String],
        server: &ServerConfig,
        env: &dyn ConfigEnv,
    ) -> Result<(), &'static str> {
        let sub = argv[0].to_ascii_lowercase();
        let a = |i: usize| argv[i].as_str();
        match (sub.as_str(), argv.len()) {
            ("monitor", 5) => {
                let quorum = atoi(a(4));
                if quorum <= 0 {
                    return Err("Quorum must be 1 or greater.");
                }
                let (host, port) = self.address(a(2), a(3), env)?;
                if self.cfg.masters.iter().any(|m| m.name == a(1)) {
                    return Err("Duplicate master name.");
                }
                self.cfg
                    .masters
                    .push(MasterConfig::new(a(1), &host, port, quorum as u32));
            }
            ("down-after-milliseconds" | "failover-timeout", 3) => {
                let m = self.master(a(1))?;
                let ms = atoi(a(2));
                if ms <= 0 {
                    return Err("negative or zero time parameter.");
                }
                if sub == "failover-timeout" {
                    m.failover_timeout_ms = ms as u64;
                } else {
                    m.down_after_ms = ms as u64;
                }
            }
            ("parallel-syncs", 3) => self.master(a(1))?.parallel_syncs = i64::from(atoi(a(2))),
            ("notification-script" | "client-reconfig-script", 3) => {
                let path = resolve_in_dir(server, a(2));
                let notification = sub == "notification-script";
                let m = self.master(a(1))?;
                if !env.is_executable(&path) {
                    return Err(if notification {
                        "Notification script seems non existing or non executable."
                    } else {
                        "Client reconfiguration script seems non existing or non executable."
                    });
                }
                if notification {
                    m.notification_script = Some(a(2).to_string());
                } else {
                    m.client_reconfig_script = Some(a(2).to_string());
                }
            }
            ("auth-pass", 3) => self.master(a(1))?.auth_pass = Some(a(2).to_string()),
            ("auth-user", 3) => self.master(a(1))?.auth_user = Some(a(2).to_string()),
            ("current-epoch", 2) => {
                self.cfg.current_epoch = self.cfg.current_epoch.max(strtoull(a(1)))
            }
            ("myid", 2) => {
                if a(1).len() != 40 {
                    return Err("Malformed Sentinel id in myid option.");
                }
                self.cfg.myid = Some(a(1).to_string());
            }
            ("config-epoch", 3) => {
                let m = self.master(a(1))?;
                m.config_epoch = strtoull(a(2));
                let epoch = m.config_epoch;
                self.cfg.current_epoch = self.cfg.current_epoch.max(epoch);
            }
            ("leader-epoch", 3) => self.master(a(1))?.leader_epoch = strtoull(a(2)),
            ("known-slave" | "known-replica", 4) => {
                self.master(a(1))?;
                let addr = self.address(a(2), a(3), env)?;
                let m = self.master(a(1))?;
                if m.known_replicas.contains(&addr) {
                    return Err("Duplicate hostname and port for replica.");
                }
                m.known_replicas.push(addr);
            }
            ("known-sentinel", 4) => {}
            ("known-sentinel", 5) => {
                self.master(a(1))?;
                let (host, port) = self.address(a(2), a(3), env)?;
                let m = self.master(a(1))?;
                if m.known_sentinels.iter().any(|s| s.2 == a(4)) {
                    return Err("Duplicate runid for sentinel.");
                }
                m.known_sentinels.push((host, port, a(4).to_string()));
            }
            ("rename-command", 4) => {
                let m = self.master(a(1))?;
                let old = a(2).to_ascii_uppercase();
                if m.renamed_commands.iter().any(|(o, _)| *o == old) {
                    return Err("Same command renamed multiple times with rename-command.");
                }
                m.renamed_commands.push((old, a(3).to_string()));
            }
            ("announce-ip", 2) => {
                if !a(1).is_empty() {
                    self.cfg.announce_ip = Some(a(1).to_string());
                }
            }
            ("announce-port", 2) => self.cfg.announce_port = atoi(a(1)) as u16,
            ("deny-scripts-reconfig", 2) => {
                self.cfg.deny_scripts_reconfig = yes_no(a(1))
                    .ok_or("Please specify yes or no for the deny-scripts-reconfig options.")?;
            }
            ("sentinel-user", 2) => {
                if !a(1).is_empty() {
                    self.cfg.sentinel_user = Some(a(1).to_string());
                }
            }
            ("sentinel-pass", 2) => {
                if !a(1).is_empty() {
                    self.cfg.sentinel_pass = Some(a(1).to_string());
                }
            }
            ("resolve-hostnames", 2) => {
                self.cfg.resolve_hostnames = yes_no(a(1))
                    .ok_or("Please specify yes or no for the resolve-hostnames option.")?;
            }
            ("announce-hostnames", 2) => {
                self.cfg.announce_hostnames = yes_no(a(1))
                    .ok_or("Please specify yes or no for the announce-hostnames option.")?;
            }
            // Valkey writes (and reads) it as `primary-reboot-down-after-period`.
            ("master-reboot-down-after-period" | "primary-reboot-down-after-period", 3) => {
                let m = self.master(a(1))?;
                let ms = atoi(a(2));
                if ms < 0 {
                    return Err("negative time parameter.");
                }
                m.master_reboot_down_after_period_ms = ms as u64;
            }
            ("vip", 4 | 5) => {
                let m = self.master(a(1))?;
                if m.vip.is_some() {
                    return Err(vip::ERR_DUPLICATE_VIP);
                }
                let (addr, prefix) = vip::parse_vip_addr(a(2))?;
                vip::check_interface(a(3))?;
                let mut v = VipConfig::new(addr, prefix, a(3), m.down_after_ms);
                if argv.len() == 5 {
                    v.set_mode(VipMode::parse(a(4))?)?;
                }
                m.vip = Some(v);
            }
            ("vip-mode", 3) => {
                let m = self.master(a(1))?;
                let v = m.vip.as_mut().ok_or(vip::ERR_NO_VIP)?;
                v.set_mode(VipMode::parse(a(2))?)?;
            }
            (name, 3) if VipOption::from_name(name).is_some() => {
                let Some(opt) = VipOption::from_name(name) else {
                    return Err(UNRECOGNIZED);
                };
                let m = self.master(a(1))?;
                let v = m.vip.as_mut().ok_or(vip::ERR_NO_VIP)?;
                v.set_option(opt, a(2))?;
                if opt == VipOption::Lease {
                    self.explicit_lease.insert(a(1).to_string());
                }
            }
            _ => return Err(UNRECOGNIZED),
        }
        Ok(())
    }
}

/// Redis's `yesnotoi`.
fn yes_no(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("yes") {
        Some(true)
    } else if s.eq_ignore_ascii_case("no") {
        Some(false)
    } else {
        None
    }
}

/// Scripts are checked after Redis has `chdir`ed to `dir`: a relative path is relative to it.
fn resolve_in_dir(server: &ServerConfig, path: &str) -> String {
    match &server.dir {
        Some(dir) if !path.starts_with('/') => format!("{}/{path}", dir.trim_end_matches('/')),
        _ => path.to_string(),
    }
}

/// The command line, split the way redis-server does.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CommandLine {
    /// The config file (first argument when it does not start with `-`), as given.
    pub config_file: Option<String>,
    /// `--name value ...` options as config text, one directive per line.
    pub options: String,
    /// A lone `-` first or last: read more config from stdin.
    pub config_from_stdin: bool,
}

/// Turns `argv[1..]` into a [`CommandLine`] like redis-server: every `--name` starts a new
/// line `name `, following non-`--` arguments are appended quoted (`"value" `); `--save` with no
/// value becomes `save ""` and `--sentinel` with no value a bare `sentinel` line (ignored by
/// the loader). `--name value` inside one argument is taken as is.
pub fn command_line(args: &[String]) -> CommandLine {
    let mut out = CommandLine::default();
    let mut j = 0;
    if let Some(first) = args.first() {
        if !first.starts_with('-') {
            out.config_file = Some(first.clone());
            j = 1;
        }
    }
    let mut handled_last = true;
    let opts = &mut out.options;
    while j < args.len() {
        let arg = &args[j];
        let next_is_option = args.get(j + 1).is_some_and(|n| n.starts_with("--"));
        let last = j + 1 == args.len();
        if arg == "-" && (j == 0 || last) {
            out.config_from_stdin = true;
        } else if handled_last && arg.starts_with("--") {
            if !opts.is_empty() {
                opts.push('\n');
            }
            opts.push_str(&arg[2..]);
            opts.push(' ');
            if split_args(arg).map_or(0, |v| v.len()) == 1 {
                handled_last = false;
                let save = arg.eq_ignore_ascii_case("--save");
                let sentinel = arg.eq_ignore_ascii_case("--sentinel");
                if save && (next_is_option || last) {
                    opts.push_str("\"\"");
                    handled_last = next_is_option;
                } else if sentinel && next_is_option {
                    handled_last = true;
                }
            } else {
                handled_last = true;
            }
        } else {
            opts.push_str(&super::tokenize::repr(arg));
            opts.push(' ');
            handled_last = true;
        }
        j += 1;
    }
    out
}

/// The text Redis loads: the file content (and stdin), then a newline and the options.
pub fn config_text(file_content: &str, options: &str) -> String {
    format!("{file_content}\n{options}")
}
