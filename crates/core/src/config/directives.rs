//! The table of generic (non-`sentinel`) redis.conf directives Redis 7.0.15 knows, with their
//! arity, value type, validation and default — used to accept, validate and re-render them.

use super::tokenize::{repr, string2ll, token};
use super::Compat;

/// Value type of a generic directive.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    /// `yes`/`no` with its default.
    Bool(bool),
    /// Decimal integer within bounds.
    Int { min: i128, max: i128, default: i128 },
    /// Memory amount (`1gb`, `512mb`, `100`) within bounds.
    Mem { min: i128, max: i128, default: i128 },
    /// A string, written back quoted.
    Str {
        default: Option<&'static str>,
        empty_is_null: bool,
    },
    /// One of a fixed set of names (case-insensitive).
    Enum {
        values: &'static [&'static str],
        default: &'static str,
    },
    /// Anything else (multi-argument or special): accepted as given.
    Other,
}

/// One known generic directive.
#[derive(Debug)]
pub(crate) struct Directive {
    /// Canonical (lower-case) name.
    pub name: &'static str,
    /// Legacy alias (e.g. `slaveof`).
    pub alias: Option<&'static str>,
    /// Takes a variable number of arguments.
    pub multi_arg: bool,
    /// Value type.
    pub kind: Kind,
}

const fn d(
    name: &'static str,
    alias: Option<&'static str>,
    multi_arg: bool,
    kind: Kind,
) -> Directive {
    Directive {
        name,
        alias,
        multi_arg,
        kind,
    }
}

use Kind::*;

