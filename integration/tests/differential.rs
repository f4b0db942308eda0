//! Differential conformance: Warden and the reference `redis-sentinel` 7.0.15 monitor the same Redis
//! master with the same configuration; every command goes to both and the replies must have the same
//! shape (types, field names and order, error texts), values that must differ aside.
//!
//! Needs `redis-server` and `redis-sentinel` on PATH and the release binary (`target/release/warden`
//! or `$WARDEN_BIN`).

use warden_integration::bed::{SideBySide, MASTER_NAME};
use warden_integration::client::Client;
use warden_integration::info::{client_line_keys, first_difference, info_layout};
use warden_integration::resp::Value;
use warden_integration::shape::{compare, Rules};

/// The 72 names of `COMMAND LIST` in Redis Sentinel 7.0.15 (spec §2.1).
const COMMAND_LIST: [&str; 72] = [
    "acl",
    "acl|cat",
    "acl|deluser",
    "acl|dryrun",
    "acl|genpass",
    "acl|getuser",
    "acl|help",
    "acl|list",
    "acl|load",
    "acl|log",
    "acl|save",
    "acl|setuser",
    "acl|users",
    "acl|whoami",
    "auth",
    "client",
    "client|caching",
    "client|getname",
    "client|getredir",
    "client|help",
    "client|id",
    "client|info",
    "client|kill",
    "client|list",
    "client|no-evict",
    "client|pause",
    "client|reply",
    "client|setname",
    "client|tracking",
    "client|trackinginfo",
    "client|unblock",
    "client|unpause",
    "command",
    "command|count",
    "command|docs",
    "command|getkeys",
    "command|getkeysandflags",
    "command|help",
    "command|info",
    "command|list",
    "hello",
    "info",
    "ping",
    "psubscribe",
    "publish",
    "punsubscribe",
    "role",
    "sentinel",
    "sentinel|ckquorum",
    "sentinel|config",
    "sentinel|debug",
    "sentinel|failover",
    "sentinel|flushconfig",
    "sentinel|get-master-addr-by-name",
    "sentinel|help",
    "sentinel|info-cache",
    "sentinel|is-master-down-by-addr",
    "sentinel|master",
    "sentinel|masters",
    "sentinel|monitor",
    "sentinel|myid",
    "sentinel|pending-scripts",
    "sentinel|remove",
    "sentinel|replicas",
    "sentinel|reset",
    "sentinel|sentinels",
    "sentinel|set",
    "sentinel|simulate-failure",
    "sentinel|slaves",
    "shutdown",
    "subscribe",
    "unsubscribe",
];

/// Starts the bed (master + one replica + both sentinels).
fn bed() -> SideBySide {
    SideBySide::start(1).unwrap_or_else(|e| panic!("cannot start the side-by-side bed: {e}"))
}

/// Starts the bed and waits until both sentinels see the master and its replica.
fn settled_bed() -> SideBySide {
    let bed = bed();
    bed.wait_settled()
        .unwrap_or_else(|e| panic!("sentinels did not settle: {e}"));
    bed
}

/// One connection to each sentinel; every command goes to both, mismatches are collected and reported
/// together by [`Session::finish`].
struct Session {
    reference: Client,
    warden: Client,
    mismatches: Vec<String>,
}

impl Session {
    fn open(bed: &SideBySide) -> Session {
        let connect =
            |port| Client::connect(port).unwrap_or_else(|e| panic!("connect to {port}: {e}"));
        Session {
            reference: connect(bed.reference.port),
            warden: connect(bed.warden.port),
            mismatches: Vec::new(),
        }
    }

    /// A session switched to RESP3 with `HELLO 3` on both sides (the HELLO replies are compared).
    fn open_resp3(bed: &SideBySide) -> Session {
        let mut s = Session::open(bed);
        s.check("HELLO 3", Rules::SHAPE);
        s
    }

    /// Sends `args` to both and returns the `n` replies of each, reference first.
    fn both_n(&mut self, args: &[&str], n: usize) -> (Vec<Value>, Vec<Value>) {
        let cmd = args.join(" ");
        let reference = self
            .reference
            .call_n(args, n)
            .unwrap_or_else(|e| panic!("redis-sentinel, {cmd}: {e}"));
        let warden = self
            .warden
            .call_n(args, n)
            .unwrap_or_else(|e| panic!("warden, {cmd}: {e}"));
        (reference, warden)
    }

