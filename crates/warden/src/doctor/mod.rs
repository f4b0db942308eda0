//! `warden doctor <config>`: what would break a deployment, found before it does (issue 14).
//!
//! Checks, in order: the config file loads (read only: the doctor writes nothing, so it can
//! run beside the sentinel that owns the file); for each master, its Redis answers at the
//! configured address with the configured credentials, and its ACL user may run every command
//! Warden sends it ([`COMMANDS`], renamed as `rename-command` says: each is queued in a
//! transaction that is then discarded, so nothing runs but the ACL check); for each VIP, the
//! interface exists and is up, the prefix is a host route, the process has the capabilities,
//! ARP is answered only for the interface's own addresses when several interfaces share the
//! VIP's segment, and Redis listens where clients through the VIP arrive; the known peer
//! sentinels answer; for a routed VIP, its interface does not answer ARP and the routing daemon
//! would announce it ([`frr`]). One line per finding, `FAIL` (a failover or the VIP would break) or
//! `WARN` (risky), with what to change; nothing on a good setup. Exit status 1 if anything
//! failed. Links over TLS (`tls-replication`) are not checked (said so).

mod frr;

use crate::cli::DoctorArgs;
use crate::conffile::{self, LoadError};
use crate::links::codec::{decode_frame, encode_commands, FrameScanner};
use crate::sys::{host_interfaces, IfAddr};
use bytes::{Bytes, BytesMut};
use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;
use warden_core::config::{MasterConfig, SentinelConfig, ServerConfig, VipConfig, VipMode};
use warden_core::Reply;

/// Connect, read and write timeout of every check.
const TIMEOUT: Duration = Duration::from_secs(2);

/// Every command Warden sends a monitored Redis (master or replica), with arguments of the
/// right arity (their values do not matter: the commands are only queued).
pub const COMMANDS: [&[&str]; 13] = [
    &["PING"],
    &["INFO"],
    &["PUBLISH", "__sentinel__:hello", "doctor"],
    &["CLIENT", "SETNAME", "sentinel-doctor"],
    &["CLIENT", "KILL", "TYPE", "normal"],
    &["CLIENT", "KILL", "TYPE", "pubsub"],
    &["CLIENT", "KILL", "LADDR", "127.0.0.1:6379"],
    &["SLAVEOF", "NO", "ONE"],
    &["SLAVEOF", "127.0.0.1", "6379"],
    &["CONFIG", "REWRITE"],
    &["SCRIPT", "KILL"],
    &["FAILOVER", "TO", "127.0.0.1", "6379", "TIMEOUT", "1000"],
    &["SUBSCRIBE", "__sentinel__:hello"],
];

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Risky; works today.
    Warn,
    /// A failover, the VIP or start-up would break.
    Fail,
}

/// One problem found, with what to change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// How bad.
    pub severity: Severity,
    /// What it is about (`config`, `master mymaster`, `vip 10.0.0.100`...).
    pub subject: String,
    /// What is wrong and what to do.
    pub text: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let level = match self.severity {
            Severity::Warn => "WARN",
            Severity::Fail => "FAIL",
        };
        write!(f, "{level} {}: {}", self.subject, self.text)
    }
}

/// Collected findings.
#[derive(Default)]
struct Report(Vec<Finding>);

impl Report {
    fn add(&mut self, severity: Severity, subject: &str, text: String) {
        self.0.push(Finding {
            severity,
            subject: subject.to_string(),
            text,
        });
    }
}

