//! `INFO [section ...]`: the five sections Redis Sentinel has (server, clients, cpu, stats,
//! sentinel), always as a plain bulk string (even in RESP3).

use super::Outcome;
use crate::session::Ctx;
use crate::stats::Stats;
use crate::table::Spec;
use crate::Shared;
use bytes::Bytes;
use std::fmt::Write;
use std::time::{SystemTime, UNIX_EPOCH};
use warden_core::config::Compat;
use warden_core::Reply;

use warden_core::REDIS_VERSION;

/// The `redis_version` Redis 7.2 reports, and Valkey as the Redis version it is compatible with.
const REDIS_7_2_VERSION: &str = "7.2.4";

/// The Valkey version reported under `warden-compat valkey-8` (the suite Warden passes).
const VALKEY_VERSION: &str = "8.0.1";

/// `(server name, version)` as HELLO reports them under `compat`.
pub fn server_version(compat: Compat) -> (&'static str, &'static str) {
    match compat {
        Compat::Redis70 => ("redis", REDIS_VERSION),
        Compat::Redis72 => ("redis", REDIS_7_2_VERSION),
        Compat::Valkey8 => ("valkey", VALKEY_VERSION),
    }
}

/// The version fields that open `INFO server` under `compat` (Valkey adds `server_name` and
/// `valkey_version` after `redis_version`).
fn version_fields(compat: Compat) -> Vec<(&'static str, String)> {
    match compat {
        Compat::Redis70 => vec![("redis_version", REDIS_VERSION.into())],
        Compat::Redis72 => vec![("redis_version", REDIS_7_2_VERSION.into())],
        Compat::Valkey8 => vec![
            ("redis_version", REDIS_7_2_VERSION.into()),
            ("server_name", "valkey".into()),
            ("valkey_version", VALKEY_VERSION.into()),
        ],
    }
}

const SECTIONS: [&str; 5] = ["server", "clients", "stats", "cpu", "sentinel"];

/// Which sections the arguments select: none → all; `default`/`all`/`everything` → all;
/// unknown names are ignored.
fn selected(args: &[Bytes]) -> [bool; 5] {
    if args.is_empty() {
        return [true; 5];
    }
    let mut chosen = [false; 5];
    for arg in args {
        let name = String::from_utf8_lossy(arg).to_ascii_lowercase();
        if matches!(name.as_str(), "default" | "all" | "everything") {
            return [true; 5];
        }
        if let Some(i) = SECTIONS.iter().position(|s| *s == name) {
            chosen[i] = true;
        }
    }
    chosen
}

/// `INFO [section ...]`.
pub fn run(ctx: &mut Ctx, _: &'static Spec, args: &[Bytes]) -> Outcome {
    Outcome::Reply(Reply::Bulk(render(ctx.shared, &args[1..]).into()))
}

/// The INFO text for `args` (the words after INFO).
pub fn render(shared: &Shared, args: &[Bytes]) -> String {
    let chosen = selected(args);
    let mut parts = Vec::new();
    for (i, name) in SECTIONS.iter().enumerate() {
        if !chosen[i] {
            continue;
        }
        let body = match *name {
            "server" => server(shared),
            "clients" => clients(shared),
            "cpu" => cpu(),
            "stats" => stats(shared),
            _ => {
                let mut text = shared.app.info_sentinel();
                if !text.is_empty() && !text.ends_with("\r\n") {
                    text.push_str("\r\n");
                }
                text
            }
        };
        let title = match *name {
            "cpu" => "CPU".to_string(),
            other => format!("{}{}", other[..1].to_uppercase(), &other[1..]),
        };
        parts.push(format!("# {title}\r\n{body}"));
    }
    parts.join("\r\n")
}

fn fields(pairs: &[(&str, String)]) -> String {
    let mut text = String::new();
    for (name, value) in pairs {
        let _ = write!(text, "{name}:{value}\r\n");
    }
    text
}

fn uname() -> (String, usize) {
    let os = crate::sys::uname().map_or_else(
        || "Linux".to_string(),
        |(system, release, machine)| format!("{system} {release} {machine}"),
    );
    (os, usize::BITS as usize)
}

fn server(shared: &Shared) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let uptime = shared.started.elapsed().as_secs();
    let (os, bits) = uname();
    let s = &shared.settings;
    // Valkey names the mode field `server_mode`.
    let mode = match s.compat {
        Compat::Valkey8 => "server_mode",
        _ => "redis_mode",
    };
    let mut pairs = version_fields(s.compat);
    pairs.extend([
        ("redis_git_sha1", "00000000".into()),
        ("redis_git_dirty", "0".into()),
        ("redis_build_id", "0".into()),
        (mode, "sentinel".into()),
        ("os", os),
        ("arch_bits", bits.to_string()),
        ("monotonic_clock", "POSIX clock_gettime".into()),
        ("multiplexing_api", "epoll".into()),
        ("atomicvar_api", "c11-builtin".into()),
        ("gcc_version", "0.0.0".into()),
        ("process_id", std::process::id().to_string()),
        ("process_supervised", s.supervised.clone()),
        ("run_id", shared.run_id.clone()),
        ("tcp_port", s.port.to_string()),
        ("server_time_usec", now.as_micros().to_string()),
        ("uptime_in_seconds", uptime.to_string()),
        ("uptime_in_days", (uptime / 86400).to_string()),
        ("hz", "10".into()),
        ("configured_hz", "10".into()),
        ("lru_clock", (now.as_secs() & ((1 << 24) - 1)).to_string()),
        ("executable", s.executable.display().to_string()),
        ("config_file", s.config_file.display().to_string()),
        ("io_threads_active", "0".into()),
    ]);
    fields(&pairs)
}

