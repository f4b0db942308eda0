//! Warden under `warden-compat valkey-8` beside `valkey-sentinel` 8.1 (valkey-server under that
//! name, from `scripts/install-valkey.sh`), both monitoring the same Redis master: Valkey's
//! subcommands, Redis 7.2's `SENTINEL CONFIG`, `CLIENT SETINFO` and the command table answer as
//! valkey-sentinel answers; and each loads the config file the other rewrote.

use warden_integration::client::Client;
use warden_integration::resp::Value;
use warden_integration::servers::{Flavor, RedisServer, SentinelConf, SentinelServer};
use warden_integration::shape::{compare, Rules};
use warden_integration::wait::wait_until;

use std::time::Duration;

const MASTER: &str = "mymaster";

/// A master and, monitoring it, valkey-sentinel and Warden (in its Valkey mode).
struct Pair {
    valkey: SentinelServer,
    warden: SentinelServer,
    master: RedisServer,
}

fn pair() -> Pair {
    let master = RedisServer::start().expect("redis-server");
    let conf = SentinelConf::monitoring(MASTER, master.port, 2);
    let valkey = SentinelServer::start(Flavor::Valkey, &conf).expect("valkey-sentinel");
    let warden = SentinelServer::start(Flavor::Warden, &conf.line("warden-compat valkey-8"))
        .expect("warden");
    for s in [&valkey, &warden] {
        wait_until(Duration::from_secs(15), "the master's INFO", || {
            let m = s.master(MASTER).map_err(|e| e.to_string())?;
            match m.field_text("role-reported").as_deref() {
                Some("master") => Ok(()),
                _ => Err(m.to_string()),
            }
        })
        .unwrap_or_else(|e| panic!("{}: {e}", s.flavor));
    }
    Pair {
        valkey,
        warden,
        master,
    }
}

/// Sorts `COMMAND LIST` names, and `COMMAND INFO` entries with their subcommands (both in hash
/// order upstream).
fn sorted(reply: Value) -> Value {
    let name = |v: &Value| {
        v.as_text().or_else(|| {
            v.as_items()
                .and_then(|f| f.first())
                .and_then(Value::as_text)
        })
    };
    match reply {
        Value::Array(mut items) => {
            for item in &mut items {
                if let Value::Array(fields) = item {
                    if let Some(Value::Array(subs)) = fields.get_mut(9) {
                        subs.sort_by_key(|s| name(s));
                    }
                }
            }
            items.sort_by_key(|i| name(i));
            Value::Array(items)
        }
        other => other,
    }
}