    /// Sends `args` to both and returns both replies, reference first.
    fn both(&mut self, args: &[&str]) -> (Value, Value) {
        let (mut r, mut w) = self.both_n(args, 1);
        (r.remove(0), w.remove(0))
    }

    /// Sends the whitespace-separated command `line` to both and compares the replies.
    fn check(&mut self, line: &str, rules: Rules) -> (Value, Value) {
        self.check_args(&line.split_whitespace().collect::<Vec<_>>(), rules)
    }

    /// Sends `args` to both and compares the replies.
    fn check_args(&mut self, args: &[&str], rules: Rules) -> (Value, Value) {
        let (r, w) = self.both(args);
        self.record(&args.join(" "), compare(&r, &w, rules));
        (r, w)
    }

    /// Sends `args` to both, reads `n` replies from each and compares them pairwise.
    fn check_n(&mut self, args: &[&str], n: usize, rules: Rules) -> Vec<(Value, Value)> {
        let (reference, warden) = self.both_n(args, n);
        let pairs: Vec<(Value, Value)> = reference.into_iter().zip(warden).collect();
        for (i, (r, w)) in pairs.iter().enumerate() {
            self.record(
                &format!("{} (reply {})", args.join(" "), i + 1),
                compare(r, w, rules),
            );
        }
        pairs
    }

    /// Sends an INFO command to both and compares the reply types and the layouts of their texts.
    fn check_info(&mut self, line: &str) {
        let (r, w) = self.check(line, Rules::SHAPE);
        let layout = |v: &Value| info_layout(&v.as_text().unwrap_or_default());
        if let Some(diff) = first_difference(&layout(&r), &layout(&w)) {
            self.mismatches
                .push(format!("{line}: layout differs at {diff}"));
        }
    }

    fn record(&mut self, what: &str, diffs: Vec<warden_integration::shape::Mismatch>) {
        self.mismatches
            .extend(diffs.into_iter().map(|d| format!("{what}: {d}")));
    }

    /// Records a failed expectation about Warden's reply that the shape comparison cannot express.
    fn expect(&mut self, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            self.mismatches.push(what());
        }
    }

    /// Fails the test listing every mismatch.
    fn finish(self) {
        assert!(
            self.mismatches.is_empty(),
            "{} difference(s) between warden and redis-sentinel:\n  {}",
            self.mismatches.len(),
            self.mismatches.join("\n  ")
        );
    }
}

/// The name of a COMMAND INFO entry (its first element).
fn entry_name(entry: &Value) -> Option<String> {
    entry
        .as_items()
        .and_then(|f| f.first())
        .and_then(Value::as_text)
}

/// Sorts COMMAND / COMMAND INFO entries and their subcommand lists (element 9) by name: Redis lists both
/// in its hash table's order, which changes from process to process.
fn sort_command_entries(reply: &mut Value) {
    if let Value::Array(entries) = reply {
        entries.sort_by_key(entry_name);
        for entry in entries {
            if let Value::Array(fields) = entry {
                if let Some(Value::Array(subs)) = fields.get_mut(9) {
                    subs.sort_by_key(entry_name);
                }
            }
        }
    }
}

impl Session {
    /// Sends a COMMAND / COMMAND INFO request to both and compares the replies exactly, up to order.
    fn check_command_info(&mut self, line: &str) {
        let args: Vec<&str> = line.split_whitespace().collect();
        let (mut r, mut w) = self.both(&args);
        sort_command_entries(&mut r);
        sort_command_entries(&mut w);
        self.record(line, compare(&r, &w, Rules::EXACT));
    }
}

fn texts(v: &Value) -> Vec<String> {
    v.as_items()
        .unwrap_or_default()
        .iter()
        .filter_map(Value::as_text)
        .collect()
}

#[test]
fn ping_role_and_hello() {
    let bed = bed();
    let mut s = Session::open(&bed);
    s.check("PING", Rules::EXACT);
    s.check("PING hello", Rules::EXACT);
    s.check("ping", Rules::EXACT);
    s.check("ROLE", Rules::EXACT);
    s.check("HELLO", Rules::FLAT_MAPS);
    s.check("HELLO 2", Rules::FLAT_MAPS);
    s.check("HELLO 4", Rules::EXACT);
    s.check("HELLO two", Rules::EXACT);
    s.check("HELLO 2 SETNAME hello-client", Rules::FLAT_MAPS);
    s.check("CLIENT GETNAME", Rules::EXACT);
    s.check("HELLO 3", Rules::SHAPE);
    s.check("HELLO", Rules::SHAPE);
    s.check("PING", Rules::EXACT);
    s.check("ROLE", Rules::EXACT);
    let (_, w) = s.check("HELLO 2", Rules::FLAT_MAPS);
    for (key, want) in [
        ("server", "redis"),
        ("version", "7.0.15"),
        ("mode", "sentinel"),
    ] {
        let got = w.field_text(key);
        s.expect(got.as_deref() == Some(want), || {
            format!("HELLO 2: warden's {key} is {got:?}, want {want:?}")
        });
    }
    s.finish();
}

