//! The newer command surface: Valkey's aliases, Redis 7.2's `SENTINEL CONFIG` and the
//! control-character refusals, with their exact error texts, under each compatibility setting.

use super::*;
use crate::config::{Compat, SentinelConfig};
use crate::{Persist, Saved};
use std::sync::{Arc, Mutex};

/// Counts saves and keeps the last state saved.
#[derive(Clone, Default)]
struct Saves(Arc<Mutex<Vec<SentinelConfig>>>);

impl Persist for Saves {
    fn save(&mut self, _: u64, state: SentinelConfig, _: bool) -> Result<Saved, String> {
        self.0.lock().unwrap().push(state);
        Ok(Saved::Durable)
    }
}

fn sentinel(compat: Compat) -> (Sentinel, Saves) {
    let saves = Saves::default();
    let cfg = SentinelConfig {
        myid: Some("f".repeat(40)),
        masters: vec![MasterConfig::new("mymaster", "127.0.0.1", 6379, 2)],
        ..SentinelConfig::new()
    };
    let options = crate::Options {
        compat,
        ..crate::Options::new(26379, None, 7)
    };
    let s = Sentinel::new(cfg, options, Box::new(saves.clone()), 1_000).unwrap();
    (s, saves)
}

fn run(s: &mut Sentinel, line: &str) -> Reply {
    let args: Vec<Bytes> = line
        .split(' ')
        .map(|w| Bytes::copy_from_slice(w.as_bytes()))
        .collect();
    s.command(&args, 1_000)
}