fn clients(shared: &Shared) -> String {
    let clients = shared.clients.snapshot();
    let tracking = clients.iter().filter(|c| c.state().tracking.on).count();
    fields(&[
        ("connected_clients", clients.len().to_string()),
        ("cluster_connections", "0".into()),
        ("maxclients", shared.settings.maxclients.to_string()),
        ("client_recent_max_input_buffer", "0".into()),
        ("client_recent_max_output_buffer", "0".into()),
        (
            "blocked_clients",
            Stats::get(&shared.stats.blocked_clients).to_string(),
        ),
        ("tracking_clients", tracking.to_string()),
        ("clients_in_timeout_table", "0".into()),
    ])
}

/// (system, user) CPU seconds of `who`, as INFO prints them.
fn rusage(who: crate::sys::Usage) -> (String, String) {
    let tv = |(sec, usec): (i64, i64)| format!("{sec}.{usec:06}");
    crate::sys::rusage(who).map_or_else(
        || ("0.000000".into(), "0.000000".into()),
        |(system, user)| (tv(system), tv(user)),
    )
}

fn cpu() -> String {
    let (sys, user) = rusage(crate::sys::Usage::Process);
    let (sys_children, user_children) = rusage(crate::sys::Usage::Children);
    // The work is spread over the runtime's threads; the process figures are the honest
    // equivalent of Redis' single main thread.
    fields(&[
        ("used_cpu_sys", sys.clone()),
        ("used_cpu_user", user.clone()),
        ("used_cpu_sys_children", sys_children),
        ("used_cpu_user_children", user_children),
        ("used_cpu_sys_main_thread", sys),
        ("used_cpu_user_main_thread", user),
    ])
}

fn stats(shared: &Shared) -> String {
    let st = &shared.stats;
    let (channels, patterns) = shared.hub.counts();
    let (ops, input_kbps, output_kbps) = st.instantaneous();
    let n = |v: u64| v.to_string();
    let zero = || "0".to_string();
    let rate = || "0.00".to_string();
    fields(&[
        (
            "total_connections_received",
            n(Stats::get(&st.connections_received)),
        ),
        (
            "total_commands_processed",
            n(Stats::get(&st.commands_processed)),
        ),
        ("instantaneous_ops_per_sec", n(ops)),
        ("total_net_input_bytes", n(Stats::get(&st.net_input_bytes))),
        (
            "total_net_output_bytes",
            n(Stats::get(&st.net_output_bytes)),
        ),
        ("total_net_repl_input_bytes", zero()),
        ("total_net_repl_output_bytes", zero()),
        ("instantaneous_input_kbps", format!("{input_kbps:.2}")),
        ("instantaneous_output_kbps", format!("{output_kbps:.2}")),
        ("instantaneous_input_repl_kbps", rate()),
        ("instantaneous_output_repl_kbps", rate()),
        (
            "rejected_connections",
            n(Stats::get(&st.rejected_connections)),
        ),
        ("sync_full", zero()),
        ("sync_partial_ok", zero()),
        ("sync_partial_err", zero()),
        ("expired_keys", zero()),
        ("expired_stale_perc", rate()),
        ("expired_time_cap_reached_count", zero()),
        ("expire_cycle_cpu_milliseconds", zero()),
        ("evicted_keys", zero()),
        ("evicted_clients", zero()),
        ("total_eviction_exceeded_time", zero()),
        ("current_eviction_exceeded_time", zero()),
        ("keyspace_hits", zero()),
        ("keyspace_misses", zero()),
        ("pubsub_channels", channels.to_string()),
        ("pubsub_patterns", patterns.to_string()),
        ("pubsubshard_channels", zero()),
        ("latest_fork_usec", zero()),
        ("total_forks", zero()),
        ("migrate_cached_sockets", zero()),
        ("slave_expires_tracked_keys", zero()),
        ("active_defrag_hits", zero()),
        ("active_defrag_misses", zero()),
        ("active_defrag_key_hits", zero()),
        ("active_defrag_key_misses", zero()),
        ("total_active_defrag_time", zero()),
        ("current_active_defrag_time", zero()),
        ("tracking_total_keys", zero()),
        ("tracking_total_items", zero()),
        ("tracking_total_prefixes", zero()),
        ("unexpected_error_replies", zero()),
        ("total_error_replies", n(Stats::get(&st.error_replies))),
        ("dump_payload_sanitizations", zero()),
        ("total_reads_processed", n(Stats::get(&st.reads_processed))),
        (
            "total_writes_processed",
            n(Stats::get(&st.writes_processed)),
        ),
        ("io_threaded_reads_processed", zero()),
        ("io_threaded_writes_processed", zero()),
        ("reply_buffer_shrinks", zero()),
        ("reply_buffer_expands", zero()),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel(words: &[&str]) -> [bool; 5] {
        selected(
            &words
                .iter()
                .map(|w| Bytes::copy_from_slice(w.as_bytes()))
                .collect::<Vec<_>>(),
        )
    }

    #[test]
    fn section_selection() {
        assert_eq!(sel(&[]), [true; 5]);
        assert_eq!(sel(&["EVERYTHING"]), [true; 5]);
        assert_eq!(sel(&["foo", "all"]), [true; 5]);
        assert_eq!(sel(&["default"]), [true; 5]);
        assert_eq!(sel(&["foo"]), [false; 5]);
        assert_eq!(
            sel(&["Sentinel", "server", "foo"]),
            [true, false, false, false, true]
        );
    }
}