#[test]
fn info_sections_have_the_same_fields_in_order() {
    let bed = settled_bed();
    for resp3 in [false, true] {
        let mut s = if resp3 {
            Session::open_resp3(&bed)
        } else {
            Session::open(&bed)
        };
        for line in [
            "INFO",
            "INFO server",
            "INFO clients",
            "INFO cpu",
            "INFO stats",
            "INFO sentinel",
            "INFO default",
            "INFO all",
            "INFO everything",
            "INFO SERVER",
            "INFO server sentinel",
            "INFO nosuch",
            "INFO nosuch cpu",
            "INFO memory replication keyspace",
        ] {
            s.check_info(line);
        }
        s.finish();
    }
}

#[test]
fn command_table_is_redis_sentinels() {
    let bed = bed();
    let mut s = Session::open(&bed);
    let (r, w) = s.check("COMMAND COUNT", Rules::EXACT);
    s.expect(r == Value::Integer(15), || {
        format!("reference COMMAND COUNT is {r}")
    });
    s.expect(w == Value::Integer(15), || {
        format!("warden COMMAND COUNT is {w}, want 15")
    });
    let (r, w) = s.both(&["COMMAND", "LIST"]);
    let sorted = |v: &Value| {
        let mut names = texts(v);
        names.sort();
        names
    };
    let want: Vec<String> = COMMAND_LIST.iter().map(|s| s.to_string()).collect();
    s.expect(sorted(&r) == want, || {
        format!("reference COMMAND LIST is {r}")
    });
    s.expect(sorted(&w) == want, || {
        let got = sorted(&w);
        let missing: Vec<_> = want.iter().filter(|n| !got.contains(n)).collect();
        let extra: Vec<_> = got.iter().filter(|n| !want.contains(n)).collect();
        format!(
            "warden COMMAND LIST has {} names; missing {missing:?}, extra {extra:?}",
            got.len()
        )
    });
    s.check(
        "COMMAND LIST FILTERBY pattern sentinel*",
        Rules {
            array_lengths: true,
            ..Rules::SHAPE
        },
    );
    for name in COMMAND_LIST.iter().filter(|name| !name.contains('|')) {
        s.check_command_info(&format!("COMMAND INFO {name}"));
    }
    s.check_command_info("COMMAND INFO ping get");
    s.check_command_info("COMMAND INFO");
    s.check_command_info("COMMAND");
    s.check("COMMAND DOCS ping", Rules::FLAT_MAPS);
    s.check("COMMAND HELP", Rules::EXACT);
    s.finish();
}

#[test]
fn errors_for_unknown_commands_subcommands_and_arity() {
    let bed = bed();
    let mut s = Session::open(&bed);
    for line in [
        // Not in the sentinel command table (even QUIT).
        "FOO",
        "FOO a b",
        "QUIT",
        "ECHO hi",
        "SELECT 0",
        "GET x",
        "SET x y",
        "MULTI",
        "CONFIG GET port",
        "DEBUG sleep 0",
        "RESET",
        "SLAVEOF no one",
        // Unknown subcommands.
        "SENTINEL foo",
        "SENTINEL foo bar",
        "CLIENT foo",
        "COMMAND foo",
        "ACL foo",
        // Arity.
        "SENTINEL",
        "SENTINEL master",
        "SENTINEL masters extra",
        "SENTINEL myid extra",
        "SENTINEL get-master-addr-by-name",
        "SENTINEL is-master-down-by-addr 127.0.0.1 1 0",
        "SENTINEL set mymaster quorum",
        "SENTINEL monitor a 127.0.0.1 1",
        "SENTINEL config",
        "SENTINEL debug info-period",
        "ROLE extra",
        "PING a b",
        "PUBLISH only-channel",
        "SUBSCRIBE",
        "PSUBSCRIBE",
        "CLIENT",
        "CLIENT SETNAME",
        "COMMAND COUNT extra",
        "ACL",
        "AUTH",
        "HELLO 3 AUTH",
        "HELLO 3 SETNAME",
    ] {
        s.check(line, Rules::EXACT);
    }
    s.check("PING", Rules::EXACT);
    s.finish();
}

