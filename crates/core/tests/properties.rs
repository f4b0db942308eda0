//! Property tests of the core's parsers (issue 17): the config tokenizer and its quoting, the
//! config loader, a master's persisted lines, and the hello message. Each property runs
//! proptest's default 256 cases (`PROPTEST_CASES` raises it).

use proptest::prelude::*;
use std::net::IpAddr;
use warden_core::config::tokenize::{repr, split_args, token};
use warden_core::config::{self, ConfigEnv, MasterConfig};
use warden_core::sentinel::hello::Hello;
use warden_core::sentinel::info;
use warden_core::sentinel::instance::Role;

/// Scripts exist, names do not resolve, every directory can be entered.
struct Env;

impl ConfigEnv for Env {
    fn is_executable(&self, _: &str) -> bool {
        true
    }
    fn resolve(&self, _: &str) -> Option<IpAddr> {
        None
    }
    fn check_dir(&self, _: &str) -> Result<(), String> {
        Ok(())
    }
}

/// ASCII strings with the characters the tokenizer treats specially over-represented.
fn ascii() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            3 => prop::sample::select(vec![' ', '\t', '"', '\'', '\\', '\n', '\r', '\0', 'x', '{']),
            5 => (0u8..0x80).prop_map(char::from),
        ],
        0..24,
    )
    .prop_map(|chars| chars.into_iter().collect())
}

/// A value the loader takes as one word: printable, no blanks or quotes, not empty.
fn word() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_.:-]{1,16}"
}

/// An IPv4 address (a master's or a replica's: without `resolve-hostnames` the loader wants
/// addresses).
fn ip() -> impl Strategy<Value = String> {
    any::<[u8; 3]>().prop_map(|[a, b, c]| format!("10.{a}.{b}.{c}"))
}

fn master() -> impl Strategy<Value = MasterConfig> {
    (
        word(),
        ip(),
        1u16..,
        1u32..10,
        (1u64..100_000_000, 1u64..100_000_000, 1i64..100),
        (any::<u64>(), any::<u64>()),
        prop::option::of(ascii().prop_filter("a password is not empty", |p| !p.is_empty())),
        prop::collection::btree_set((ip(), 1u16..), 0..4),
        prop::collection::btree_map("[0-9a-f]{40}", (ip(), 1u16..), 0..4),
    )
        .prop_map(
            |(name, host, port, quorum, timers, epochs, auth_pass, replicas, sentinels)| {
                let mut m = MasterConfig::new(&name, &host, port, quorum);
                (m.down_after_ms, m.failover_timeout_ms, m.parallel_syncs) = timers;
                (m.config_epoch, m.leader_epoch) = epochs;
                m.auth_pass = auth_pass;
                m.known_replicas = replicas.into_iter().collect();
                let mut seen = std::collections::BTreeSet::new();
                m.known_sentinels = sentinels
                    .into_iter()
                    .filter(|(_, addr)| seen.insert(addr.clone()))
                    .map(|(runid, (host, port))| (host, port, runid))
                    .collect();
                m
            },
        )
}

