//! The `SENTINEL` command surface, with Redis Sentinel 7.0.15's replies and error texts, Valkey's
//! primary-named aliases, and Redis 7.2's `SENTINEL CONFIG` where the compatibility setting asks
//! for it (see `Compat`).

use super::detect::Ask;
use super::subcommand::{SentinelCommand, Subcommand as Sub};
use super::{
    Change, Reveals, Sentinel, Which, SIMFAILURE_CRASH_AFTER_ELECTION,
    SIMFAILURE_CRASH_AFTER_PROMOTION,
};
use crate::config::{Compat, MasterConfig};
use crate::glob::glob_match;
use crate::io::{Action, Level};
use crate::reply::Reply;
use crate::Millis;
use bytes::Bytes;

const SAVE_FAILED: &str = "ERR Failed to save config file. Check server logs.";
const NO_SUCH_MASTER: &str = "ERR No such master with that name";
const NOT_INTEGER: &str = "ERR value is not an integer or out of range";

/// Whether `value` holds a control character (0x00-0x1f, 0x7f), which newer Redis and Valkey
/// refuse in names, paths and commands given to `SENTINEL SET/MONITOR/CONFIG SET`.
fn has_control(value: &[u8]) -> bool {
    value.iter().any(|&b| b < 0x20 || b == 0x7f)
}

/// The refusal of a value with a control character.
fn control_error(what: &str) -> Reply {
    Reply::err(format!("ERR {what} must not contain control characters"))
}

const HELP: &[&str] = &[
    "SENTINEL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CKQUORUM <master-name>",
    "    Check if the current Sentinel configuration is able to reach the quorum",
    "    needed to failover a master and the majority needed to authorize the",
    "    failover.",
    "CONFIG SET <param> <value>",
    "    Set a global Sentinel configuration parameter.",
    "CONFIG GET <param>",
    "    Get global Sentinel configuration parameter.",
    "DEBUG [<param> <value> ...]",
    "    Show a list of configurable time parameters and their values (milliseconds).",
    "    Or update current configurable parameters values (one or more).",
    "GET-MASTER-ADDR-BY-NAME <master-name>",
    "    Return the ip and port number of the master with that name.",
    "FAILOVER <master-name>",
    "    Manually failover a master node without asking for agreement from other",
    "    Sentinels",
    "FLUSHCONFIG",
    "    Force Sentinel to rewrite its configuration on disk, including the current",
    "    Sentinel state.",
    "INFO-CACHE <master-name>",
    "    Return last cached INFO output from masters and all its replicas.",
    "IS-MASTER-DOWN-BY-ADDR <ip> <port> <current-epoch> <runid>",
    "    Check if the master specified by ip:port is down from current Sentinel's",
    "    point of view.",
    "MASTER <master-name>",
    "    Show the state and info of the specified master.",
    "MASTERS",
    "    Show a list of monitored masters and their state.",
    "MONITOR <name> <ip> <port> <quorum>",
    "    Start monitoring a new master with the specified name, ip, port and quorum.",
    "MYID",
    "    Return the ID of the Sentinel instance.",
    "PENDING-SCRIPTS",
    "    Get pending scripts information.",
    "REMOVE <master-name>",
    "    Remove master from Sentinel's monitor list.",
    "REPLICAS <master-name>",
    "    Show a list of replicas for this master and their state.",
    "RESET <pattern>",
    "    Reset masters for specific master name matching this pattern.",
    "SENTINELS <master-name>",
    "    Show a list of Sentinel instances for this master and their state.",
    "SET <master-name> <option> <value> [<option> <value> ...]",
    "    Set configuration parameters for certain masters.",
    "SIMULATE-FAILURE [CRASH-AFTER-ELECTION] [CRASH-AFTER-PROMOTION] [HELP]",
    "    Simulate a Sentinel crash.",
    "HELP",
    "    Prints this help.",
];