#[test]
fn sentinel_instance_maps() {
    let bed = settled_bed();
    for resp3 in [false, true] {
        let mut s = if resp3 {
            Session::open_resp3(&bed)
        } else {
            Session::open(&bed)
        };
        s.check("SENTINEL MASTERS", Rules::FLAT_MAPS);
        s.check("SENTINEL MASTER mymaster", Rules::FLAT_MAPS);
        s.check("SENTINEL REPLICAS mymaster", Rules::FLAT_MAPS);
        s.check("SENTINEL SLAVES mymaster", Rules::FLAT_MAPS);
        s.check("SENTINEL SENTINELS mymaster", Rules::EXACT);
        s.check("SeNtInEl MaStEr mymaster", Rules::FLAT_MAPS);
        for sub in ["MASTER", "REPLICAS", "SLAVES", "SENTINELS"] {
            s.check(&format!("SENTINEL {sub} nosuch"), Rules::EXACT);
        }
        let (_, w) = s.both(&["SENTINEL", "MASTER", MASTER_NAME]);
        let port = bed.master.port.to_string();
        for (key, want) in [
            ("name", MASTER_NAME),
            ("ip", "127.0.0.1"),
            ("port", &port),
            ("quorum", "2"),
        ] {
            let got = w.field_text(key);
            s.expect(got.as_deref() == Some(want), || {
                format!("SENTINEL MASTER: warden's {key} is {got:?}")
            });
        }
        s.finish();
    }
}

#[test]
fn sentinel_queries() {
    let bed = settled_bed();
    let mut s = Session::open(&bed);
    s.check("SENTINEL GET-MASTER-ADDR-BY-NAME mymaster", Rules::EXACT);
    s.check("sentinel get-master-addr-by-name mymaster", Rules::EXACT);
    s.check("SENTINEL GET-MASTER-ADDR-BY-NAME nosuch", Rules::EXACT);
    let (_, w) = s.check("SENTINEL MYID", Rules::SHAPE);
    let id = w.as_text().unwrap_or_default();
    s.expect(
        id.len() == 40 && id.bytes().all(|b| b.is_ascii_hexdigit()),
        || format!("MYID {id:?}"),
    );
    s.check("SENTINEL CKQUORUM mymaster", Rules::SHAPE);
    s.check("SENTINEL CKQUORUM nosuch", Rules::EXACT);
    s.check("SENTINEL INFO-CACHE mymaster", Rules::SHAPE);
    s.check("SENTINEL INFO-CACHE nosuch", Rules::EXACT);
    s.check("SENTINEL INFO-CACHE nosuch mymaster", Rules::SHAPE);
    s.check("SENTINEL PENDING-SCRIPTS", Rules::EXACT);
    s.check("SENTINEL DEBUG", Rules::EXACT);
    s.check("SENTINEL CONFIG GET *", Rules::EXACT);
    s.check("SENTINEL CONFIG GET announce-*", Rules::EXACT);
    s.check("SENTINEL CONFIG GET RESOLVE-HOSTNAMES", Rules::EXACT);
    s.check("SENTINEL CONFIG GET nosuch", Rules::EXACT);
    s.check("SENTINEL SIMULATE-FAILURE help", Rules::EXACT);
    s.check("SENTINEL HELP", Rules::EXACT);
    let is_down = format!(
        "SENTINEL IS-MASTER-DOWN-BY-ADDR 127.0.0.1 {} 0 *",
        bed.master.port
    );
    s.check(&is_down, Rules::EXACT);
    s.check(
        "SENTINEL IS-MASTER-DOWN-BY-ADDR 127.0.0.1 1 0 *",
        Rules::EXACT,
    );
    s.check("SENTINEL RESET nomatch*", Rules::EXACT);
    s.check("SENTINEL FLUSHCONFIG", Rules::EXACT);
    s.finish();
}