fn flat(reply: Reply) -> Vec<String> {
    let Reply::Map(pairs) = reply else {
        panic!("{reply:?}")
    };
    pairs
        .into_iter()
        .flat_map(|(k, v)| [k, v])
        .map(|r| r.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn primary_names_are_aliases_of_the_master_ones() {
    let (mut s, _) = sentinel(Compat::Redis70);
    assert_eq!(
        run(&mut s, "PRIMARY mymaster"),
        run(&mut s, "MASTER mymaster")
    );
    assert_eq!(run(&mut s, "primaries"), run(&mut s, "masters"));
    assert_eq!(
        run(&mut s, "GET-PRIMARY-ADDR-BY-NAME mymaster"),
        run(&mut s, "GET-MASTER-ADDR-BY-NAME mymaster")
    );
    assert_eq!(
        run(&mut s, "IS-PRIMARY-DOWN-BY-ADDR 127.0.0.1 6379 0 *"),
        Reply::Array(vec![Reply::Int(0), Reply::bulk("*"), Reply::Int(0)])
    );
    // A client asking the sentinel to vote for itself is granted the vote (the master
    // answering or not), as upstream does.
    let own = format!(
        "IS-PRIMARY-DOWN-BY-ADDR 127.0.0.1 6379 99 {}",
        "f".repeat(40)
    );
    assert_eq!(
        run(&mut s, &own),
        Reply::Array(vec![
            Reply::Int(0),
            Reply::bulk("f".repeat(40)),
            Reply::Int(99)
        ])
    );
    assert_eq!(
        run(&mut s, "PRIMARY nosuch"),
        Reply::err("ERR No such master with that name")
    );
    assert_eq!(
        run(&mut s, "PRIMARY"),
        Reply::err("ERR wrong number of arguments for 'sentinel|primary' command")
    );
    assert!(Sentinel::command_is_read_only(&[Bytes::from_static(
        b"get-primary-addr-by-name"
    )]));
}

#[test]
fn primary_reboot_period_is_set_under_both_names() {
    let (mut s, _) = sentinel(Compat::Valkey8);
    for (name, ms) in [("primary", 5000), ("master", 6000)] {
        let line = format!("SET mymaster {name}-reboot-down-after-period {ms}");
        assert_eq!(run(&mut s, &line), Reply::ok());
        assert_eq!(s.config().masters[0].master_reboot_down_after_period_ms, ms);
    }
    assert_eq!(
        run(&mut s, "SET mymaster primary-reboot-down-after-period -1"),
        Reply::err("ERR Invalid argument '-1' for SENTINEL SET 'primary-reboot-down-after-period'")
    );
}

#[test]
fn config_set_takes_several_pairs_all_or_nothing_with_one_flush() {
    let (mut s, saves) = sentinel(Compat::Redis72);
    let before = saves.0.lock().unwrap().len();
    assert_eq!(
        run(
            &mut s,
            "CONFIG SET resolve-hostnames yes announce-port 1234 loglevel WARNING"
        ),
        Reply::ok()
    );
    assert_eq!(saves.0.lock().unwrap().len(), before + 1);
    assert_eq!(s.loglevel(), "warning");
    assert_eq!(
        saves.0.lock().unwrap().last().unwrap().loglevel.as_deref(),
        Some("warning")
    );
    for (line, error) in [
        (
            "CONFIG SET announce-port 1 does-not-exist yes",
            "ERR Invalid argument 'does-not-exist' to SENTINEL CONFIG SET",
        ),
        (
            "CONFIG SET announce-port 1 resolve-hostnames no ANNOUNCE-PORT 2",
            "ERR Duplicate argument 'ANNOUNCE-PORT' to SENTINEL CONFIG SET",
        ),
        (
            "CONFIG SET announce-port 1 announce-ip",
            "ERR Missing argument 'announce-ip' value",
        ),
        (
            "CONFIG SET resolve-hostnames no announce-port -1234",
            "ERR Invalid value '-1234' to SENTINEL CONFIG SET 'announce-port'",
        ),
        (
            "CONFIG SET loglevel loud",
            "ERR Invalid value 'loud' to SENTINEL CONFIG SET 'loglevel'",
        ),
        (
            "CONFIG SET announce-ip 1.2.3.4\nsentinel",
            "ERR announce-ip must not contain control characters",
        ),
        (
            "CONFIG DEL x",
            "ERR Only SENTINEL CONFIG GET <param> [<param> <param> ...] / SET <param> <value> [<param> <value> ...] are supported.",
        ),
    ] {
        assert_eq!(run(&mut s, line), Reply::err(error), "{line}");
    }
    // Nothing of the refused requests was applied.
    assert_eq!(
        flat(run(&mut s, "CONFIG GET resolve-hostnames announce-port")),
        ["resolve-hostnames", "yes", "announce-port", "1234"]
    );
    assert_eq!(saves.0.lock().unwrap().len(), before + 1);
}

#[test]
fn config_get_lists_each_match_once_and_ignores_unknown_names() {
    let (mut s, _) = sentinel(Compat::Valkey8);
    assert_eq!(
        flat(run(
            &mut s,
            "CONFIG GET resolve-hostnames resolve-hostnames does-not-exist"
        )),
        ["resolve-hostnames", "no"]
    );
    assert_eq!(
        flat(run(&mut s, "CONFIG GET log* *level loglevel")),
        ["loglevel", "notice"]
    );
    assert_eq!(
        flat(run(&mut s, "CONFIG GET announce-port announce*")),
        [
            "announce-port",
            "0",
            "announce-hostnames",
            "no",
            "announce-ip",
            ""
        ]
    );
}

#[test]
fn redis_7_0_keeps_its_one_pair_config() {
    let (mut s, _) = sentinel(Compat::Redis70);
    let shape = "ERR Only SENTINEL CONFIG GET <option> / SET <option> <value> are supported.";
    assert_eq!(run(&mut s, "CONFIG GET a b"), Reply::err(shape));
    assert_eq!(
        run(&mut s, "CONFIG SET resolve-hostnames yes announce-port 1"),
        Reply::err(shape)
    );
    assert_eq!(
        run(&mut s, "CONFIG SET loglevel debug"),
        Reply::err("ERR Invalid argument 'loglevel' to SENTINEL CONFIG SET")
    );
    assert_eq!(flat(run(&mut s, "CONFIG GET *")).len(), 12);
    assert_eq!(run(&mut s, "CONFIG SET announce-port 7"), Reply::ok());
}

#[test]
fn control_characters_are_refused_in_names_scripts_and_commands() {
    let (mut s, _) = sentinel(Compat::Redis70);
    for (line, error) in [
        (
            "MONITOR bad\nname 127.0.0.1 6380 2",
            "ERR Master name must not contain control characters",
        ),
        (
            "SET mymaster notification-script /tmp/ok\r/tmp/evil.sh",
            "ERR notification-script must not contain control characters",
        ),
        (
            "SET mymaster client-reconfig-script /tmp/\x7f",
            "ERR client-reconfig-script must not contain control characters",
        ),
        (
            "SET mymaster rename-command CONFIG NEW\nCONFIG",
            "ERR rename-command must not contain control characters",
        ),
    ] {
        assert_eq!(run(&mut s, line), Reply::err(error), "{line:?}");
    }
    // Credentials may hold them: the rewrite escapes them.
    assert_eq!(run(&mut s, "SET mymaster auth-pass x\ny"), Reply::ok());
    assert_eq!(s.config().masters[0].auth_pass.as_deref(), Some("x\ny"));
}

#[test]
fn help_follows_the_setting() {
    let lines = |compat| {
        let (mut s, _) = sentinel(compat);
        let Reply::Array(lines) = run(&mut s, "HELP") else {
            panic!()
        };
        lines
            .into_iter()
            .map(|l| l.as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    let (old, newer, valkey) = (
        lines(Compat::Redis70),
        lines(Compat::Redis72),
        lines(Compat::Valkey8),
    );
    assert!(old.contains(&"CONFIG GET <param>".to_string()));
    assert!(newer.contains(&"CONFIG GET <param> [param param param ...]".to_string()));
    assert_eq!(old.len(), newer.len());
    assert!(valkey.contains(&"PRIMARY <primary-name>".to_string()));
    assert_eq!(valkey.last().unwrap(), "    Print this help.");
}