proptest! {
    /// `repr` is read back as the same string by the tokenizer (Redis's `sdscatrepr` and
    /// `sdssplitargs`), and so is `token`, the rewrite's quoting: a line of them splits into
    /// the original words.
    #[test]
    fn quoting_reads_back(words in prop::collection::vec(ascii(), 1..6)) {
        let repr_line: Vec<String> = words.iter().map(|w| repr(w)).collect();
        prop_assert_eq!(split_args(&repr_line.join(" ")), Some(words.clone()));
        let token_line: Vec<String> = words.iter().map(|w| token(w)).collect();
        prop_assert_eq!(split_args(&token_line.join(" ")), Some(words));
    }

    /// The tokenizer and the loader take any text without panicking; an error names a line of
    /// the text.
    #[test]
    fn the_loader_never_panics(lines in prop::collection::vec(
        prop_oneof![
            ascii(),
            ("sentinel (monitor|down-after-milliseconds|known-replica|known-sentinel|config-epoch|leader-epoch|auth-pass|vip|current-epoch|myid) ", ascii())
                .prop_map(|(head, rest)| format!("{head}{rest}")),
            (word(), word(), 0u32..70000).prop_map(|(n, h, p)| format!("sentinel monitor {n} {h} {p} 2")),
        ],
        0..8,
    )) {
        let text = lines.join("\n");
        for line in &lines {
            let _ = split_args(line);
        }
        if let Err(e) = config::parse(&text, &Env) {
            prop_assert!(e.line >= 1 && e.line <= text.split('\n').count(), "{e:?}");
        }
    }

    /// A master's persisted lines (what the rewrite and the journal write) load back into the
    /// same master.
    #[test]
    fn a_master_reads_back_from_its_lines(m in master()) {
        let text = config::master_text(&m);
        let parsed = config::parse(&text, &Env);
        prop_assert!(parsed.is_ok(), "{text}: {parsed:?}");
        prop_assert_eq!(parsed.unwrap().sentinel.masters, vec![m]);
    }

    /// A hello reads back as the fields it was formatted from.
    #[test]
    fn a_hello_reads_back(
        ip in "[0-9a-f.:]{1,39}",
        port in 1u16..,
        runid in "[0-9a-f]{40}",
        epoch in any::<u64>(),
        name in "[^,]{1,30}",
        master_ip in "[0-9a-z.:-]{1,39}",
        master_port in 1u16..,
        config_epoch in any::<u64>(),
    ) {
        let hello = Hello {
            ip, port, runid, current_epoch: epoch, master_name: name, master_ip, master_port,
            master_config_epoch: config_epoch,
        };
        prop_assert_eq!(Hello::parse(hello.format().as_bytes()), Some(hello));
    }

    /// Any payload is parsed without panicking, and one with the wrong number of fields is
    /// refused.
    #[test]
    fn any_hello_payload_is_safe(payload in prop::collection::vec(any::<u8>(), 0..300)) {
        let parsed = Hello::parse(&payload);
        if payload.iter().filter(|&&b| b == b',').count() != 7 {
            prop_assert!(parsed.is_none());
        }
    }

    /// The INFO fields a sentinel reads come back from a reply that has them among other
    /// lines, with `\r\n` or `\n` endings.
    #[test]
    fn info_fields_read_back(
        run_id in "[0-9a-f]{40}",
        master in any::<bool>(),
        replicas in prop::collection::vec((ip(), 1u16..), 0..5),
        link_up in any::<bool>(),
        priority in any::<i64>(),
        offset in any::<u64>(),
        noise in prop::collection::vec("[a-z_]{1,12}:[ -~]{0,20}", 0..6),
        crlf in any::<bool>(),
    ) {
        let mut lines = vec![format!("run_id:{run_id}")];
        lines.extend(noise.iter().cloned());
        if master {
            lines.push("role:master".into());
            for (n, (ip, port)) in replicas.iter().enumerate() {
                lines.push(format!("slave{n}:ip={ip},port={port},state=online,offset=1,lag=0"));
            }
        } else {
            lines.push("role:slave".into());
            lines.push("master_host:10.1.2.3".into());
            lines.push("master_port:6379".into());
            lines.push(format!("master_link_status:{}", if link_up { "up" } else { "down" }));
            lines.push(format!("slave_priority:{priority}"));
            lines.push(format!("slave_repl_offset:{offset}"));
        }
        let text = lines.join(if crlf { "\r\n" } else { "\n" });
        let parsed = info::parse(&text);
        prop_assert_eq!(parsed.run_id.as_deref(), Some(run_id.as_str()));
        if master {
            prop_assert_eq!(parsed.role, Some(Role::Master));
            prop_assert_eq!(parsed.replicas, replicas);
        } else {
            prop_assert_eq!(parsed.role, Some(Role::Slave));
            prop_assert_eq!(parsed.master_host.as_deref(), Some("10.1.2.3"));
            prop_assert_eq!(parsed.master_port, Some(6379));
            prop_assert_eq!(parsed.master_link_up, Some(link_up));
            prop_assert_eq!(parsed.slave_priority, Some(priority));
            prop_assert_eq!(parsed.slave_repl_offset, Some(offset));
        }
    }

    /// Any text is read without panicking.
    #[test]
    fn any_info_text_is_safe(text in prop::collection::vec(
        prop_oneof![ascii(), "(slave[0-9]{1,3}|role|master_port|run_id):[ -~]{0,30}".prop_map(String::from)],
        0..10,
    )) {
        let _ = info::parse(&text.join("\r\n"));
    }
}
