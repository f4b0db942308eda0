//! Table-driven tests of config loading (texts checked against redis-sentinel 7.0.15).

use super::parse::{command_line, config_text, parse, ConfigEnv, ConfigError, Parsed};
use super::{MasterConfig, SentinelConfig, ServerConfig};
use std::net::IpAddr;

/// A fake world: a few executables, resolvable names and missing directories.
pub(crate) struct FakeEnv;

impl ConfigEnv for FakeEnv {
    fn is_executable(&self, path: &str) -> bool {
        matches!(
            path,
            "/bin/notify.sh" | "/bin/reconf.sh" | "/work/dir/rel.sh"
        )
    }
    fn resolve(&self, host: &str) -> Option<IpAddr> {
        (host == "redis.example").then(|| "192.0.2.7".parse().unwrap())
    }
    fn check_dir(&self, path: &str) -> Result<(), String> {
        if path.starts_with("/nonexistent") {
            Err("No such file or directory".into())
        } else {
            Ok(())
        }
    }
}

pub(crate) fn load(text: &str) -> Result<Parsed, ConfigError> {
    parse(text, &FakeEnv)
}

fn ok(text: &str) -> Parsed {
    load(text).unwrap_or_else(|e| panic!("{text:?}: {e}"))
}

fn master(p: &Parsed) -> &MasterConfig {
    &p.sentinel.masters[0]
}

const MON: &str = "sentinel monitor m 127.0.0.1 6379 2\n";