#[test]
fn sentinel_edit_errors_leave_the_state_alone() {
    let bed = settled_bed();
    let mut s = Session::open(&bed);
    let master_port = bed.master.port.to_string();
    let monitor_dup = format!("SENTINEL MONITOR mymaster 127.0.0.1 {master_port} 2");
    for line in [
        "SENTINEL SET mymaster quorum abc",
        "SENTINEL SET mymaster quorum 0",
        "SENTINEL SET mymaster down-after-milliseconds -5",
        "SENTINEL SET mymaster nosuch-option 1",
        "SENTINEL SET mymaster notification-script /nonexistent/script.sh",
        "SENTINEL SET nosuch quorum 2",
        monitor_dup.as_str(),
        "SENTINEL MONITOR other 127.0.0.1 abc 2",
        "SENTINEL MONITOR other 127.0.0.1 6379 abc",
        "SENTINEL MONITOR other 127.0.0.1 6379 0",
        "SENTINEL MONITOR other not_an_ip 6379 2",
        "SENTINEL MONITOR other 127.0.0.1 70000 2",
        "SENTINEL REMOVE nosuch",
        "SENTINEL FAILOVER nosuch",
        "SENTINEL RESET",
        "SENTINEL CONFIG SET nosuch yes",
        "SENTINEL CONFIG SET resolve-hostnames maybe",
        "SENTINEL CONFIG SET announce-port 70000",
        "SENTINEL CONFIG foo bar",
        "SENTINEL CONFIG GET a b",
        "SENTINEL DEBUG info-period abc",
        "SENTINEL DEBUG info-period 0",
        "SENTINEL DEBUG nosuch 1",
        "SENTINEL SIMULATE-FAILURE nosuch",
        "SENTINEL IS-MASTER-DOWN-BY-ADDR 127.0.0.1 abc 0 *",
        "SENTINEL IS-MASTER-DOWN-BY-ADDR 127.0.0.1 1 abc *",
    ] {
        s.check(line, Rules::EXACT);
    }
    s.check("SENTINEL MASTER mymaster", Rules::FLAT_MAPS);
    s.check("SENTINEL DEBUG", Rules::EXACT);
    s.check("INFO sentinel", Rules::SHAPE);
    s.finish();
}

#[test]
fn failover_without_a_replica_is_refused() {
    let bed = SideBySide::start(0).unwrap_or_else(|e| panic!("cannot start the bed: {e}"));
    bed.wait_settled()
        .unwrap_or_else(|e| panic!("sentinels did not settle: {e}"));
    let mut s = Session::open(&bed);
    let (r, _) = s.check("SENTINEL FAILOVER mymaster", Rules::EXACT);
    s.expect(
        r.as_error().is_some_and(|e| e.starts_with("NOGOODSLAVE")),
        || format!("reference said {r}"),
    );
    s.check("SENTINEL REPLICAS mymaster", Rules::EXACT);
    s.check("SENTINEL MASTER mymaster", Rules::FLAT_MAPS);
    s.finish();
}

#[test]
fn publish_and_subscribe_replies() {
    let bed = bed();
    let mut s = Session::open(&bed);
    s.check("PUBLISH some-channel hi", Rules::EXACT);
    s.check("PUBLISH __sentinel__:hello not-a-hello", Rules::EXACT);
    s.check_n(&["SUBSCRIBE", "+switch-master", "+odown"], 2, Rules::EXACT);
    s.check_n(&["PSUBSCRIBE", "__warden_test_*"], 1, Rules::EXACT);
    s.check("PING", Rules::EXACT);
    s.check("PING hi", Rules::EXACT);
    s.check("INFO", Rules::EXACT);
    s.check("SENTINEL MASTERS", Rules::EXACT);
    s.check_n(&["UNSUBSCRIBE"], 2, Rules::SHAPE);
    s.check_n(&["PUNSUBSCRIBE"], 1, Rules::EXACT);
    s.check("PING", Rules::EXACT);
    s.check_n(&["UNSUBSCRIBE"], 1, Rules::EXACT);
    s.check_n(&["PUNSUBSCRIBE", "nothing"], 1, Rules::EXACT);
    s.finish();

    let mut s = Session::open_resp3(&bed);
    s.check_n(&["SUBSCRIBE", "+switch-master"], 1, Rules::EXACT);
    s.check("PING", Rules::EXACT);
    s.check("ROLE", Rules::EXACT);
    s.check_n(&["UNSUBSCRIBE", "+switch-master"], 1, Rules::EXACT);
    s.check_n(&["PSUBSCRIBE", "+*"], 1, Rules::EXACT);
    s.check_n(&["PUNSUBSCRIBE"], 1, Rules::EXACT);
    s.finish();
}

