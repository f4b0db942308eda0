//! `CLIENT` and its 17 subcommands (Redis 7.0.15's 16 and 7.2's `SETINFO`), the `CLIENT LIST`
//! line format, and `CLIENT PAUSE` state.

use super::command::help;
use super::Outcome;
use crate::clients::{describe, ClientInfo, Tracking};
use crate::request::int_arg;
use crate::session::Ctx;
use crate::session::Session;
use crate::table::Spec;
use crate::Shared;
use bytes::Bytes;
use std::time::{Duration, Instant};
use warden_core::Reply;

const HELP: &[&str] = &[
    "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CACHING (YES|NO)",
    "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
    "GETREDIR",
    "    Return the client ID we are redirecting to when tracking is enabled.",
    "GETNAME",
    "    Return the name of the current connection.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made to specified local address",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Kill connections by type.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "LIST [options ...]",
    "    Return information about client connections. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Return clients of specified type.",
    "UNPAUSE",
    "    Stop the current client pause, resuming traffic.",
    "PAUSE <timeout> [WRITE|ALL]",
    "    Suspend all, or just write, clients for <timeout> milliseconds.",
    "REPLY (ON|OFF|SKIP)",
    "    Control the replies sent to the current connection.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "UNBLOCK <clientid> [TIMEOUT|ERROR]",
    "    Unblock the specified blocked client.",
    "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
    "         [OPTIN] [OPTOUT] [NOLOOP]",
    "    Control server assisted client side caching.",
    "TRACKINGINFO",
    "    Report tracking status for the current connection.",
    "NO-EVICT (ON|OFF)",
    "    Protect current client connection from eviction.",
    "HELP",
    "    Prints this help.",
];

/// Whether a client name is acceptable (printable ASCII without spaces).
pub fn valid_name(name: &[u8]) -> bool {
    name.iter().all(|&b| (b'!'..=b'~').contains(&b))
}

/// `CLIENT SETINFO LIB-NAME|LIB-VER <value>` (Redis 7.2): printable ASCII without blanks, ""
/// clears.
fn setinfo(info: &ClientInfo, attr: &Bytes, value: &Bytes) -> Reply {
    let name = String::from_utf8_lossy(attr);
    let mut state = info.state();
    let slot = if attr.eq_ignore_ascii_case(b"lib-name") {
        &mut state.lib_name
    } else if attr.eq_ignore_ascii_case(b"lib-ver") {
        &mut state.lib_ver
    } else {
        return Reply::err(format!("ERR Unrecognized option '{name}'"));
    };
    if !valid_name(value) {
        return Reply::err(format!(
            "ERR {name} cannot contain spaces, newlines or special characters."
        ));
    }
    *slot = String::from_utf8_lossy(value).into_owned();
    Reply::ok()
}

/// Client types of `CLIENT LIST TYPE` / `CLIENT KILL TYPE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClientType {
    Normal,
    Replica,
    Master,
    PubSub,
}

fn parse_type(name: &[u8]) -> Result<ClientType, Reply> {
    match name.to_ascii_lowercase().as_slice() {
        b"normal" => Ok(ClientType::Normal),
        b"slave" | b"replica" => Ok(ClientType::Replica),
        b"master" => Ok(ClientType::Master),
        b"pubsub" => Ok(ClientType::PubSub),
        _ => Err(Reply::err(format!(
            "ERR Unknown client type '{}'",
            String::from_utf8_lossy(name)
        ))),
    }
}

fn type_of(info: &ClientInfo) -> ClientType {
    let state = info.state();
    if state.sub + state.psub > 0 {
        ClientType::PubSub
    } else {
        ClientType::Normal
    }
}

fn parse_u64(arg: &[u8]) -> Option<u64> {
    std::str::from_utf8(arg).ok()?.parse().ok()
}

/// Execute a `CLIENT` subcommand (no reply under `CLIENT REPLY OFF|SKIP`).
pub fn run(ctx: &mut Ctx, spec: &'static Spec, args: &[Bytes]) -> Outcome {
    execute(ctx, spec, args).map_or(Outcome::Written, Outcome::Reply)
}