#[test]
fn every_error_text_with_its_line() {
    // (config text, expected line number, expected reason)
    let cases: &[(&str, usize, &str)] = &[
        ("# c\n\nfoo bar\n", 3, "Bad directive or wrong number of arguments"),
        ("port 1 2", 1, "wrong number of arguments"),
        ("port abc", 1, "argument couldn't be parsed into an integer"),
        ("port 70000", 1, "argument must be between 0 and 65535 inclusive"),
        ("protected-mode maybe", 1, "argument must be 'yes' or 'no'"),
        ("loglevel loud", 1, "argument(s) must be one of the following: debug, verbose, notice, warning"),
        ("acllog-max-len -1", 1, "argument must be between 0 and 9223372036854775807 inclusive"),
        ("protected-mode \"no\"x", 1, "Unbalanced quotes in configuration line"),
        ("dir /nonexistent", 1, "No such file or directory"),
        ("include /etc/other.conf", 1, "include must be expanded before parsing"),
        ("sentinel bogus", 1, "Unrecognized sentinel configuration statement."),
        ("sentinel monitor m 127.0.0.1 6379", 1, "Unrecognized sentinel configuration statement."),
        ("sentinel monitor m 127.0.0.1 6379 0", 1, "Quorum must be 1 or greater."),
        ("sentinel monitor m 127.0.0.1 70000 1", 1, "Invalid port number."),
        ("sentinel monitor m 'a b' 1 1", 1, "Can't resolve instance hostname."),
        ("sentinel monitor m redis.example 1 1", 1, "Can't resolve instance hostname."),
        ("sentinel monitor m 127.0.0.1 1 1\nsentinel monitor m 127.0.0.2 1 1", 2, "Duplicate master name."),
        ("x\n  sentinel   down-after-milliseconds nom 5", 1, "Bad directive or wrong number of arguments"),
        ("  sentinel   down-after-milliseconds nom 5", 1, "No such master with specified name."),
        ("sentinel down-after-milliseconds m 0\nsentinel monitor m 127.0.0.1 1 1", 1, "negative or zero time parameter."),
        ("sentinel failover-timeout m -5\nsentinel monitor m 127.0.0.1 1 1", 1, "negative or zero time parameter."),
        ("sentinel master-reboot-down-after-period m -1\nsentinel monitor m 127.0.0.1 1 1", 1, "negative time parameter."),
        ("sentinel notification-script m /nope\nsentinel monitor m 127.0.0.1 1 1", 1, "Notification script seems non existing or non executable."),
        (
            "sentinel client-reconfig-script m /nope\nsentinel monitor m 127.0.0.1 1 1",
            1,
            "Client reconfiguration script seems non existing or non executable.",
        ),
        ("sentinel myid abc", 1, "Malformed Sentinel id in myid option."),
        ("sentinel deny-scripts-reconfig maybe", 1, "Please specify yes or no for the deny-scripts-reconfig options."),
        ("sentinel resolve-hostnames 1", 1, "Please specify yes or no for the resolve-hostnames option."),
        ("sentinel announce-hostnames 0", 1, "Please specify yes or no for the announce-hostnames option."),
        (
            "sentinel monitor m 127.0.0.1 1 1\nsentinel known-replica m 127.0.0.1 2\nsentinel known-slave m 127.0.0.1 2",
            3,
            "Duplicate hostname and port for replica.",
        ),
        ("sentinel monitor m 127.0.0.1 1 1\nsentinel known-replica m 127.0.0.1 -2", 2, "Invalid port number."),
        ("sentinel monitor m 127.0.0.1 1 1\nsentinel known-replica m host 2", 2, "Can't resolve instance hostname."),
        (
            "sentinel monitor m 127.0.0.1 1 1\nsentinel known-sentinel m 127.0.0.1 2 r1\nsentinel known-sentinel m 127.0.0.1 3 r1",
            3,
            "Duplicate runid for sentinel.",
        ),
        ("sentinel known-sentinel nom 127.0.0.1 2 r1", 1, "No such master with specified name."),
        (
            "sentinel monitor m 127.0.0.1 1 1\nsentinel rename-command m config x\nsentinel rename-command m CONFIG y",
            3,
            "Same command renamed multiple times with rename-command.",
        ),
        ("sentinel vip m 10.0.0.5 eth0", 1, "No such master with specified name."),
        ("sentinel monitor m 127.0.0.1 1 1\nsentinel vip-lease m 100\nsentinel vip m 10.0.0.5 eth0", 2, "No VIP configured for this master."),
        ("sentinel monitor m 127.0.0.1 1 1\nsentinel vip m 10.0.0.5 eth0\nsentinel vip m 10.0.0.6 eth0", 3, "Duplicate VIP for this master."),
        ("sentinel monitor m 127.0.0.1 1 1\nsentinel vip m 10.0.0.256 eth0", 2, "Invalid VIP address."),
        ("sentinel monitor m 127.0.0.1 1 1\nsentinel vip m fd00::1/129 eth0", 2, "Invalid VIP prefix length."),
        ("sentinel monitor m 127.0.0.1 1 1\nsentinel vip m 10.0.0.5 a/b", 2, "Invalid VIP interface name."),
        ("sentinel monitor m 127.0.0.1 1 1\nsentinel vip m 10.0.0.5", 2, "Unrecognized sentinel configuration statement."),
        ("sentinel monitor m 127.0.0.1 1 1\nsentinel vip m 10.0.0.5 eth0 bgp", 2, "Invalid VIP mode (use arp or routed)."),
        ("sentinel monitor m 127.0.0.1 1 1\nsentinel vip m 10.0.0.0/24 eth0 routed", 2, "A routed VIP must be a host address (/32 or /128)."),
        ("sentinel monitor m 127.0.0.1 1 1\nsentinel vip-mode m routed", 2, "No VIP configured for this master."),
        ("sentinel monitor m 127.0.0.1 1 1\nsentinel vip m fd00::/64 eth0\nsentinel vip-mode m routed", 3, "A routed VIP must be a host address (/32 or /128)."),
        ("sentinel monitor m 127.0.0.1 1 1\nsentinel vip m 10.0.0.5 eth0\nsentinel vip-garp-count m 0", 3, "vip-garp-count must be between 1 and 100."),
        ("sentinel monitor m 127.0.0.1 1 1\nsentinel vip m 10.0.0.5 eth0\nsentinel vip-garp-interval m 0", 3, "negative or zero time parameter."),
        ("sentinel monitor m 127.0.0.1 1 1\nsentinel vip m 10.0.0.5 eth0\nsentinel vip-garp-repeat m -1", 3, "negative time parameter."),
        ("sentinel monitor m 127.0.0.1 1 1\nsentinel vip m 10.0.0.5 eth0\nsentinel vip-garp-refresh m x", 3, "Invalid VIP option value."),
        ("sentinel monitor m 127.0.0.1 1 1\nsentinel vip m 10.0.0.5 eth0\nsentinel vip-lease m 0", 3, "negative or zero time parameter."),
        // Generic errors come first, wherever the sentinel error is.
        ("sentinel bogus\nport x", 2, "argument couldn't be parsed into an integer"),
        // Pre-monitor lines load first, then monitors, then the rest.
        ("sentinel down-after-milliseconds nom 5\nsentinel myid short", 2, "Malformed Sentinel id in myid option."),
        ("sentinel down-after-milliseconds nom 5\nsentinel monitor a 127.0.0.1 1 0", 2, "Quorum must be 1 or greater."),
    ];
    for (text, line, reason) in cases {
        let err = load(text).expect_err(text);
        assert_eq!(
            (err.line, err.reason.as_str()),
            (*line, *reason),
            "config {text:?}"
        );
        let want = text.split('\n').nth(line - 1).unwrap().trim();
        assert_eq!(err.text, want, "config {text:?}");
    }
}