/// `SENTINEL HELP` of Valkey 8 (primary wording, its `HELP` line).
const VALKEY_HELP: &[&str] = &[
    "SENTINEL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CKQUORUM <primary-name>",
    "    Check if the current Sentinel configuration is able to reach the quorum",
    "    needed to failover a primary and the majority needed to authorize the",
    "    failover.",
    "CONFIG SET param value [param value ...]",
    "    Set a global Sentinel configuration parameter.",
    "CONFIG GET <param> [param param param ...]",
    "    Get global Sentinel configuration parameter.",
    "DEBUG [<param> <value> ...]",
    "    Show a list of configurable time parameters and their values (milliseconds).",
    "    Or update current configurable parameters values (one or more).",
    "GET-PRIMARY-ADDR-BY-NAME <primary-name>",
    "    Return the ip and port number of the primary with that name.",
    "FAILOVER <primary-name>",
    "    Manually failover a primary node without asking for agreement from other",
    "    Sentinels",
    "FLUSHCONFIG",
    "    Force Sentinel to rewrite its configuration on disk, including the current",
    "    Sentinel state.",
    "INFO-CACHE <primary-name>",
    "    Return last cached INFO output from primaries and all its replicas.",
    "IS-PRIMARY-DOWN-BY-ADDR <ip> <port> <current-epoch> <runid>",
    "    Check if the primary specified by ip:port is down from current Sentinel's",
    "    point of view.",
    "PRIMARY <primary-name>",
    "    Show the state and info of the specified primary.",
    "PRIMARIES",
    "    Show a list of monitored primaries and their state.",
    "MONITOR <name> <ip> <port> <quorum>",
    "    Start monitoring a new primary with the specified name, ip, port and quorum.",
    "MYID",
    "    Return the ID of the Sentinel instance.",
    "PENDING-SCRIPTS",
    "    Get pending scripts information.",
    "REMOVE <primary-name>",
    "    Remove primary from Sentinel's monitor list.",
    "REPLICAS <primary-name>",
    "    Show a list of replicas for this primary and their states.",
    "RESET <pattern>",
    "    Reset primaries for specific primary name matching this pattern.",
    "SENTINELS <primary-name>",
    "    Show a list of Sentinel instances for this primary and their state.",
    "SET <primary-name> <option> <value> [<option> <value> ...]",
    "    Set configuration parameters for certain primaries.",
    "SIMULATE-FAILURE [CRASH-AFTER-ELECTION] [CRASH-AFTER-PROMOTION] [HELP]",
    "    Simulate a Sentinel crash.",
    "HELP",
    "    Print this help.",
];

/// Redis 7.2's wording of the two `CONFIG` lines of [`HELP`] (several parameters).
const MULTI_CONFIG_HELP: [(&str, &str); 2] = [
    (
        "CONFIG SET <param> <value>",
        "CONFIG SET param value [param value ...]",
    ),
    (
        "CONFIG GET <param>",
        "CONFIG GET <param> [param param param ...]",
    ),
];

/// The `SENTINEL HELP` lines under `compat`.
fn help(compat: Compat) -> Vec<&'static str> {
    match compat {
        Compat::Valkey8 => VALKEY_HELP.to_vec(),
        Compat::Redis72 => HELP
            .iter()
            .map(|line| {
                MULTI_CONFIG_HELP
                    .iter()
                    .find(|(old, _)| old == line)
                    .map_or(*line, |(_, new)| *new)
            })
            .collect(),
        Compat::Redis70 => HELP.to_vec(),
    }
}