/// Run every check `args` asks for and print the findings; exit 1 if one is a failure.
pub fn run(args: &DoctorArgs) -> ExitCode {
    let findings = check(&args.config, &args.frr_vty_dir);
    for finding in &findings {
        println!("{finding}");
    }
    if findings.iter().any(|f| f.severity == Severity::Fail) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Every finding about the deployment `config` describes (FRR's vty sockets in `frr_vty_dir`,
/// for routed VIPs).
pub fn check(config: &Path, frr_vty_dir: &Path) -> Vec<Finding> {
    let mut report = Report::default();
    let loaded = match conffile::read(Some(config), "") {
        Ok(loaded) => loaded,
        Err(LoadError::Invalid(e)) => {
            let text = format!(
                "{}:{}: {} (>>> '{}')",
                config.display(),
                e.line,
                e.reason,
                e.text
            );
            report.add(Severity::Fail, "config", text);
            return report.0;
        }
        Err(e) => {
            report.add(Severity::Fail, "config", e.to_string());
            return report.0;
        }
    };
    let (server, sentinel) = (&loaded.parsed.server, &loaded.parsed.sentinel);
    let tls_links = server
        .other
        .get("tls-replication")
        .is_some_and(|v| v.first().is_some_and(|v| v == "yes"));
    let interfaces = host_interfaces();
    for m in &sentinel.masters {
        let subject = format!("master {}", m.name);
        if tls_links {
            report.add(
                Severity::Warn,
                &subject,
                "links use TLS (tls-replication yes): Redis and the peers were not checked".into(),
            );
        } else {
            check_redis(&mut report, &subject, m);
            check_peers(&mut report, &subject, m, sentinel);
        }
        if let Some(vip) = &m.vip {
            check_vip(&mut report, m, vip, &interfaces);
            if vip.mode == VipMode::Routed {
                let subject = format!("vip {} of {}", vip.addr_spec(), m.name);
                for (severity, text) in frr::check(vip, frr_vty_dir) {
                    report.add(severity, &subject, text);
                }
            }
        }
    }
    check_metrics(&mut report, server);
    report.0
}

/// The monitored Redis: reachable, the credentials accepted, every command allowed, and
/// listening where clients through the VIP arrive.
fn check_redis(report: &mut Report, subject: &str, m: &MasterConfig) {
    let mut conn = match Conn::open(&m.host, m.port) {
        Ok(conn) => conn,
        Err(e) => {
            report.add(
                Severity::Fail,
                subject,
                format!(
                    "cannot reach Redis at {}:{} ({}): start it, or correct `sentinel monitor {}`",
                    m.host,
                    m.port,
                    warden_server::strerror(&e),
                    m.name
                ),
            );
            return;
        }
    };
    let auth: Vec<&str> = match (&m.auth_user, &m.auth_pass) {
        (Some(user), Some(pass)) => vec!["AUTH", user, pass],
        (None, Some(pass)) => vec!["AUTH", pass],
        _ => Vec::new(),
    };
    if !auth.is_empty() {
        if let Ok(Reply::Error(e)) = conn.call(&auth) {
            report.add(
                Severity::Fail,
                subject,
                format!("Redis refuses the credentials ({e}): correct `sentinel auth-user` / `sentinel auth-pass {}`", m.name),
            );
            return;
        }
    }
    match conn.call(&["PING"]) {
        Ok(Reply::Error(e)) if e.starts_with("NOAUTH") => {
            report.add(
                Severity::Fail,
                subject,
                format!(
                    "Redis asks for a password ({e}): set `sentinel auth-pass {}`",
                    m.name
                ),
            );
            return;
        }
        Err(e) => {
            report.add(
                Severity::Fail,
                subject,
                format!("Redis does not answer PING: {e}"),
            );
            return;
        }
        Ok(_) => {}
    }
    check_commands(report, subject, m, &mut conn);
    if let Some(vip) = &m.vip {
        check_bind(report, subject, vip, &mut conn);
    }
}

/// The name Warden sends `command` under (`rename-command` of the master's config).
fn renamed<'a>(m: &'a MasterConfig, command: &'a str) -> &'a str {
    m.renamed_commands
        .iter()
        .find(|(from, _)| from.eq_ignore_ascii_case(command))
        .map_or(command, |(_, to)| to.as_str())
}

/// Queue each of [`COMMANDS`] in a transaction, then discard it: a `NOPERM` or unknown
/// command at queue time is a command Warden could not run during a failover.
fn check_commands(report: &mut Report, subject: &str, m: &MasterConfig, conn: &mut Conn) {
    let user = m.auth_user.as_deref().unwrap_or("default");
    let multi = renamed(m, "MULTI");
    match conn.call(&[multi]) {
        Ok(Reply::Error(e)) => {
            report.add(
                Severity::Fail,
                subject,
                format!("user {user} may not run MULTI ({e}): Warden promotes replicas in a transaction; allow it"),
            );
            return;
        }
        Err(e) => {
            report.add(Severity::Fail, subject, format!("MULTI failed: {e}"));
            return;
        }
        Ok(_) => {}
    }
    let mut refused = Vec::new();
    for command in COMMANDS {
        let mut words = command.to_vec();
        words[0] = renamed(m, command[0]);
        match conn.call(&words) {
            Ok(Reply::Error(e)) if e.starts_with("NOPERM") || e.contains("unknown command") => {
                refused.push(format!("{} ({e})", command.join(" ")))
            }
            Ok(_) => {}
            Err(e) => {
                report.add(
                    Severity::Fail,
                    subject,
                    format!("{}: {e}", command.join(" ")),
                );
                return;
            }
        }
    }
    let _ = conn.call(&[renamed(m, "DISCARD")]);
    // EXEC of an empty transaction runs nothing.
    let exec = renamed(m, "EXEC");
    let exec_refused = conn.call(&[multi]).is_ok()
        && matches!(conn.call(&[exec]), Ok(Reply::Error(e)) if e.starts_with("NOPERM"));
    if exec_refused {
        refused.push("EXEC".into());
    }
    if !refused.is_empty() {
        report.add(
            Severity::Fail,
            subject,
            format!(
                "user {user} may not run what Warden sends during a failover: {}; \
                 allow them (or fix `sentinel rename-command {}`)",
                refused.join(", "),
                m.name
            ),
        );
    }
}

/// Redis must accept connections to the VIP: listening on every address, or on the VIP itself
/// (which then needs `net.ipv4.ip_nonlocal_bind=1` on the hosts not holding it).
fn check_bind(report: &mut Report, subject: &str, vip: &VipConfig, conn: &mut Conn) {
    let Ok(reply) = conn.call(&["CONFIG", "GET", "bind"]) else {
        return;
    };
    let Some(bind) = reply
        .pairs()
        .into_iter()
        .find(|(k, _)| k == "bind")
        .map(|(_, v)| v)
    else {
        // CONFIG not allowed to this user: nothing to say.
        return;
    };
    let words: Vec<&str> = bind
        .split_whitespace()
        .map(|w| w.trim_start_matches('-'))
        .collect();
    let any = words.is_empty()
        || words
            .iter()
            .any(|w| matches!(*w, "*" | "0.0.0.0" | "::" | "::*"));
    let vip_ip = vip.addr.to_string();
    if any {
        return;
    }
    if !words.contains(&vip_ip.as_str()) {
        report.add(
            Severity::Fail,
            subject,
            format!("Redis listens on {bind} only: clients through the VIP {vip_ip} cannot connect; add the VIP to `bind` (or bind to *)"),
        );
    } else if sysctl(&format!(
        "net/ipv{}/ip_nonlocal_bind",
        if vip.addr.is_ipv4() { 4 } else { 6 }
    ))
    .as_deref()
        != Some("1")
    {
        report.add(
            Severity::Warn,
            subject,
            format!("Redis binds the VIP {vip_ip}: on a node without the VIP it only starts with net.ipv4.ip_nonlocal_bind=1 (sysctl)"),
        );
    }
}

/// The peers named by `sentinel known-sentinel` lines answer PING with the sentinel
/// credentials.
fn check_peers(report: &mut Report, subject: &str, m: &MasterConfig, s: &SentinelConfig) {
    for (host, port, runid) in &m.known_sentinels {
        let answer = Conn::open(host, *port).and_then(|mut conn| {
            if let Some(pass) = &s.sentinel_pass {
                let user = s.sentinel_user.as_deref().unwrap_or("default");
                conn.call(&["AUTH", user, pass])?;
            }
            conn.call(&["PING"])
        });
        match answer {
            Ok(Reply::Status(pong)) if pong == "PONG" => {}
            other => {
                let why = match other {
                    Ok(reply) => format!("{reply:?}"),
                    Err(e) => warden_server::strerror(&e),
                };
                report.add(
                    Severity::Warn,
                    subject,
                    format!("the known sentinel {runid} at {host}:{port} does not answer PING ({why}): start it, open the port, or check sentinel-user/sentinel-pass"),
                );
            }
        }
    }
}

/// The host side of a VIP: interface, prefix, capabilities, ARP behaviour.
fn check_vip(report: &mut Report, m: &MasterConfig, vip: &VipConfig, interfaces: &[IfAddr]) {
    let subject = format!("vip {} of {}", vip.addr_spec(), m.name);
    let iface = &vip.interface;
    let sys = Path::new("/sys/class/net").join(iface);
    if !sys.exists() {
        let mut known: Vec<&str> = interfaces.iter().map(|a| a.interface.as_str()).collect();
        known.sort_unstable();
        known.dedup();
        report.add(
            Severity::Fail,
            &subject,
            format!(
                "no interface {iface} on this host (it has {}): correct `sentinel vip {}`",
                known.join(", "),
                m.name
            ),
        );
        return;
    }
    let flags = std::fs::read_to_string(sys.join("flags"))
        .ok()
        .and_then(|f| u32::from_str_radix(f.trim().trim_start_matches("0x"), 16).ok())
        .unwrap_or(0);
    if flags & libc::IFF_UP as u32 == 0 {
        report.add(
            Severity::Fail,
            &subject,
            format!("interface {iface} is down: bring it up (ip link set {iface} up)"),
        );
    }
    if !vip.is_host_route() {
        let host_route = if vip.addr.is_ipv4() { 32 } else { 128 };
        report.add(
            Severity::Warn,
            &subject,
            format!("prefix /{} adds a subnet route with the VIP on every claim; /{host_route} is enough for an address that moves", vip.prefix),
        );
    }
    if let Err(e) = warden_vip::check_capabilities() {
        report.add(Severity::Fail, &subject, e.to_string());
    }
    match vip.mode {
        VipMode::Arp if vip.addr.is_ipv4() => check_arp(report, &subject, vip, interfaces),
        VipMode::Arp => {}
        VipMode::Routed => {
            // A routed VIP on a link that answers ARP is also reachable on that segment, at
            // whichever node answers for it.
            let quiet = flags & (libc::IFF_NOARP | libc::IFF_LOOPBACK) as u32 != 0;
            if !quiet {
                report.add(
                    Severity::Warn,
                    &subject,
                    format!(
                        "a routed VIP on {iface}, which answers ARP: put it on a dummy interface                          (ip link add vip0 type dummy) or on lo"
                    ),
                );
            }
        }
    }
}

/// With several interfaces on the VIP's segment, Linux answers ARP for any of its addresses on
/// every one of them (the "ARP flux"): clients may learn the VIP at the wrong MAC unless
/// `arp_ignore=1` and `arp_announce=2`.
fn check_arp(report: &mut Report, subject: &str, vip: &VipConfig, interfaces: &[IfAddr]) {
    let Some(own) = interfaces
        .iter()
        .find(|a| a.interface == vip.interface && a.addr.is_ipv4() && a.addr != vip.addr)
    else {
        return;
    };
    let segment = |a: &IfAddr| same_subnet(a.addr, own.addr, own.prefix);
    let mut on_segment: Vec<&str> = interfaces
        .iter()
        .filter(|a| a.interface != vip.interface && a.addr.is_ipv4() && segment(a))
        .map(|a| a.interface.as_str())
        .collect();
    on_segment.sort_unstable();
    on_segment.dedup();
    if on_segment.is_empty() {
        return;
    }
    let value = |name: &str| {
        let all = sysctl(&format!("net/ipv4/conf/all/{name}")).and_then(|v| v.parse::<u8>().ok());
        let own = sysctl(&format!("net/ipv4/conf/{}/{name}", vip.interface))
            .and_then(|v| v.parse::<u8>().ok());
        all.max(own).unwrap_or(0)
    };
    if value("arp_ignore") < 1 || value("arp_announce") < 2 {
        report.add(
            Severity::Warn,
            subject,
            format!(
                "{} share the segment of {}: set net.ipv4.conf.all.arp_ignore=1 and net.ipv4.conf.all.arp_announce=2, or clients may reach the VIP at the wrong interface",
                on_segment.join(", "),
                vip.interface
            ),
        );
    }
}

fn same_subnet(a: IpAddr, b: IpAddr, prefix: u8) -> bool {
    match (a, b) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            let mask = u32::MAX
                .checked_shl(32 - u32::from(prefix.min(32)))
                .unwrap_or(0);
            u32::from(a) & mask == u32::from(b) & mask
        }
        _ => false,
    }
}