fn execute(ctx: &mut Ctx, spec: &Spec, args: &[Bytes]) -> Option<Reply> {
    let info = ctx.session.info.clone();
    let reply = match spec.short_name() {
        "id" => Reply::Int(info.id as i64),
        "getname" => {
            let name = info.state().name.clone();
            if name.is_empty() {
                Reply::Null
            } else {
                Reply::bulk(name)
            }
        }
        "setname" => {
            if !valid_name(&args[2]) {
                return Some(Reply::err(
                    "ERR Client names cannot contain spaces, newlines or special characters.",
                ));
            }
            info.state().name = String::from_utf8_lossy(&args[2]).into_owned();
            Reply::ok()
        }
        "setinfo" => setinfo(&info, &args[2], &args[3]),
        "info" => Reply::Verbatim(format!("{}\n", describe(&info))),
        "list" => list(ctx.shared, &args[2..]),
        "kill" => kill(ctx, args),
        "pause" => pause(ctx.shared, &args[2..]),
        "unpause" => {
            ctx.shared.pause.unpause();
            Reply::ok()
        }
        "reply" => return reply_mode(ctx.session, &args[2]),
        "no-evict" => match args[2].to_ascii_lowercase().as_slice() {
            b"on" | b"off" => {
                info.state().no_evict = args[2].eq_ignore_ascii_case(b"on");
                Reply::ok()
            }
            _ => Reply::err("ERR syntax error"),
        },
        "tracking" => tracking(ctx.shared, &info, &args[2..]),
        "caching" => caching(&info, &args[2]),
        "getredir" => {
            let tracking = info.state().tracking.clone();
            Reply::Int(if tracking.on {
                tracking.redirect as i64
            } else {
                -1
            })
        }
        "trackinginfo" => tracking_info(&info.state().tracking),
        "unblock" => unblock(&args[2..]),
        _ => help(HELP),
    };
    Some(reply)
}

fn list(shared: &Shared, options: &[Bytes]) -> Reply {
    let mut clients = shared.clients.snapshot();
    match options {
        [] => {}
        [opt, kind] if opt.eq_ignore_ascii_case(b"type") => match parse_type(kind) {
            Ok(kind) => clients.retain(|c| type_of(c) == kind),
            Err(e) => return e,
        },
        [opt, ids @ ..] if opt.eq_ignore_ascii_case(b"id") && !ids.is_empty() => {
            let mut wanted = Vec::new();
            for id in ids {
                match parse_u64(id).filter(|&id| id > 0) {
                    Some(id) => wanted.push(id),
                    None => return Reply::err("ERR Invalid client ID"),
                }
            }
            clients.retain(|c| wanted.contains(&c.id));
        }
        _ => return Reply::err("ERR syntax error"),
    }
    let mut text = String::new();
    for client in clients {
        text.push_str(&describe(&client));
        text.push('\n');
    }
    Reply::Verbatim(text)
}

/// Filters of `CLIENT KILL <option> <value> ...`.
#[derive(Default)]
struct KillFilter {
    id: Option<u64>,
    kind: Option<ClientType>,
    user: Option<String>,
    addr: Option<String>,
    laddr: Option<String>,
    skipme: bool,
}

impl KillFilter {
    fn matches(&self, client: &ClientInfo) -> bool {
        self.id.iter().all(|&id| client.id == id)
            && self.kind.iter().all(|&k| type_of(client) == k)
            && self.user.iter().all(|u| client.state().user == *u)
            && self.addr.iter().all(|a| client.addr.to_string() == *a)
            && self.laddr.iter().all(|a| client.laddr.to_string() == *a)
    }
}