#[test]
fn client_commands() {
    let bed = bed();
    for resp3 in [false, true] {
        let mut s = if resp3 {
            Session::open_resp3(&bed)
        } else {
            Session::open(&bed)
        };
        s.check("CLIENT ID", Rules::SHAPE);
        s.check("CLIENT GETNAME", Rules::EXACT);
        s.check("CLIENT SETNAME warden-test", Rules::EXACT);
        s.check("CLIENT GETNAME", Rules::EXACT);
        s.check_args(&["CLIENT", "SETNAME", "bad name"], Rules::EXACT);
        s.check("CLIENT NO-EVICT on", Rules::EXACT);
        s.check("CLIENT NO-EVICT maybe", Rules::EXACT);
        s.check("CLIENT HELP", Rules::EXACT);
        for line in [
            "CLIENT INFO",
            "CLIENT LIST",
            "CLIENT LIST TYPE normal",
            "CLIENT LIST TYPE pubsub",
        ] {
            let (r, w) = s.check(line, Rules::SHAPE);
            let keys = |v: &Value| {
                client_line_keys(v.as_text().unwrap_or_default().lines().next().unwrap_or(""))
            };
            let (kr, kw) = (keys(&r), keys(&w));
            s.expect(kr == kw, || format!("{line}: fields {kr:?} vs {kw:?}"));
        }
        s.check("CLIENT LIST TYPE nosuch", Rules::EXACT);
        s.finish();
    }
}

#[test]
fn auth_and_acl_without_a_password() {
    let bed = bed();
    let mut s = Session::open(&bed);
    for line in [
        "AUTH secret",
        "AUTH default secret",
        "AUTH nobody secret",
        "ACL WHOAMI",
        "ACL USERS",
        "ACL LIST",
        "ACL CAT",
        "ACL GETUSER nobody",
        "HELLO 2 AUTH nobody secret",
    ] {
        s.check(line, Rules::EXACT);
    }
    s.check("ACL GETUSER default", Rules::FLAT_MAPS);
    s.check("PING", Rules::EXACT);
    s.finish();
}

#[test]
fn requirepass_demands_auth() {
    let bed = SideBySide::start_with(0, &["requirepass s3cret"])
        .unwrap_or_else(|e| panic!("cannot start the bed: {e}"));
    let mut s = Session::open(&bed);
    for line in [
        "PING",
        "SENTINEL MASTERS",
        "INFO",
        "FOO",
        "HELLO 3",
        "AUTH wrong",
        "AUTH default wrong",
        "HELLO 2 AUTH default wrong",
        "PING",
        "AUTH s3cret",
        "PING",
        "ACL WHOAMI",
        "AUTH default s3cret",
        "AUTH wrong",
        "PING",
    ] {
        s.check(line, Rules::EXACT);
    }
    s.check("SENTINEL GET-MASTER-ADDR-BY-NAME mymaster", Rules::EXACT);
    s.finish();

    let mut s = Session::open(&bed);
    s.check("HELLO 3 AUTH default s3cret", Rules::SHAPE);
    s.check("PING", Rules::EXACT);
    s.check("CLIENT GETNAME", Rules::EXACT);
    s.finish();
}

#[test]
fn resp3_maps_and_nulls() {
    let bed = settled_bed();
    let mut s = Session::open_resp3(&bed);
    s.check("HELLO", Rules::SHAPE);
    s.check("SENTINEL GET-MASTER-ADDR-BY-NAME nosuch", Rules::EXACT);
    s.check("SENTINEL GET-MASTER-ADDR-BY-NAME mymaster", Rules::EXACT);
    s.check("CLIENT GETNAME", Rules::EXACT);
    s.check("SENTINEL DEBUG", Rules::EXACT);
    s.check("SENTINEL CONFIG GET *", Rules::EXACT);
    s.check("SENTINEL PENDING-SCRIPTS", Rules::EXACT);
    s.check("SENTINEL INFO-CACHE mymaster", Rules::SHAPE);
    s.check("SENTINEL CKQUORUM mymaster", Rules::SHAPE);
    s.check(
        &format!(
            "SENTINEL IS-MASTER-DOWN-BY-ADDR 127.0.0.1 {} 0 *",
            bed.master.port
        ),
        Rules::EXACT,
    );
    s.check("COMMAND INFO ping", Rules::EXACT);
    s.check_command_info("COMMAND INFO sentinel");
    s.check("COMMAND DOCS ping", Rules::SHAPE);
    s.check("ACL GETUSER default", Rules::SHAPE);
    s.check("CLIENT INFO", Rules::SHAPE);
    s.check_info("INFO");
    s.finish();
}