/// The metrics port must be free (Warden would not start otherwise).
fn check_metrics(report: &mut Report, server: &ServerConfig) {
    let port = server.metrics_port();
    if port == 0 {
        return;
    }
    if std::net::TcpListener::bind(("0.0.0.0", port)).is_err() {
        report.add(
            Severity::Fail,
            "metrics-port",
            format!("port {port} is taken by another process: choose another metrics-port"),
        );
    }
}

/// A sysctl's value (`net/ipv4/...` path under /proc/sys).
fn sysctl(path: &str) -> Option<String> {
    std::fs::read_to_string(Path::new("/proc/sys").join(path))
        .ok()
        .map(|v| v.trim().to_string())
}

/// A blocking RESP connection with timeouts.
struct Conn {
    stream: TcpStream,
    inbuf: BytesMut,
}

impl Conn {
    fn open(host: &str, port: u16) -> io::Result<Conn> {
        let mut last = io::Error::new(io::ErrorKind::NotFound, format!("no address for {host}"));
        for addr in (host, port).to_socket_addrs()? {
            match Conn::connect(addr) {
                Ok(conn) => return Ok(conn),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    fn connect(addr: SocketAddr) -> io::Result<Conn> {
        let stream = TcpStream::connect_timeout(&addr, TIMEOUT)?;
        stream.set_read_timeout(Some(TIMEOUT))?;
        stream.set_write_timeout(Some(TIMEOUT))?;
        Ok(Conn {
            stream,
            inbuf: BytesMut::new(),
        })
    }

    fn call(&mut self, words: &[&str]) -> io::Result<Reply> {
        let command: Vec<Bytes> = words
            .iter()
            .map(|w| Bytes::copy_from_slice(w.as_bytes()))
            .collect();
        let mut out = BytesMut::new();
        encode_commands(&mut out, &[command]);
        self.stream.write_all(&out)?;
        let mut scanner = FrameScanner::default();
        loop {
            let invalid = |e: &dyn std::fmt::Display| {
                io::Error::new(io::ErrorKind::InvalidData, e.to_string())
            };
            if let Some(len) = scanner.scan(&self.inbuf).map_err(|e| invalid(&e))? {
                let frame = self.inbuf.split_to(len).freeze();
                return decode_frame(&frame).map_err(|e| invalid(&e));
            }
            let mut chunk = [0u8; 4096];
            let n = self.stream.read(&mut chunk)?;
            if n == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            self.inbuf.extend_from_slice(&chunk[..n]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subnets_compare_by_prefix() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(same_subnet(ip("10.0.0.5"), ip("10.0.0.200"), 24));
        assert!(!same_subnet(ip("10.0.1.5"), ip("10.0.0.200"), 24));
        assert!(same_subnet(ip("10.9.9.9"), ip("192.168.0.1"), 0));
        assert!(!same_subnet(ip("::1"), ip("::1"), 64));
    }

    #[test]
    fn findings_read_as_one_line_each() {
        let f = Finding {
            severity: Severity::Fail,
            subject: "master m".into(),
            text: "cannot reach".into(),
        };
        assert_eq!(f.to_string(), "FAIL master m: cannot reach");
    }
}