fn kill(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let me = ctx.session.info.id;
    if args.len() == 3 {
        // Old form: CLIENT KILL addr:port, may kill the caller (after this reply).
        let addr = String::from_utf8_lossy(&args[2]).into_owned();
        let Some(target) = ctx
            .shared
            .clients
            .snapshot()
            .into_iter()
            .find(|c| c.addr.to_string() == addr)
        else {
            return Reply::err("ERR No such client");
        };
        kill_client(ctx.session, &target);
        return Reply::ok();
    }
    if args.len() % 2 == 1 {
        return Reply::err("ERR syntax error");
    }
    let mut filter = KillFilter {
        skipme: true,
        ..KillFilter::default()
    };
    for pair in args[2..].chunks(2) {
        let value = &pair[1];
        let text = String::from_utf8_lossy(value).into_owned();
        match pair[0].to_ascii_lowercase().as_slice() {
            b"id" => match parse_u64(value).filter(|&id| id > 0 && id <= i64::MAX as u64) {
                Some(id) => filter.id = Some(id),
                None => return Reply::err("ERR client-id should be greater than 0"),
            },
            b"type" => match parse_type(value) {
                Ok(kind) => filter.kind = Some(kind),
                Err(e) => return e,
            },
            b"user" => {
                if ctx.shared.acl.read().user(&text).is_none() {
                    return Reply::err(format!("ERR No such user '{text}'"));
                }
                filter.user = Some(text);
            }
            b"addr" => filter.addr = Some(text),
            b"laddr" => filter.laddr = Some(text),
            b"skipme" => match value.to_ascii_lowercase().as_slice() {
                b"yes" => filter.skipme = true,
                b"no" => filter.skipme = false,
                _ => return Reply::err("ERR syntax error"),
            },
            _ => return Reply::err("ERR syntax error"),
        }
    }
    let mut killed = 0;
    for client in ctx.shared.clients.snapshot() {
        if filter.matches(&client) && !(filter.skipme && client.id == me) {
            kill_client(ctx.session, &client);
            killed += 1;
        }
    }
    Reply::Int(killed)
}

/// Kill `target`; the caller itself is closed after its reply is written instead.
fn kill_client(session: &mut Session, target: &ClientInfo) {
    if target.id == session.info.id {
        session.close = true;
    } else {
        target.kill.kill();
    }
}

fn pause(shared: &Shared, args: &[Bytes]) -> Reply {
    let timeout = match int_arg(&args[0]) {
        Some(ms) if ms < 0 => return Reply::err("ERR timeout is negative"),
        Some(ms) => ms as u64,
        None => return Reply::err("ERR timeout is not an integer or out of range"),
    };
    let all = match args.get(1).map(|m| m.to_ascii_lowercase()) {
        None => true,
        Some(mode) if mode == b"all" => true,
        Some(mode) if mode == b"write" => false,
        Some(_) => return Reply::err("ERR CLIENT PAUSE mode must be WRITE or ALL"),
    };
    if args.len() > 2 {
        return Reply::err("ERR syntax error");
    }
    let until = Instant::now()
        .checked_add(Duration::from_millis(timeout))
        .unwrap_or_else(|| {
            // Absurd timeouts: pause for a very long time rather than overflow.
            Instant::now() + Duration::from_secs(100 * 365 * 86400)
        });
    shared.pause.pause(until, all);
    Reply::ok()
}

fn reply_mode(session: &mut Session, mode: &[u8]) -> Option<Reply> {
    match mode.to_ascii_lowercase().as_slice() {
        b"on" => {
            session.reply.off = false;
            session.reply.skip = false;
            session.reply.skip_next = false;
            Some(Reply::ok())
        }
        b"off" => {
            session.reply.off = true;
            None
        }
        b"skip" => {
            if !session.reply.off {
                session.reply.skip_next = true;
            }
            None
        }
        _ => Some(Reply::err("ERR syntax error")),
    }
}