fn text(b: &Bytes) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The master a client names (compared as `text` would convert it, without allocating when the
/// name is valid UTF-8: this is the hot path of `GET-MASTER-ADDR-BY-NAME`).
fn master_named(s: &Sentinel, name: &Bytes) -> Option<usize> {
    s.master_index(&String::from_utf8_lossy(name))
}

fn parse_i64(b: &Bytes) -> Option<i64> {
    std::str::from_utf8(b).ok()?.parse().ok()
}

/// Execute a parsed `SENTINEL` command.
pub(super) fn dispatch(s: &mut Sentinel, cmd: SentinelCommand, now: Millis) -> Reply {
    let a = cmd.args;
    match cmd.sub {
        Sub::Masters => Reply::Array(
            (0..s.masters.len())
                .map(|mi| s.instance_map(mi, Which::Master, now))
                .collect(),
        ),
        Sub::Master => with_master(s, &a[0], |s, mi| s.instance_map(mi, Which::Master, now)),
        Sub::Replicas | Sub::Slaves => with_master(s, &a[0], |s, mi| {
            Reply::Array(
                (0..s.masters[mi].replicas.len())
                    .filter(|&ri| s.masters[mi].replicas[ri].replica_announced)
                    .map(|ri| s.instance_map(mi, Which::Replica(ri), now))
                    .collect(),
            )
        }),
        Sub::Sentinels => with_master(s, &a[0], |s, mi| {
            Reply::Array(
                (0..s.masters[mi].sentinels.len())
                    .map(|si| s.instance_map(mi, Which::Sentinel(si), now))
                    .collect(),
            )
        }),
        Sub::GetMasterAddrByName => match master_named(s, &a[0]) {
            None => Reply::NullArray,
            Some(mi) => {
                // The address shows this master's configuration, nothing else.
                s.reply_generation = Some(s.generation_for(Reveals::Master(mi)));
                let addr = s.masters[mi].current_addr();
                Reply::Array(vec![
                    Reply::bulk(addr.announced(s.config.announce_hostnames)),
                    Reply::bulk(addr.port.to_string()),
                ])
            }
        },
        Sub::IsMasterDownByAddr => is_master_down_by_addr(s, a, now),
        Sub::Reset => {
            let pattern = a[0].to_vec();
            let mut count = 0;
            for mi in 0..s.masters.len() {
                if glob_match(&pattern, s.masters[mi].cfg.name.as_bytes(), false) {
                    s.reset_master(mi, true, now);
                    s.event(
                        Level::Warning,
                        "+reset-master",
                        Some((mi, Which::Master)),
                        "",
                    );
                    count += 1;
                }
            }
            Reply::Int(count)
        }
        Sub::Failover => with_master(s, &a[0], |s, mi| {
            let coordinated = match &a[1..] {
                [] => false,
                [word] if text(word).eq_ignore_ascii_case("coordinated") => true,
                _ => return Reply::err("ERR syntax error"),
            };
            if s.masters[mi].inst.flags.failover_in_progress {
                return Reply::err("INPROG Failover already in progress");
            }
            if s.joins_followed_failover(mi, now) {
                return Reply::ok();
            }
            if s.select_replica(mi, now).is_none() {
                return Reply::err("NOGOODSLAVE No suitable replica to promote");
            }
            let name = s.masters[mi].cfg.name.clone();
            s.push(Action::Log {
                level: Level::Warning,
                message: format!("Executing user requested FAILOVER of '{name}'"),
            });
            if coordinated && !s.master_looks_sane(mi, now) {
                return Reply::err("ERR master is not reachable and healthy: a coordinated failover needs it; use SENTINEL FAILOVER <name> for a forced one");
            }
            s.start_failover(mi, now);
            s.masters[mi].inst.flags.force_failover = true;
            s.masters[mi].failover.coordinated = coordinated;
            // Warden: tell the peers at once (a vote request they need not grant), so one asked
            // next for the same failover joins this one instead of starting a second.
            s.ask_peers(mi, Ask::Forced, now);
            s.failover_step(mi, now);
            Reply::ok()
        }),
        Sub::Ckquorum => with_master(s, &a[0], |s, mi| ckquorum(s, mi)),
        Sub::Monitor => monitor(s, a, now),
        Sub::Remove => with_master(s, &a[0], |s, mi| {
            s.event(Level::Warning, "-monitor", Some((mi, Which::Master)), "");
            s.reset_master(mi, true, now);
            let m = s.remove_master(mi);
            let releases = s.vip.remove_master(&m.cfg.name);
            s.push_all(releases);
            s.release_link(m.inst.link);
            flush_reply(s)
        }),
        Sub::Set => with_master(s, &a[0], |s, mi| set(s, mi, &a[1..], now)),
        Sub::Flushconfig => flush_reply(s),
        Sub::Config => config(s, a),
        Sub::Debug => debug(s, a),
        Sub::InfoCache => info_cache(s, a, now),
        Sub::PendingScripts => s.scripts.pending_reply(now),
        Sub::Myid => Reply::bulk(s.myid()),
        Sub::SimulateFailure => simulate_failure(s, a),
        Sub::Help => Reply::Array(
            help(s.options.compat)
                .into_iter()
                .map(|l| Reply::Status(l.to_string()))
                .collect(),
        ),
        Sub::Vip => with_master(s, &a[0], |s, mi| s.vip_reply(mi, now)),
        Sub::History => with_master(s, &a[0], |s, mi| s.history_reply(mi)),
    }
}

fn with_master(
    s: &mut Sentinel,
    name: &Bytes,
    f: impl FnOnce(&mut Sentinel, usize) -> Reply,
) -> Reply {
    match master_named(s, name) {
        Some(mi) => f(s, mi),
        None => Reply::err(NO_SUCH_MASTER),
    }
}

fn flush_reply(s: &mut Sentinel) -> Reply {
    match s.flush_config() {
        Ok(()) => Reply::ok(),
        Err(_) => Reply::err(SAVE_FAILED),
    }
}

fn is_master_down_by_addr(s: &mut Sentinel, a: &[Bytes], now: Millis) -> Reply {
    let (Some(port), Some(epoch)) = (parse_i64(&a[1]), parse_i64(&a[2])) else {
        return Reply::err(NOT_INTEGER);
    };
    let host = text(&a[0]);
    let runid = text(&a[3]);
    let mi = u16::try_from(port)
        .ok()
        .and_then(|port| s.master_at(&host, port));
    let mut down = 0;
    let mut leader = None;
    let mut leader_epoch = 0;
    if let Some(mi) = mi {
        if !s.tilt {
            // Warden: evaluate SDOWN now rather than answer with the state of our last timer
            // run (same rule, no tick-phase delay in reaching ODOWN).
            s.check_sdown(mi, Which::Master, now);
        }
        if !s.tilt && s.masters[mi].inst.flags.s_down {
            down = 1;
            // Warden: sentinels only ask while they see the master SDOWN, so the question is
            // news: ask back at once (the answer can complete our ODOWN) rather than at our
            // next retry.
            if runid == "*" && !s.masters[mi].inst.flags.o_down {
                s.ask_peers(mi, Ask::Again, now);
            }
        }
        if runid != "*" {
            // A request naming our own run id comes from a client, not from a peer seeking
            // election (Valkey's suite asks it): it is granted as upstream grants it, without
            // the answering-master refusal `vote_for_peer` applies to peers.
            let epoch = epoch.max(0) as u64;
            let (vote, vote_epoch) = if runid.eq_ignore_ascii_case(s.myid()) {
                s.vote_leader(mi, epoch, &runid, now)
            } else {
                if down == 0 {
                    // A peer fails over a master we see up: a user asked it to.
                    s.masters[mi].failover.peer_request = Some((runid.clone(), epoch, now));
                }
                s.vote_for_peer(mi, epoch, &runid, now)
            };
            leader = vote;
            leader_epoch = vote_epoch;
        }
    }
    // The reply shows this master's vote at most (`*` and 0 without a vote request).
    s.reply_generation = Some(match mi.filter(|_| runid != "*") {
        Some(mi) => s.generation_for(Reveals::Master(mi)),
        None => 0,
    });
    Reply::Array(vec![
        Reply::Int(down),
        Reply::bulk(leader.as_deref().unwrap_or("*")),
        Reply::Int(leader_epoch as i64),
    ])
}

fn ckquorum(s: &Sentinel, mi: usize) -> Reply {
    let m = &s.masters[mi];
    let voters = m.sentinels.len() + 1;
    let usable = 1 + m
        .sentinels
        .iter()
        .filter(|x| !x.flags.s_down && !x.flags.o_down)
        .count();
    let no_quorum = usable < m.cfg.quorum as usize;
    let no_auth = usable < crate::quorum::majority(voters);
    if !no_quorum && !no_auth {
        return Reply::Status(format!(
            "OK {usable} usable Sentinels. Quorum and failover authorization can be reached"
        ));
    }
    let mut e = format!("NOQUORUM {usable} usable Sentinels. ");
    if no_quorum {
        e.push_str("Not enough available Sentinels to reach the specified quorum for this master");
    }
    if no_auth {
        if no_quorum {
            e.push_str(". ");
        }
        e.push_str("Not enough available Sentinels to reach the majority and authorize a failover");
    }
    Reply::Error(e)
}

fn monitor(s: &mut Sentinel, a: &[Bytes], now: Millis) -> Reply {
    let Some(quorum) = parse_i64(&a[3]) else {
        return Reply::err("ERR Invalid quorum");
    };
    let Some(port) = parse_i64(&a[2]) else {
        return Reply::err("ERR Invalid port");
    };
    if quorum <= 0 {
        return Reply::err("ERR Quorum must be 1 or greater.");
    }
    if has_control(&a[0]) {
        return control_error("Master name");
    }
    let host = text(&a[1]);
    let valid_host = super::resolve_ip_literal(&host).is_some()
        || (s.config.resolve_hostnames && (s.options.resolver)(&host).is_some());
    if !valid_host {
        return Reply::err("ERR Invalid IP address or hostname specified");
    }
    let Ok(port) = u16::try_from(port) else {
        return Reply::err("ERR Invalid port number.");
    };
    let mut cfg = MasterConfig::new(
        &text(&a[0]),
        &host,
        port,
        quorum.min(u32::MAX as i64) as u32,
    );
    cfg.down_after_ms = s.timers.default_down_after;
    cfg.failover_timeout_ms = s.timers.default_failover_timeout;
    match s.add_master(cfg, now) {
        Err(e) => Reply::err(format!("ERR {e}")),
        Ok(mi) => {
            s.vip_sync_master(mi, now);
            let reply = flush_reply(s);
            let q = s.masters[mi].cfg.quorum;
            s.event(
                Level::Warning,
                "+monitor",
                Some((mi, Which::Master)),
                &format!("quorum {q}"),
            );
            reply
        }
    }
}

/// `SENTINEL SET`: pairs applied left to right; earlier pairs stay applied on error.
fn set(s: &mut Sentinel, mi: usize, a: &[Bytes], now: Millis) -> Reply {
    let _ = now;
    let mut changes = 0;
    let mut j = 0;
    let mut error = None;
    while j < a.len() {
        let option = text(&a[j]).to_ascii_lowercase();
        let more = a.len() - 1 - j;
        let shown = text(&a[j]);
        let bad = |v: &Bytes| {
            Reply::err(format!(
                "ERR Invalid argument '{}' for SENTINEL SET '{}'",
                text(v),
                shown
            ))
        };
        let positive = |v: &Bytes| parse_i64(v).filter(|n| *n > 0);
        let start = j;
        let mut redacted = false;
        let result: Result<(), Reply> = match option.as_str() {
            "down-after-milliseconds" | "failover-timeout" | "parallel-syncs" | "quorum"
                if more > 0 =>
            {
                j += 1;
                match positive(&a[j]) {
                    None => Err(bad(&a[j])),
                    Some(n) => {
                        let m = &mut s.masters[mi];
                        match option.as_str() {
                            "down-after-milliseconds" => {
                                m.cfg.down_after_ms = n as u64;
                                m.inst.down_after = n as u64;
                                s.links.watch_sdown(m.inst.link, Some(n as u64));
                                for inst in m.replicas.iter_mut().chain(m.sentinels.iter_mut()) {
                                    inst.down_after = n as u64;
                                }
                            }
                            "failover-timeout" => m.cfg.failover_timeout_ms = n as u64,
                            "parallel-syncs" => m.cfg.parallel_syncs = n,
                            _ => m.cfg.quorum = n.min(u32::MAX as i64) as u32,
                        }
                        Ok(())
                    }
                }
            }
            "notification-script" | "client-reconfig-script" if more > 0 => {
                j += 1;
                let value = text(&a[j]);
                if has_control(&a[j]) {
                    Err(control_error(&shown))
                } else if s.config.deny_scripts_reconfig {
                    Err(Reply::err("ERR Reconfiguration of scripts path is denied for security reasons. Check the deny-scripts-reconfig configuration directive in your Sentinel configuration"))
                } else if !value.is_empty() && !(s.options.is_executable)(&value) {
                    Err(Reply::err(if option == "notification-script" {
                        "ERR Notification script seems non existing or non executable"
                    } else {
                        "ERR Client reconfiguration script seems non existing or non executable"
                    }))
                } else {
                    let v = Some(value).filter(|v| !v.is_empty());
                    if option == "notification-script" {
                        s.masters[mi].cfg.notification_script = v;
                    } else {
                        s.masters[mi].cfg.client_reconfig_script = v;
                    }
                    Ok(())
                }
            }
            "auth-pass" | "auth-user" if more > 0 => {
                j += 1;
                let v = Some(text(&a[j])).filter(|v| !v.is_empty());
                if option == "auth-pass" {
                    s.masters[mi].cfg.auth_pass = v;
                    redacted = true;
                } else {
                    s.masters[mi].cfg.auth_user = v;
                }
                s.drop_instance_connections(mi);
                Ok(())
            }
            "rename-command" if more > 1 => {
                let (old, new) = (text(&a[j + 1]), text(&a[j + 2]));
                j += 2;
                if has_control(&a[j - 1]) || has_control(&a[j]) {
                    Err(control_error(&shown))
                } else if old.is_empty() || new.is_empty() {
                    Err(bad(if new.is_empty() { &a[j] } else { &a[j - 1] }))
                } else {
                    let table = &mut s.masters[mi].cfg.renamed_commands;
                    table.retain(|(from, _)| !from.eq_ignore_ascii_case(&old));
                    if !old.eq_ignore_ascii_case(&new) {
                        table.push((old, new));
                    }
                    Ok(())
                }
            }
            "master-reboot-down-after-period" | "primary-reboot-down-after-period" if more > 0 => {
                j += 1;
                match parse_i64(&a[j]).filter(|n| *n >= 0) {
                    None => Err(bad(&a[j])),
                    Some(n) => {
                        s.masters[mi].cfg.master_reboot_down_after_period_ms = n as u64;
                        Ok(())
                    }
                }
            }
            _ => match s.set_vip_option(mi, &option, &a[j..]) {
                Some(Ok(consumed)) => {
                    j += consumed;
                    Ok(())
                }
                Some(Err(e)) => {
                    j += 1;
                    Err(e)
                }
                None => Err(Reply::err(format!(
                    "ERR Unknown option or number of arguments for SENTINEL SET '{shown}'"
                ))),
            },
        };
        if let Err(e) = result {
            error = Some(e);
            break;
        }
        changes += 1;
        let rest = match j - start {
            1 => format!(
                "{} {}",
                text(&a[start]),
                if redacted {
                    "******".to_string()
                } else {
                    text(&a[start + 1])
                }
            ),
            2 => format!(
                "{} {} {}",
                text(&a[start]),
                text(&a[start + 1]),
                text(&a[start + 2])
            ),
            _ => text(&a[start]),
        };
        s.event(Level::Warning, "+set", Some((mi, Which::Master)), &rest);
        j += 1;
    }
    match error {
        Some(e) => {
            if changes > 0 {
                s.flush(Change::Master(mi));
            }
            e
        }
        None => flush_reply(s),
    }
}

/// The `SENTINEL CONFIG` parameters, in the order `GET` lists them (`loglevel` from Redis 7.2).
const CONFIG_PARAMS: [&str; 7] = [
    "resolve-hostnames",
    "announce-hostnames",
    "announce-ip",
    "announce-port",
    "sentinel-user",
    "sentinel-pass",
    "loglevel",
];

/// The `loglevel` values (`nothing` since Redis 7.2).
const LOG_LEVELS: [&str; 5] = ["debug", "verbose", "notice", "warning", "nothing"];

fn config(s: &mut Sentinel, a: &[Bytes]) -> Reply {
    let verb = text(&a[0]).to_ascii_lowercase();
    if !s.options.compat.multi_param_config() {
        // Redis 7.0.15: one parameter, no `loglevel`.
        return match (verb.as_str(), &a[1..]) {
            ("set", [param, _]) if !is_loglevel(param) => config_set(s, &a[1..]),
            ("set", [param, _]) => Reply::err(format!(
                "ERR Invalid argument '{}' to SENTINEL CONFIG SET",
                text(param)
            )),
            // Every parameter but the last, `loglevel`.
            ("get", [_]) => config_get(s, &a[1..], CONFIG_PARAMS.len() - 1),
            _ => Reply::err(
                "ERR Only SENTINEL CONFIG GET <option> / SET <option> <value> are supported.",
            ),
        };
    }
    match verb.as_str() {
        "set" if a.len() >= 3 => config_set(s, &a[1..]),
        "get" if a.len() >= 2 => config_get(s, &a[1..], CONFIG_PARAMS.len()),
        _ => Reply::err("ERR Only SENTINEL CONFIG GET <param> [<param> <param> ...] / SET <param> <value> [<param> <value> ...] are supported."),
    }
}

fn is_loglevel(param: &Bytes) -> bool {
    param.eq_ignore_ascii_case(b"loglevel")
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// `SENTINEL CONFIG GET <pattern> ...`: each parameter matching any pattern, once, in table
/// order per pattern (the first `known` entries of [`CONFIG_PARAMS`] exist).
fn config_get(s: &Sentinel, patterns: &[Bytes], known: usize) -> Reply {
    let c = &s.config;
    let value = |param: &str| match param {
        "resolve-hostnames" => yes_no(c.resolve_hostnames).to_string(),
        "announce-hostnames" => yes_no(c.announce_hostnames).to_string(),
        "announce-ip" => c.announce_ip.clone().unwrap_or_default(),
        "announce-port" => c.announce_port.to_string(),
        "sentinel-user" => c.sentinel_user.clone().unwrap_or_default(),
        "sentinel-pass" => c.sentinel_pass.clone().unwrap_or_default(),
        _ => s.loglevel().to_string(),
    };
    let mut shown: Vec<&str> = Vec::new();
    for pattern in patterns {
        for &param in &CONFIG_PARAMS[..known] {
            if !shown.contains(&param) && glob_match(pattern, param.as_bytes(), true) {
                shown.push(param);
            }
        }
    }
    Reply::map(shown.into_iter().map(|p| (p, Reply::bulk(value(p)))))
}

/// `SENTINEL CONFIG SET <param> <value> ...`: every pair is checked before any is applied
/// (Redis 7.2's errors, in its order: unknown name, repeated name, missing value, bad value),
/// then one flush.
fn config_set(s: &mut Sentinel, a: &[Bytes]) -> Reply {
    let mut pairs: Vec<(&'static str, &Bytes)> = Vec::new();
    let mut j = 0;
    while j < a.len() {
        let given = text(&a[j]);
        let Some(&param) = CONFIG_PARAMS
            .iter()
            .find(|p| p.eq_ignore_ascii_case(&given))
        else {
            return Reply::err(format!(
                "ERR Invalid argument '{given}' to SENTINEL CONFIG SET"
            ));
        };
        if pairs.iter().any(|(p, _)| *p == param) {
            return Reply::err(format!(
                "ERR Duplicate argument '{given}' to SENTINEL CONFIG SET"
            ));
        }
        let Some(value) = a.get(j + 1) else {
            return Reply::err(format!("ERR Missing argument '{given}' value"));
        };
        if let Err(e) = check_config_value(param, &given, value) {
            return e;
        }
        pairs.push((param, value));
        j += 2;
    }
    let mut drop_conns = false;
    for (param, value) in pairs {
        let v = text(value);
        let c = &mut s.config;
        match param {
            "resolve-hostnames" => c.resolve_hostnames = v.eq_ignore_ascii_case("yes"),
            "announce-hostnames" => c.announce_hostnames = v.eq_ignore_ascii_case("yes"),
            "announce-ip" => c.announce_ip = Some(v).filter(|v| !v.is_empty()),
            "announce-port" => c.announce_port = v.parse().unwrap_or_default(),
            "sentinel-user" => {
                c.sentinel_user = Some(v).filter(|v| !v.is_empty());
                drop_conns = true;
            }
            "sentinel-pass" => {
                c.sentinel_pass = Some(v).filter(|v| !v.is_empty());
                drop_conns = true;
            }
            _ => c.loglevel = Some(v.to_ascii_lowercase()),
        }
    }
    let reply = flush_reply(s);
    if drop_conns {
        s.drop_sentinel_connections();
    }
    reply
}

/// Validates one `SENTINEL CONFIG SET` value (`given` is the parameter as the client spelt it).
fn check_config_value(param: &str, given: &str, value: &Bytes) -> Result<(), Reply> {
    let v = text(value);
    let ok = match param {
        "resolve-hostnames" | "announce-hostnames" => {
            v.eq_ignore_ascii_case("yes") || v.eq_ignore_ascii_case("no")
        }
        "announce-port" => v.parse::<u16>().is_ok(),
        "loglevel" => LOG_LEVELS.iter().any(|l| l.eq_ignore_ascii_case(&v)),
        "announce-ip" if has_control(value) => return Err(control_error(given)),
        _ => true,
    };
    if ok {
        Ok(())
    } else {
        Err(Reply::err(format!(
            "ERR Invalid value '{v}' to SENTINEL CONFIG SET '{given}'"
        )))
    }
}

fn debug(s: &mut Sentinel, a: &[Bytes]) -> Reply {
    if a.is_empty() {
        let values = s.timers.values();
        return Reply::map(
            super::timers::Timers::NAMES
                .iter()
                .zip(values)
                .map(|(k, v)| (*k, Reply::bulk(v.to_string()))),
        );
    }
    let mut j = 0;
    while j < a.len() {
        let option = text(&a[j]);
        if j + 1 >= a.len() || s.timers.get_mut(&option).is_none() {
            return Reply::err(format!(
                "ERR Unknown option or number of arguments for SENTINEL DEBUG '{option}'"
            ));
        }
        match parse_i64(&a[j + 1]).filter(|n| *n > 0) {
            Some(n) => *s.timers.get_mut(&option).expect("checked") = n as Millis,
            None => {
                return Reply::err(format!(
                    "ERR Invalid argument '{}' for SENTINEL DEBUG '{option}'",
                    text(&a[j + 1])
                ))
            }
        }
        j += 2;
    }
    Reply::ok()
}

fn info_cache(s: &Sentinel, a: &[Bytes], now: Millis) -> Reply {
    let mut out = Vec::new();
    let mut seen = Vec::new();
    for name in a {
        let Some(mi) = master_named(s, name) else {
            continue;
        };
        if seen.contains(&mi) {
            continue;
        }
        seen.push(mi);
        let m = &s.masters[mi];
        let entry = |inst: &super::instance::Instance| {
            Reply::Array(vec![
                Reply::Int(if inst.info_refresh != 0 {
                    now.saturating_sub(inst.info_refresh) as i64
                } else {
                    0
                }),
                inst.info.as_deref().map_or(Reply::Null, Reply::bulk),
            ])
        };
        out.push(Reply::bulk(&m.cfg.name));
        out.push(Reply::Array(
            std::iter::once(&m.inst)
                .chain(m.replicas.iter())
                .map(entry)
                .collect(),
        ));
    }
    Reply::Array(out)
}

fn simulate_failure(s: &mut Sentinel, a: &[Bytes]) -> Reply {
    s.simfailure = 0;
    for arg in a {
        match text(arg).to_ascii_lowercase().as_str() {
            "crash-after-election" => {
                s.simfailure |= SIMFAILURE_CRASH_AFTER_ELECTION;
                s.push(Action::Log {
                    level: Level::Warning,
                    message: "Failure simulation: this Sentinel will crash after being successfully elected as failover leader".into(),
                });
            }
            "crash-after-promotion" => {
                s.simfailure |= SIMFAILURE_CRASH_AFTER_PROMOTION;
                s.push(Action::Log {
                    level: Level::Warning,
                    message: "Failure simulation: this Sentinel will crash after promoting the selected replica to master".into(),
                });
            }
            "help" => {
                return Reply::Array(vec![
                    Reply::bulk("crash-after-election"),
                    Reply::bulk("crash-after-promotion"),
                ]);
            }
            _ => return Reply::err("ERR Unknown failure simulation specified"),
        }
    }
    Reply::ok()
}

impl Sentinel {
    /// Close the connections of a master and its replicas (after an auth change).
    pub(super) fn drop_instance_connections(&mut self, mi: usize) {
        let keys: Vec<_> = std::iter::once(&self.masters[mi].inst)
            .chain(self.masters[mi].replicas.iter())
            .map(|i| i.link)
            .collect();
        self.close_links(keys);
    }

    /// Close every connection to other sentinels (after a sentinel-user/pass change).
    pub(super) fn drop_sentinel_connections(&mut self) {
        let keys: Vec<_> = self
            .masters
            .iter()
            .flat_map(|m| m.sentinels.iter().map(|s| s.link))
            .collect();
        self.close_links(keys);
    }

    /// Close every connection of these links (they reconnect on the next timer run).
    pub(super) fn close_links(&mut self, keys: Vec<super::instance::LinkKey>) {
        for key in keys {
            let ids: Vec<_> = self
                .links
                .get(key)
                .map(|l| l.cmd.iter().chain(l.pubsub.iter()).map(|c| c.id).collect())
                .unwrap_or_default();
            for id in ids {
                self.close_conn(id);
            }
        }
    }
}

#[cfg(test)]
#[path = "commands_tests.rs"]
mod tests;