#[test]
fn replies_match_valkey_sentinel() {
    let p = pair();
    let mut valkey = Client::connect(p.valkey.port).unwrap();
    let mut warden = Client::connect(p.warden.port).unwrap();
    let mut differences = Vec::new();
    let mut check = |line: &str, rules: Rules, sort: bool| {
        let args: Vec<&str> = line.split(' ').collect();
        let (mut v, mut w) = (valkey.call(&args).unwrap(), warden.call(&args).unwrap());
        if sort {
            (v, w) = (sorted(v), sorted(w));
        }
        for m in compare(&v, &w, rules) {
            differences.push(format!("{line}: {m}"));
        }
    };
    let master_down = format!(
        "SENTINEL IS-PRIMARY-DOWN-BY-ADDR 127.0.0.1 {} 0 *",
        p.master.port
    );
    for line in [
        "COMMAND COUNT",
        "SENTINEL GET-PRIMARY-ADDR-BY-NAME mymaster",
        "SENTINEL GET-PRIMARY-ADDR-BY-NAME nosuch",
        "SENTINEL PRIMARY nosuch",
        "SENTINEL PRIMARY",
        "SENTINEL PRIMARIES x",
        master_down.as_str(),
        "SENTINEL IS-PRIMARY-DOWN-BY-ADDR 127.0.0.1 1 0 *",
        "SENTINEL IS-PRIMARY-DOWN-BY-ADDR 127.0.0.1 abc 0 *",
        "SENTINEL SET mymaster primary-reboot-down-after-period -1",
        "SENTINEL SET mymaster primary-reboot-down-after-period 5000",
        "SENTINEL CONFIG GET *",
        "SENTINEL CONFIG GET log* *level loglevel resolve-hostnames nosuch",
        "SENTINEL CONFIG SET does-not-exist yes announce-port 1",
        "SENTINEL CONFIG SET announce-port 1 resolve-hostnames no announce-port 2",
        "SENTINEL CONFIG SET announce-port 1 announce-ip",
        "SENTINEL CONFIG SET resolve-hostnames yes announce-port -1234",
        "SENTINEL CONFIG SET loglevel loud",
        "SENTINEL CONFIG SET announce-port",
        "SENTINEL CONFIG GET",
        "SENTINEL HELP",
        "COMMAND GETKEYS ping",
        "SENTINEL CONFIG FOO bar",
        "SENTINEL CONFIG SET loglevel warning announce-port 1234",
        "SENTINEL CONFIG GET *",
        "SENTINEL CONFIG SET loglevel notice announce-port 0",
        "CLIENT SETINFO lib-name redis-py",
        "CLIENT SETINFO lib-ver 5.0",
        "CLIENT SETINFO lib-name",
        "CLIENT SETINFO name x",
        "CLIENT NO-TOUCH on",
        "COMMAND DOCS client|setinfo sentinel|primary sentinel|is-primary-down-by-addr",
        "COMMAND INFO client|setinfo sentinel|primaries sentinel|get-primary-addr-by-name",
    ] {
        check(line, Rules::EXACT, false);
    }
    check("SENTINEL PRIMARY mymaster", Rules::FLAT_MAPS, false);
    check("SENTINEL PRIMARIES", Rules::SHAPE, false);
    check("COMMAND LIST", Rules::EXACT, true);
    check("COMMAND", Rules::EXACT, true);
    assert!(
        differences.is_empty(),
        "{} difference(s) between warden and valkey-sentinel:\n  {}",
        differences.len(),
        differences.join("\n  ")
    );
}

/// The file one flushed, given to the other: every setting made before the flush is there.
#[test]
fn config_files_load_in_each_other() {
    let p = pair();
    for (from, to) in [(&p.valkey, Flavor::Warden), (&p.warden, Flavor::Valkey)] {
        let mut c = from.client().unwrap();
        let set = [
            "SENTINEL",
            "SET",
            MASTER,
            "primary-reboot-down-after-period",
            "4000",
            "auth-pass",
            // Blanks and a quote (valkey-sentinel refuses control characters in any SET value).
            "a \"b c",
            "down-after-milliseconds",
            "3000",
        ];
        assert_eq!(
            c.call(&set).unwrap(),
            Value::Simple("OK".into()),
            "{}",
            from.flavor
        );
        c.call(&["SENTINEL", "FLUSHCONFIG"]).unwrap();
        let text = std::fs::read_to_string(&from.config_path).unwrap();
        // Valkey refuses Warden's own directive; everything else must load.
        let conf = text
            .lines()
            .filter(|l| !l.starts_with("port ") && !l.starts_with("warden-compat"))
            .fold(SentinelConf::empty(), SentinelConf::line);
        let other = SentinelServer::start(to, &conf)
            .unwrap_or_else(|e| panic!("{to} loading what {} wrote: {e}\n{text}", from.flavor));
        let m = other.master(MASTER).unwrap();
        assert_eq!(
            m.field_text("down-after-milliseconds").as_deref(),
            Some("3000"),
            "{to} loading what {} wrote:\n{text}",
            from.flavor
        );
        // Neither map shows the reboot period: the loader's own rewrite must keep it (Valkey
        // writes the primary- name, Warden the master- one).
        other
            .client()
            .unwrap()
            .call(&["SENTINEL", "FLUSHCONFIG"])
            .unwrap();
        let again = std::fs::read_to_string(&other.config_path).unwrap();
        let line = match to {
            Flavor::Valkey => "sentinel primary-reboot-down-after-period mymaster 4000",
            _ => "sentinel master-reboot-down-after-period mymaster 4000",
        };
        assert!(
            again.lines().any(|l| l == line),
            "{to} rewrote what {} wrote without {line:?}:\n{again}",
            from.flavor
        );
        assert!(
            text.contains(r#"sentinel auth-pass mymaster "a \"b c""#),
            "{} wrote the password unquoted:\n{text}",
            from.flavor
        );
    }
}