fn tracking(shared: &Shared, info: &ClientInfo, args: &[Bytes]) -> Reply {
    let on = match args[0].to_ascii_lowercase().as_slice() {
        b"on" => true,
        b"off" => false,
        _ => return Reply::err("ERR syntax error"),
    };
    let mut next = Tracking {
        on,
        ..Tracking::default()
    };
    let mut i = 1;
    while i < args.len() {
        let more = i + 1 < args.len();
        match args[i].to_ascii_lowercase().as_slice() {
            b"redirect" if more => {
                if next.redirect != 0 {
                    return Reply::err("ERR A client can only redirect to a single other client");
                }
                let id = match int_arg(&args[i + 1]) {
                    Some(id) => id,
                    None => return Reply::err("ERR value is not an integer or out of range"),
                };
                if id <= 0 || shared.clients.get(id as u64).is_none() {
                    return Reply::err("ERR The client ID you want redirect to does not exist");
                }
                next.redirect = id as u64;
                i += 1;
            }
            b"bcast" => next.bcast = true,
            b"optin" => next.optin = true,
            b"optout" => next.optout = true,
            b"noloop" => next.noloop = true,
            b"prefix" if more => {
                next.prefixes.push(args[i + 1].clone());
                i += 1;
            }
            _ => return Reply::err("ERR syntax error"),
        }
        i += 1;
    }
    let mut state = info.state();
    if on {
        if !next.bcast && !next.prefixes.is_empty() {
            return Reply::err("ERR PREFIX option requires BCAST mode to be enabled");
        }
        if state.tracking.on && state.tracking.bcast != next.bcast {
            return Reply::err("ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.");
        }
        if next.optin && next.optout {
            return Reply::err("ERR You can't specify both OPTIN mode and OPTOUT mode");
        }
        if next.bcast && (next.optin || next.optout) {
            return Reply::err("ERR OPTIN and OPTOUT are not compatible with BCAST");
        }
        state.tracking = next;
    } else {
        state.tracking = Tracking::default();
    }
    Reply::ok()
}

fn caching(info: &ClientInfo, value: &[u8]) -> Reply {
    let mut state = info.state();
    let tracking = &mut state.tracking;
    if !tracking.on || !(tracking.optin || tracking.optout) {
        return Reply::err("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled");
    }
    match value.to_ascii_lowercase().as_slice() {
        b"yes" if tracking.optin => tracking.caching = Some(true),
        b"yes" => {
            return Reply::err(
                "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.",
            )
        }
        b"no" if tracking.optout => tracking.caching = Some(false),
        b"no" => {
            return Reply::err(
                "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.",
            )
        }
        _ => return Reply::err("ERR syntax error"),
    }
    Reply::ok()
}

fn tracking_info(tracking: &Tracking) -> Reply {
    let mut flags = Vec::new();
    if !tracking.on {
        flags.push("off");
    } else {
        flags.push("on");
        for (set, name) in [
            (tracking.bcast, "bcast"),
            (tracking.optin, "optin"),
            (tracking.optout, "optout"),
            (tracking.caching == Some(true), "caching-yes"),
            (tracking.caching == Some(false), "caching-no"),
            (tracking.noloop, "noloop"),
        ] {
            if set {
                flags.push(name);
            }
        }
    }
    let redirect = if tracking.on {
        tracking.redirect as i64
    } else {
        -1
    };
    Reply::map([
        (
            "flags",
            Reply::Array(flags.into_iter().map(Reply::bulk).collect()),
        ),
        ("redirect", Reply::Int(redirect)),
        (
            "prefixes",
            Reply::Array(tracking.prefixes.iter().cloned().map(Reply::Bulk).collect()),
        ),
    ])
}

fn unblock(args: &[Bytes]) -> Reply {
    if parse_u64(&args[0]).is_none() {
        return Reply::err("ERR value is not an integer or out of range");
    }
    match args.get(1).map(|m| m.to_ascii_lowercase()) {
        None => {}
        Some(mode) if mode == b"timeout" || mode == b"error" => {}
        Some(_) => return Reply::err("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR"),
    }
    if args.len() > 2 {
        return Reply::err("ERR syntax error");
    }
    // No sentinel-mode command blocks, so no client is ever unblocked.
    Reply::Int(0)
}