#[test]
fn error_renderings() {
    let err = load("# c\n\nsentinel monitor m 127.0.0.1 6379 0\n").unwrap_err();
    assert_eq!(
        err.stderr_text(),
        "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line 3\n\
         >>> 'sentinel monitor m 127.0.0.1 6379 0'\nQuorum must be 1 or greater.\n"
    );
    assert_eq!(
        err.one_line("/etc/redis/sentinel.conf"),
        "/etc/redis/sentinel.conf:3: Quorum must be 1 or greater."
    );
}

#[test]
fn sentinel_directives_are_stored() {
    let p = ok("SENTINEL MONITOR m 127.0.0.1 6380 3
        sentinel down-after-milliseconds m 5000
        sentinel failover-timeout m 60000
        sentinel parallel-syncs m -2
        sentinel notification-script m /bin/notify.sh
        sentinel client-reconfig-script m /bin/reconf.sh
        sentinel auth-pass m \"p w\"
        sentinel auth-user m u
        sentinel master-reboot-down-after-period m 100
        sentinel rename-command m config xconfig
        sentinel config-epoch m 9
        sentinel leader-epoch m 4
        sentinel known-replica m 127.0.0.1 6381
        sentinel known-slave m 127.0.0.1 6382
        sentinel known-sentinel m 127.0.0.1 26380 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
        sentinel known-sentinel m 127.0.0.1 26381
        sentinel current-epoch 5
        sentinel myid 0123456789012345678901234567890123456789
        sentinel announce-ip 10.1.1.1
        sentinel announce-port 26999
        sentinel deny-scripts-reconfig no
        sentinel sentinel-user su
        sentinel sentinel-pass sp
        sentinel resolve-hostnames yes
        sentinel announce-hostnames yes
        sentinel monitor h redis.example 6379 1
        sentinel monitor u unresolvable.example 6379 1");
    let m = master(&p);
    let mut want = MasterConfig::new("m", "127.0.0.1", 6380, 3);
    want.down_after_ms = 5000;
    want.failover_timeout_ms = 60000;
    want.parallel_syncs = -2;
    want.notification_script = Some("/bin/notify.sh".into());
    want.client_reconfig_script = Some("/bin/reconf.sh".into());
    want.auth_pass = Some("p w".into());
    want.auth_user = Some("u".into());
    want.master_reboot_down_after_period_ms = 100;
    want.renamed_commands = vec![("CONFIG".into(), "xconfig".into())];
    want.config_epoch = 9;
    want.leader_epoch = 4;
    want.known_replicas = vec![("127.0.0.1".into(), 6381), ("127.0.0.1".into(), 6382)];
    want.known_sentinels = vec![("127.0.0.1".into(), 26380, "a".repeat(40))];
    assert_eq!(m, &want);
    let s = &p.sentinel;
    assert_eq!(s.current_epoch, 9, "config-epoch raises current-epoch");
    assert_eq!(
        s.myid.as_deref(),
        Some("0123456789012345678901234567890123456789")
    );
    assert_eq!(
        (s.announce_ip.as_deref(), s.announce_port),
        (Some("10.1.1.1"), 26999)
    );
    assert!(!s.deny_scripts_reconfig && s.resolve_hostnames && s.announce_hostnames);
    assert_eq!(
        (s.sentinel_user.as_deref(), s.sentinel_pass.as_deref()),
        (Some("su"), Some("sp"))
    );
    assert_eq!(s.masters[1].host, "redis.example");
    assert_eq!(s.masters[2].host, "unresolvable.example");
    assert_eq!(
        p.warnings,
        vec!["Failed to resolve hostname 'unresolvable.example'".to_string()]
    );
}

#[test]
fn defaults_and_quirks() {
    let p = ok(MON);
    assert_eq!(
        p.sentinel.masters,
        vec![MasterConfig::new("m", "127.0.0.1", 6379, 2)]
    );
    assert!(p.sentinel.deny_scripts_reconfig);
    assert_eq!(p.server, ServerConfig::default());
    // Empty announce-ip / sentinel-user / sentinel-pass are ignored; `sentinel` alone too.
    let p = ok(
        "sentinel\nsentinel announce-ip \"\"\nsentinel sentinel-user ''\nsentinel sentinel-pass ''",
    );
    assert_eq!(p.sentinel, SentinelConfig::new());
    // current-epoch keeps the maximum; IPv6 addresses are canonical.
    let p =
        ok("sentinel current-epoch 7\nsentinel current-epoch 3\nsentinel monitor m 0:0::1 6379 1");
    assert_eq!(p.sentinel.current_epoch, 7);
    assert_eq!(master(&p).host, "::1");
    // Relative scripts are checked inside `dir`.
    let p = ok(
        "dir /work/dir\nsentinel monitor m 127.0.0.1 1 1\nsentinel notification-script m rel.sh",
    );
    assert_eq!(master(&p).notification_script.as_deref(), Some("rel.sh"));
    // atoi semantics for numbers Redis reads with atoi.
    let p =
        ok("sentinel monitor m 127.0.0.1 6379x 2abc\nsentinel down-after-milliseconds m 1500ms");
    assert_eq!(
        (master(&p).port, master(&p).quorum, master(&p).down_after_ms),
        (6379, 2, 1500)
    );
}

#[test]
fn generic_directives() {
    let p = ok("port 26380
        bind 127.0.0.1 ::1
        protected-mode yes
        daemonize YES
        pidfile /run/x.pid
        logfile \"\"
        loglevel WARNING
        dir /var/lib/redis
        supervised systemd
        requirepass secret
        user alice on >pw ~* +@all
        aclfile /etc/redis/users.acl
        maxclients 100
        repl-diskless-sync-delay 0
        enable-protected-configs yes
        enable-debug-command local
        acllog-max-len 128
        tls-port 0
        tls-cert-file /x.crt
        slaveof 127.0.0.1 6379
        list-max-ziplist-entries 512
        save \"\"
        masterauth \"\"");
    let s = &p.server;
    assert_eq!(s.port, 26380);
    assert_eq!(s.bind, vec!["127.0.0.1", "::1"]);
    assert!(s.protected_mode && s.daemonize);
    assert_eq!(s.pidfile.as_deref(), Some("/run/x.pid"));
    assert_eq!((s.logfile.as_str(), s.loglevel.as_str()), ("", "warning"));
    assert_eq!(s.dir.as_deref(), Some("/var/lib/redis"));
    assert_eq!(s.supervised, "systemd");
    assert_eq!(s.requirepass.as_deref(), Some("secret"));
    assert_eq!(s.users, vec![vec!["alice", "on", ">pw", "~*", "+@all"]]);
    assert_eq!(s.aclfile.as_deref(), Some("/etc/redis/users.acl"));
    assert_eq!(s.maxclients, 100);
    let other: Vec<(&str, Vec<&str>)> = s
        .other
        .iter()
        .map(|(k, v)| (k.as_str(), v.iter().map(String::as_str).collect()))
        .collect();
    assert_eq!(
        other,
        vec![
            ("acllog-max-len", vec!["128"]),
            ("enable-debug-command", vec!["local"]),
            ("enable-protected-configs", vec!["yes"]),
            ("repl-diskless-sync-delay", vec!["0"]),
            ("replicaof", vec!["127.0.0.1", "6379"]),
            ("save", vec![""]),
            ("tls-cert-file", vec!["/x.crt"]),
            ("tls-port", vec!["0"]),
        ]
    );
    // One quoted argument of a multi-argument directive is split again.
    assert_eq!(
        ok("bind \"10.0.0.1 10.0.0.2\"").server.bind,
        vec!["10.0.0.1", "10.0.0.2"]
    );
    // A relative dir is relative to the previous one (Redis chdirs while loading).
    assert_eq!(ok("dir a\ndir b/").server.dir.as_deref(), Some("a/b/"));
}

#[test]
fn vip_directives() {
    let p = ok("sentinel monitor m 127.0.0.1 6379 2
        sentinel vip m 10.0.0.5/24 eth0
        sentinel vip-garp-count m 3
        sentinel vip-garp-interval m 50
        sentinel vip-garp-repeat m 0
        sentinel vip-garp-refresh m 0
        sentinel down-after-milliseconds m 2000");
    let v = master(&p).vip.clone().unwrap();
    assert_eq!(
        (v.addr, v.prefix, v.interface.as_str()),
        ("10.0.0.5".parse().unwrap(), 24, "eth0")
    );
    assert_eq!(
        (
            v.garp_count,
            v.garp_interval_ms,
            v.garp_repeat_delay_ms,
            v.garp_refresh_ms
        ),
        (3, 50, 0, 0)
    );
    assert_eq!(v.lease_ms, 2000, "default lease = the final down-after");
    let p = ok("sentinel monitor m 127.0.0.1 6379 2\nsentinel vip m fd00::5 eth1\nsentinel vip-lease m 4000");
    let v = master(&p).vip.clone().unwrap();
    assert_eq!(
        (v.addr, v.prefix, v.lease_ms),
        ("fd00::5".parse().unwrap(), 128, 4000)
    );
    assert_eq!(
        (
            v.garp_count,
            v.garp_interval_ms,
            v.garp_repeat_delay_ms,
            v.garp_refresh_ms
        ),
        (5, 200, 2000, 60000)
    );
}

#[test]
fn shipped_configs_parse() {
    let p = ok(include_str!("testdata/debian-sentinel.conf"));
    assert!(p.server.daemonize);
    assert_eq!(
        p.server.pidfile.as_deref(),
        Some("/run/sentinel/redis-sentinel.pid")
    );
    assert_eq!(p.server.logfile, "/var/log/redis/redis-sentinel.log");
    assert_eq!(p.server.dir.as_deref(), Some("/var/lib/redis"));
    assert_eq!(
        p.server.other.get("acllog-max-len"),
        Some(&vec!["128".to_string()])
    );
    assert_eq!(
        p.sentinel.masters,
        vec![MasterConfig::new("mymaster", "127.0.0.1", 6379, 2)]
    );

    let p = ok(include_str!("testdata/harness.conf"));
    let m = master(&p);
    assert_eq!((m.name.as_str(), m.port, m.quorum), ("setmaster", 1, 2));
    assert_eq!(
        (m.down_after_ms, m.parallel_syncs, m.failover_timeout_ms),
        (20000, 2, 240000)
    );
    assert!(!p.sentinel.deny_scripts_reconfig);
    assert_eq!(p.server.dir.as_deref(), Some("./d"));
    assert_eq!(p.server.logfile, "log.txt");
}

#[test]
fn command_line_like_redis_server() {
    let args = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let cl = command_line(&args(&[
        "/etc/s.conf",
        "--port",
        "26380",
        "--sentinel",
        "--protected-mode",
        "no",
    ]));
    assert_eq!(cl.config_file.as_deref(), Some("/etc/s.conf"));
    assert_eq!(
        cl.options,
        "port \"26380\" \nsentinel \nprotected-mode \"no\" "
    );
    let cl = command_line(&args(&["--save", "--loglevel", "verbose", "--sentinel"]));
    assert_eq!(cl.config_file, None);
    assert_eq!(cl.options, "save \"\"\nloglevel \"verbose\" \nsentinel ");
    let cl = command_line(&args(&["s.conf", "--bind", "127.0.0.1", "::1", "--port 7"]));
    assert_eq!(cl.options, "bind \"127.0.0.1\" \"::1\" \nport 7 ");
    assert!(command_line(&args(&["s.conf", "-"])).config_from_stdin);

    // The options override the file and their errors point past it.
    let text = config_text("port 1\nsentinel monitor m 127.0.0.1 1 1\n", &cl.options);
    let p = ok(&text);
    assert_eq!((p.server.port, p.server.bind.len()), (7, 2));
    let bad = command_line(&args(&["s.conf", "--port", "x"]));
    let err = load(&config_text("port 1\n", &bad.options)).unwrap_err();
    assert_eq!((err.line, err.text.as_str()), (3, "port \"x\""));
}

/// Valkey's and Redis 7.2's additions: `loglevel nothing`, `enable-debug-assert`, the
/// primary-named reboot period, and Warden's `warden-compat`.
#[test]
fn newer_directives() {
    let p = ok("loglevel nothing
        enable-debug-assert yes
        warden-compat VALKEY-8
        sentinel monitor m 127.0.0.1 6379 2
        sentinel primary-reboot-down-after-period m 5000");
    assert_eq!(p.server.loglevel, "nothing");
    assert_eq!(p.server.compat(), super::Compat::Valkey8);
    assert_eq!(master(&p).master_reboot_down_after_period_ms, 5000);
    assert_eq!(ok("port 1").server.compat(), super::Compat::Redis70);
    let err = load("warden-compat redis-6").unwrap_err();
    assert_eq!(
        err.reason,
        "argument(s) must be one of the following: redis-7.0, redis-7.2, valkey-8"
    );
    let err =
        load("sentinel monitor m 127.0.0.1 6379 2\nsentinel primary-reboot-down-after-period m -1")
            .unwrap_err();
    assert_eq!(
        (err.line, err.reason.as_str()),
        (2, "negative time parameter.")
    );
}

/// A file valkey-sentinel 8.1 rewrote (`primary-reboot-down-after-period`, a quoted
/// `auth-pass`, `loglevel` and `user` lines of its own) loads with every value.
#[test]
fn a_config_written_by_valkey_sentinel_loads() {
    let p = ok(include_str!("testdata/valkey-written.conf"));
    let m = master(&p);
    assert_eq!(m.master_reboot_down_after_period_ms, 5000);
    assert_eq!(m.auth_pass.as_deref(), Some("my \"pass"));
    assert_eq!(m.down_after_ms, 2000);
    assert_eq!(p.server.loglevel, "verbose");
    assert_eq!(p.sentinel.announce_port, 1234);
}

/// Warden's HTTP side: `metrics-port` (0, the default, keeps it off) and `metrics-bind`.
#[test]
fn metrics_directives() {
    let p = ok("metrics-port 9355\nmetrics-bind 10.0.0.5 ::1");
    assert_eq!(p.server.metrics_port(), 9355);
    assert_eq!(p.server.metrics_bind(), ["10.0.0.5", "::1"]);
    let off = ok("port 1");
    assert_eq!(
        (off.server.metrics_port(), off.server.metrics_bind()),
        (0, &[][..])
    );
    let err = load("port 1\nmetrics-port 70000").unwrap_err();
    assert_eq!(
        (err.line, err.reason.as_str()),
        (2, "argument must be between 0 and 65535 inclusive")
    );
    assert!(load("metrics-port x").is_err());
}