/// Every standard config of Redis 7.0.15 (`config.c`, built with TLS as Debian ships it).
#[rustfmt::skip]
static DIRECTIVES: &[Directive] = &[
    d("rdbchecksum", None, false, Bool(true)),
    d("daemonize", None, false, Bool(false)),
    d("io-threads-do-reads", None, false, Bool(false)),
    d("always-show-logo", None, false, Bool(false)),
    d("protected-mode", None, false, Bool(true)),
    d("rdbcompression", None, false, Bool(true)),
    d("rdb-del-sync-files", None, false, Bool(false)),
    d("activerehashing", None, false, Bool(true)),
    d("stop-writes-on-bgsave-error", None, false, Bool(true)),
    d("set-proc-title", None, false, Bool(true)),
    d("dynamic-hz", None, false, Bool(true)),
    d("lazyfree-lazy-eviction", None, false, Bool(false)),
    d("lazyfree-lazy-expire", None, false, Bool(false)),
    d("lazyfree-lazy-server-del", None, false, Bool(false)),
    d("lazyfree-lazy-user-del", None, false, Bool(false)),
    d("lazyfree-lazy-user-flush", None, false, Bool(false)),
    d("repl-disable-tcp-nodelay", None, false, Bool(false)),
    d("repl-diskless-sync", None, false, Bool(true)),
    d("aof-rewrite-incremental-fsync", None, false, Bool(true)),
    d("no-appendfsync-on-rewrite", None, false, Bool(false)),
    d("cluster-require-full-coverage", None, false, Bool(true)),
    d("rdb-save-incremental-fsync", None, false, Bool(true)),
    d("aof-load-truncated", None, false, Bool(true)),
    d("aof-use-rdb-preamble", None, false, Bool(true)),
    d("aof-timestamp-enabled", None, false, Bool(false)),
    d("cluster-replica-no-failover", Some("cluster-slave-no-failover"), false, Bool(false)),
    d("replica-lazy-flush", Some("slave-lazy-flush"), false, Bool(false)),
    d("replica-serve-stale-data", Some("slave-serve-stale-data"), false, Bool(true)),
    d("replica-read-only", Some("slave-read-only"), false, Bool(true)),
    d("replica-ignore-maxmemory", Some("slave-ignore-maxmemory"), false, Bool(true)),
    d("jemalloc-bg-thread", None, false, Bool(true)),
    d("activedefrag", None, false, Bool(false)),
    d("syslog-enabled", None, false, Bool(false)),
    d("cluster-enabled", None, false, Bool(false)),
    d("appendonly", None, false, Bool(false)),
    d("cluster-allow-reads-when-down", None, false, Bool(false)),
    d("cluster-allow-pubsubshard-when-down", None, false, Bool(true)),
    d("crash-log-enabled", None, false, Bool(true)),
    d("crash-memcheck-enabled", None, false, Bool(true)),
    d("use-exit-on-panic", None, false, Bool(false)),
    d("disable-thp", None, false, Bool(true)),
    d("cluster-allow-replica-migration", None, false, Bool(true)),
    d("replica-announced", None, false, Bool(true)),
    d("latency-tracking", None, false, Bool(true)),
    d("aof-disable-auto-gc", None, false, Bool(false)),
    d("replica-ignore-disk-write-errors", None, false, Bool(false)),
    d("aclfile", None, false, Str { default: Some(""), empty_is_null: false }),
    d("unixsocket", None, false, Str { default: None, empty_is_null: true }),
    d("pidfile", None, false, Str { default: None, empty_is_null: true }),
    d("replica-announce-ip", Some("slave-announce-ip"), false, Str { default: None, empty_is_null: true }),
    d("masteruser", None, false, Str { default: None, empty_is_null: true }),
    d("cluster-announce-ip", None, false, Str { default: None, empty_is_null: true }),
    d("cluster-config-file", None, false, Str { default: Some("nodes.conf"), empty_is_null: false }),
    d("cluster-announce-hostname", None, false, Str { default: None, empty_is_null: true }),
    d("syslog-ident", None, false, Str { default: Some("redis"), empty_is_null: false }),
    d("dbfilename", None, false, Str { default: Some("dump.rdb"), empty_is_null: false }),
    d("appendfilename", None, false, Str { default: Some("appendonly.aof"), empty_is_null: false }),
    d("appenddirname", None, false, Str { default: Some("appendonlydir"), empty_is_null: false }),
    d("server_cpulist", None, false, Str { default: None, empty_is_null: true }),
    d("bio_cpulist", None, false, Str { default: None, empty_is_null: true }),
    d("aof_rewrite_cpulist", None, false, Str { default: None, empty_is_null: true }),
    d("bgsave_cpulist", None, false, Str { default: None, empty_is_null: true }),
    d("ignore-warnings", None, false, Str { default: Some(""), empty_is_null: false }),
    d("proc-title-template", None, false, Str { default: Some("{title} {listen-addr} {server-mode}"), empty_is_null: false }),
    d("bind-source-addr", None, false, Str { default: None, empty_is_null: true }),
    d("logfile", None, false, Str { default: Some(""), empty_is_null: false }),
    d("masterauth", None, false, Str { default: None, empty_is_null: true }),
    d("requirepass", None, false, Str { default: None, empty_is_null: true }),
    d("supervised", None, false, Enum { values: &["upstart", "systemd", "auto", "no"], default: "no" }),
    d("syslog-facility", None, false, Enum { values: &["user", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"], default: "local0" }),
    d("repl-diskless-load", None, false, Enum { values: &["disabled", "on-empty-db", "swapdb"], default: "disabled" }),
    d("loglevel", None, false, Enum { values: &["debug", "verbose", "notice", "warning"], default: "notice" }),
    d("maxmemory-policy", None, false, Enum { values: &["volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl", "allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction"], default: "noeviction" }),
    d("appendfsync", None, false, Enum { values: &["everysec", "always", "no"], default: "everysec" }),
    d("oom-score-adj", None, false, Enum { values: &["no", "yes", "relative", "absolute"], default: "no" }),
    d("acl-pubsub-default", None, false, Enum { values: &["allchannels", "resetchannels"], default: "resetchannels" }),
    d("sanitize-dump-payload", None, false, Enum { values: &["no", "yes", "clients"], default: "no" }),
    d("enable-protected-configs", None, false, Enum { values: &["no", "yes", "local"], default: "no" }),
    d("enable-debug-command", None, false, Enum { values: &["no", "yes", "local"], default: "no" }),
    d("enable-module-command", None, false, Enum { values: &["no", "yes", "local"], default: "no" }),
    // Valkey's (its test harness writes it into every instance's config).
    d("enable-debug-assert", None, false, Bool(false)),
    // Warden's compatibility setting (see `Compat`).
    d(Compat::DIRECTIVE, None, false, Enum { values: &Compat::NAMES, default: "redis-7.0" }),
    // Warden's HTTP side (metrics and health checks): off while the port is 0; the
    // addresses default to `bind`'s.
    d("metrics-port", None, false, Int { min: 0, max: 65535, default: 0 }),
    d("metrics-bind", None, true, Other),
    d("cluster-preferred-endpoint-type", None, false, Enum { values: &["ip", "hostname", "unknown-endpoint"], default: "ip" }),
    d("propagation-error-behavior", None, false, Enum { values: &["ignore", "panic", "panic-on-replicas"], default: "ignore" }),
    d("shutdown-on-sigint", None, true, Other),
    d("shutdown-on-sigterm", None, true, Other),
    d("databases", None, false, Int { min: 1, max: 2147483647, default: 16 }),
    d("port", None, false, Int { min: 0, max: 65535, default: 6379 }),
    d("io-threads", None, false, Int { min: 1, max: 128, default: 1 }),
    d("auto-aof-rewrite-percentage", None, false, Int { min: 0, max: 2147483647, default: 100 }),
    d("cluster-replica-validity-factor", Some("cluster-slave-validity-factor"), false, Int { min: 0, max: 2147483647, default: 10 }),
    d("list-max-listpack-size", Some("list-max-ziplist-size"), false, Int { min: -2147483648, max: 2147483647, default: -2 }),
    d("tcp-keepalive", None, false, Int { min: 0, max: 2147483647, default: 300 }),
    d("cluster-migration-barrier", None, false, Int { min: 0, max: 2147483647, default: 1 }),
    d("active-defrag-cycle-min", None, false, Int { min: 1, max: 99, default: 1 }),
    d("active-defrag-cycle-max", None, false, Int { min: 1, max: 99, default: 25 }),
    d("active-defrag-threshold-lower", None, false, Int { min: 0, max: 1000, default: 10 }),
    d("active-defrag-threshold-upper", None, false, Int { min: 0, max: 1000, default: 100 }),
    d("lfu-log-factor", None, false, Int { min: 0, max: 2147483647, default: 10 }),
    d("lfu-decay-time", None, false, Int { min: 0, max: 2147483647, default: 1 }),
    d("replica-priority", Some("slave-priority"), false, Int { min: 0, max: 2147483647, default: 100 }),
    d("repl-diskless-sync-delay", None, false, Int { min: 0, max: 2147483647, default: 5 }),
    d("maxmemory-samples", None, false, Int { min: 1, max: 2147483647, default: 5 }),
    d("maxmemory-eviction-tenacity", None, false, Int { min: 0, max: 100, default: 10 }),
    d("timeout", None, false, Int { min: 0, max: 2147483647, default: 0 }),
    d("replica-announce-port", Some("slave-announce-port"), false, Int { min: 0, max: 65535, default: 0 }),
    d("tcp-backlog", None, false, Int { min: 0, max: 2147483647, default: 511 }),
    d("cluster-port", None, false, Int { min: 0, max: 65535, default: 0 }),
    d("cluster-announce-bus-port", None, false, Int { min: 0, max: 65535, default: 0 }),
    d("cluster-announce-port", None, false, Int { min: 0, max: 65535, default: 0 }),
    d("cluster-announce-tls-port", None, false, Int { min: 0, max: 65535, default: 0 }),
    d("repl-timeout", None, false, Int { min: 1, max: 2147483647, default: 60 }),
    d("repl-ping-replica-period", Some("repl-ping-slave-period"), false, Int { min: 1, max: 2147483647, default: 10 }),
    d("list-compress-depth", None, false, Int { min: 0, max: 2147483647, default: 0 }),
    d("rdb-key-save-delay", None, false, Int { min: -2147483648, max: 2147483647, default: 0 }),
    d("key-load-delay", None, false, Int { min: -2147483648, max: 2147483647, default: 0 }),
    d("active-expire-effort", None, false, Int { min: 1, max: 10, default: 1 }),
    d("hz", None, false, Int { min: 0, max: 2147483647, default: 10 }),
    d("min-replicas-to-write", Some("min-slaves-to-write"), false, Int { min: 0, max: 2147483647, default: 0 }),
    d("min-replicas-max-lag", Some("min-slaves-max-lag"), false, Int { min: 0, max: 2147483647, default: 10 }),
    d("watchdog-period", None, false, Int { min: 0, max: 2147483647, default: 0 }),
    d("shutdown-timeout", None, false, Int { min: 0, max: 2147483647, default: 10 }),
    d("repl-diskless-sync-max-replicas", None, false, Int { min: 0, max: 2147483647, default: 0 }),
    d("maxclients", None, false, Int { min: 1, max: 4294967295, default: 10000 }),
    d("unixsocketperm", None, false, Other),
    d("socket-mark-id", None, false, Int { min: 0, max: 4294967295, default: 0 }),
    d("active-defrag-max-scan-fields", None, false, Int { min: 1, max: 9223372036854775807, default: 1000 }),
    d("slowlog-max-len", None, false, Int { min: 0, max: 9223372036854775807, default: 128 }),
    d("acllog-max-len", None, false, Int { min: 0, max: 9223372036854775807, default: 128 }),
    d("busy-reply-threshold", Some("lua-time-limit"), false, Int { min: 0, max: 9223372036854775807, default: 5000 }),
    d("cluster-node-timeout", None, false, Int { min: 0, max: 9223372036854775807, default: 15000 }),
    d("slowlog-log-slower-than", None, false, Int { min: -1, max: 9223372036854775807, default: 10000 }),
    d("latency-monitor-threshold", None, false, Int { min: 0, max: 9223372036854775807, default: 0 }),
    d("proto-max-bulk-len", None, false, Mem { min: 1048576, max: 9223372036854775807, default: 536870912 }),
    d("stream-node-max-entries", None, false, Int { min: 0, max: 9223372036854775807, default: 100 }),
    d("repl-backlog-size", None, false, Mem { min: 1, max: 9223372036854775807, default: 1048576 }),
    d("maxmemory", None, false, Mem { min: 0, max: 18446744073709551615, default: 0 }),
    d("cluster-link-sendbuf-limit", None, false, Mem { min: 0, max: 18446744073709551615, default: 0 }),
    d("hash-max-listpack-entries", Some("hash-max-ziplist-entries"), false, Int { min: 0, max: 9223372036854775807, default: 512 }),
    d("set-max-intset-entries", None, false, Int { min: 0, max: 9223372036854775807, default: 512 }),
    d("zset-max-listpack-entries", Some("zset-max-ziplist-entries"), false, Int { min: 0, max: 9223372036854775807, default: 128 }),
    d("active-defrag-ignore-bytes", None, false, Mem { min: 1, max: 9223372036854775807, default: 104857600 }),
    d("hash-max-listpack-value", Some("hash-max-ziplist-value"), false, Mem { min: 0, max: 9223372036854775807, default: 64 }),
    d("stream-node-max-bytes", None, false, Mem { min: 0, max: 9223372036854775807, default: 4096 }),
    d("zset-max-listpack-value", Some("zset-max-ziplist-value"), false, Mem { min: 0, max: 9223372036854775807, default: 64 }),
    d("hll-sparse-max-bytes", None, false, Mem { min: 0, max: 9223372036854775807, default: 3000 }),
    d("tracking-table-max-keys", None, false, Int { min: 0, max: 9223372036854775807, default: 1000000 }),
    d("client-query-buffer-limit", None, false, Mem { min: 1048576, max: 9223372036854775807, default: 1073741824 }),
    d("maxmemory-clients", None, false, Other),
    d("repl-backlog-ttl", None, false, Int { min: 0, max: 9223372036854775807, default: 3600 }),
    d("auto-aof-rewrite-min-size", None, false, Mem { min: 0, max: 9223372036854775807, default: 67108864 }),
    d("loading-process-events-interval-bytes", None, false, Int { min: 1024, max: 2147483647, default: 2097152 }),
    d("tls-port", None, false, Int { min: 0, max: 65535, default: 0 }),
    d("tls-session-cache-size", None, false, Int { min: 0, max: 2147483647, default: 20480 }),
    d("tls-session-cache-timeout", None, false, Int { min: 0, max: 2147483647, default: 300 }),
    d("tls-cluster", None, false, Bool(false)),
    d("tls-replication", None, false, Bool(false)),
    d("tls-auth-clients", None, false, Enum { values: &["no", "yes", "optional"], default: "yes" }),
    d("tls-prefer-server-ciphers", None, false, Bool(false)),
    d("tls-session-caching", None, false, Bool(true)),
    d("tls-cert-file", None, false, Str { default: None, empty_is_null: true }),
    d("tls-key-file", None, false, Str { default: None, empty_is_null: true }),
    d("tls-key-file-pass", None, false, Str { default: None, empty_is_null: true }),
    d("tls-client-cert-file", None, false, Str { default: None, empty_is_null: true }),
    d("tls-client-key-file", None, false, Str { default: None, empty_is_null: true }),
    d("tls-client-key-file-pass", None, false, Str { default: None, empty_is_null: true }),
    d("tls-dh-params-file", None, false, Str { default: None, empty_is_null: true }),
    d("tls-ca-cert-file", None, false, Str { default: None, empty_is_null: true }),
    d("tls-ca-cert-dir", None, false, Str { default: None, empty_is_null: true }),
    d("tls-protocols", None, false, Str { default: None, empty_is_null: true }),
    d("tls-ciphers", None, false, Str { default: None, empty_is_null: true }),
    d("tls-ciphersuites", None, false, Str { default: None, empty_is_null: true }),
    d("dir", None, false, Other),
    d("save", None, true, Other),
    d("client-output-buffer-limit", None, true, Other),
    d("oom-score-adj-values", None, true, Other),
    d("notify-keyspace-events", None, false, Str { default: Some(""), empty_is_null: false }),
    d("bind", None, true, Other),
    d("replicaof", Some("slaveof"), true, Other),
    d("latency-tracking-info-percentiles", None, true, Other),
];

/// Directives Redis accepts outside the table (so the rewrite does not turn them into `# ???`).
pub(crate) const EXTRA: &[&str] = &["include", "rename-command", "user", "loadmodule"];

/// Obsolete directives Redis 7.0.15 silently ignores (with exactly one argument).
pub(crate) const DEPRECATED: &[&str] = &[
    "list-max-ziplist-entries",
    "list-max-ziplist-value",
    "lua-replicate-commands",
];

/// Looks a directive up by its name or alias (case-insensitive).
pub(crate) fn lookup(name: &str) -> Option<&'static Directive> {
    DIRECTIVES.iter().find(|d| {
        d.name.eq_ignore_ascii_case(name) || d.alias.is_some_and(|a| a.eq_ignore_ascii_case(name))
    })
}

/// Whether the rewrite engine recognises `name` as a directive (else the line becomes `# ???`).
pub(crate) fn is_rewritable(name: &str) -> bool {
    // `sentinel` first: nearly every line of a fleet's file is one.
    name.eq_ignore_ascii_case("sentinel")
        || lookup(name).is_some()
        || EXTRA.iter().any(|n| n.eq_ignore_ascii_case(name))
}

/// Parses a Redis memory value: digits with an optional `b`, `k`, `kb`, `m`, `mb`, `g`, `gb`
/// unit (case-insensitive; `k` = 1000, `kb` = 1024 ...).
pub(crate) fn parse_memory(s: &str) -> Option<u64> {
    let lower = s.to_ascii_lowercase();
    let units: [(&str, u64); 7] = [
        ("gb", 1 << 30),
        ("mb", 1 << 20),
        ("kb", 1 << 10),
        ("g", 1_000_000_000),
        ("m", 1_000_000),
        ("k", 1000),
        ("b", 1),
    ];
    let (digits, mul) = units
        .iter()
        .find_map(|(u, m)| lower.strip_suffix(u).map(|d| (d, *m)))
        .unwrap_or((lower.as_str(), 1));
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<u64>().ok()?.checked_mul(mul)
}

/// Formats bytes like Redis's rewrite: `gb`/`mb`/`kb` when divisible, else plain bytes.
fn format_memory(v: i128) -> String {
    for (unit, m) in [("gb", 1i128 << 30), ("mb", 1 << 20), ("kb", 1 << 10)] {
        if v != 0 && v % m == 0 {
            return format!("{}{unit}", v / m);
        }
    }
    v.to_string()
}

fn bounds_error(min: i128, max: i128) -> String {
    format!("argument must be between {min} and {max} inclusive")
}

impl Directive {
    /// Validates the arguments (after the name) like Redis's loader and returns them in
    /// canonical form; the error is Redis's reason text.
    pub(crate) fn check(&self, args: &[String]) -> Result<Vec<String>, String> {
        if !self.multi_arg {
            if args.len() != 1 {
                return Err("wrong number of arguments".into());
            }
        } else if args.is_empty() {
            return Err("wrong number of arguments".into());
        }
        let v = &args[0];
        let canonical = match self.kind {
            Bool(_) => {
                if v.eq_ignore_ascii_case("yes") {
                    "yes".to_string()
                } else if v.eq_ignore_ascii_case("no") {
                    "no".to_string()
                } else {
                    return Err("argument must be 'yes' or 'no'".into());
                }
            }
            Int { min, max, .. } => {
                let n = string2ll(v).ok_or("argument couldn't be parsed into an integer")?;
                if i128::from(n) < min || i128::from(n) > max {
                    return Err(bounds_error(min, max));
                }
                n.to_string()
            }
            Mem { min, max, .. } => {
                let n = i128::from(parse_memory(v).ok_or("argument must be a memory value")?);
                if n < min || n > max {
                    return Err(bounds_error(min, max));
                }
                n.to_string()
            }
            Enum { values, .. } => match values.iter().find(|e| e.eq_ignore_ascii_case(v)) {
                Some(e) => e.to_string(),
                None => {
                    return Err(format!(
                        "argument(s) must be one of the following: {}",
                        values.join(", ")
                    ));
                }
            },
            Str { .. } | Other => return Ok(args.to_vec()),
        };
        Ok(vec![canonical])
    }

    /// Renders the directive with its (canonical) arguments as Redis's rewrite does, and
    /// whether the value differs from the default (so it must be written even if absent).
    pub(crate) fn render(&self, args: &[String]) -> (String, bool) {
        let first = args.first().map(String::as_str).unwrap_or("");
        let num = || first.parse::<i128>().unwrap_or(0);
        let (value, non_default) = match self.kind {
            Bool(default) => (first.to_string(), (first == "yes") != default),
            Int { default, .. } => (first.to_string(), num() != default),
            Mem { default, .. } => (format_memory(num()), num() != default),
            Str { default, .. } => (repr(first), default != Some(first)),
            Enum { default, .. } => (first.to_string(), first != default),
            Other => (
                args.iter().map(|a| token(a)).collect::<Vec<_>>().join(" "),
                true,
            ),
        };
        (format!("{} {value}", self.name), non_default)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn lookup_by_name_and_alias() {
        assert_eq!(lookup("PORT").unwrap().name, "port");
        assert_eq!(lookup("slaveof").unwrap().name, "replicaof");
        assert_eq!(lookup("slave-priority").unwrap().name, "replica-priority");
        assert!(lookup("nonsense").is_none());
        for name in [
            "repl-diskless-sync-delay",
            "enable-protected-configs",
            "enable-debug-command",
            "acllog-max-len",
            "tls-port",
            "tls-cert-file",
        ] {
            assert!(lookup(name).is_some(), "{name}");
        }
    }

    #[test]
    fn validation_texts() {
        type Case<'a> = (&'a str, &'a [&'a str], Result<&'a [&'a str], &'a str>);
        let cases: &[Case] = &[
            ("protected-mode", &["YES"], Ok(&["yes"])),
            (
                "protected-mode",
                &["maybe"],
                Err("argument must be 'yes' or 'no'"),
            ),
            (
                "port",
                &["70000"],
                Err("argument must be between 0 and 65535 inclusive"),
            ),
            (
                "port",
                &["abc"],
                Err("argument couldn't be parsed into an integer"),
            ),
            ("port", &["1", "2"], Err("wrong number of arguments")),
            (
                "acllog-max-len",
                &["-1"],
                Err("argument must be between 0 and 9223372036854775807 inclusive"),
            ),
            (
                "loglevel",
                &["loud"],
                Err("argument(s) must be one of the following: debug, verbose, notice, warning"),
            ),
            ("loglevel", &["WARNING"], Ok(&["warning"])),
            ("maxmemory", &["1gb"], Ok(&["1073741824"])),
            (
                "maxmemory",
                &["lots"],
                Err("argument must be a memory value"),
            ),
            ("enable-debug-command", &["local"], Ok(&["local"])),
            ("logfile", &[""], Ok(&[""])),
        ];
        for (name, args, want) in cases {
            let got = lookup(name).unwrap().check(&s(args));
            let want = want.map(s).map_err(String::from);
            assert_eq!(got, want, "{name} {args:?}");
        }
    }

    #[test]
    fn rendering() {
        assert_eq!(
            lookup("logfile").unwrap().render(&s(&["log.txt"])),
            ("logfile \"log.txt\"".into(), true)
        );
        assert_eq!(
            lookup("port").unwrap().render(&s(&["6379"])),
            ("port 6379".into(), false)
        );
        assert_eq!(
            lookup("maxmemory").unwrap().render(&s(&["1073741824"])),
            ("maxmemory 1gb".into(), true)
        );
        assert_eq!(
            lookup("repl-diskless-sync-delay")
                .unwrap()
                .render(&s(&["0"])),
            ("repl-diskless-sync-delay 0".into(), true)
        );
        assert_eq!(
            lookup("enable-debug-command").unwrap().render(&s(&["no"])),
            ("enable-debug-command no".into(), false)
        );
        assert_eq!(parse_memory("10KB"), Some(10240));
        assert_eq!(parse_memory("3k"), Some(3000));
        assert_eq!(parse_memory("kb"), None);
    }
}
