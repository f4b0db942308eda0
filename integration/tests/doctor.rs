//! `warden doctor` (issue 14): one test per kind of finding, against real redis-servers on
//! loopback and, for the VIP's host checks, inside a network namespace the test creates. A good
//! setup gets no output and exit status 0; a failure exit status 1.

use std::process::{Command, Output};

use warden_integration::binaries;
use warden_integration::netns::{self, TestBed, NODE_IFACE};
use warden_integration::servers::RedisServer;
use warden_integration::tempdir::TempDir;

/// `warden doctor <conf>` run by `runner` (plain, or inside a namespace); its stdout lines and
/// whether it exited 0.
fn doctor_with(mut runner: Command, dir: &TempDir, conf: &str) -> (Vec<String>, bool) {
    let path = dir.path().join("sentinel.conf");
    std::fs::write(&path, conf).unwrap();
    let out: Output = runner
        .args(["doctor", &path.display().to_string()])
        .output()
        .expect("run warden doctor");
    let lines = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    (lines, out.status.success())
}

fn warden() -> Command {
    Command::new(binaries::warden().unwrap())
}

fn doctor(conf: &str) -> (Vec<String>, bool) {
    let dir = TempDir::new("doctor").unwrap();
    doctor_with(warden(), &dir, conf)
}

fn monitor(port: u16) -> String {
    format!("sentinel monitor m 127.0.0.1 {port} 1\n")
}

/// Exactly one finding, starting with `start` and containing `part`.
fn one_finding(found: &(Vec<String>, bool), start: &str, part: &str) {
    let (lines, _) = found;
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(lines[0].starts_with(start), "{lines:#?}");
    assert!(lines[0].contains(part), "{part:?} not in {lines:#?}");
}

#[test]
fn a_good_setup_gets_nothing() {
    let redis = RedisServer::start().unwrap();
    let found = doctor(&monitor(redis.port));
    assert_eq!(found, (vec![], true));
}

#[test]
fn a_bad_config_line_is_named_by_file_and_line() {
    let found = doctor("port 26379\nsentinel monitor m 127.0.0.1 6379\n");
    one_finding(&found, "FAIL config: ", "sentinel.conf:2:");
    assert!(!found.1);
}

#[test]
fn an_unreachable_redis_fails() {
    let port = warden_integration::ports::free_port();
    let found = doctor(&monitor(port));
    one_finding(
        &found,
        "FAIL master m: cannot reach Redis",
        "Connection refused",
    );
    assert!(!found.1);
}

#[test]
fn missing_and_wrong_credentials_fail() {
    let redis = RedisServer::start_with(&["--requirepass", "s3cret"]).unwrap();
    let found = doctor(&monitor(redis.port));
    one_finding(
        &found,
        "FAIL master m: Redis asks for a password",
        "sentinel auth-pass m",
    );
    let wrong = format!("{}sentinel auth-pass m nope\n", monitor(redis.port));
    one_finding(
        &doctor(&wrong),
        "FAIL master m: Redis refuses the credentials",
        "WRONGPASS",
    );
    let right = format!("{}sentinel auth-pass m s3cret\n", monitor(redis.port));
    assert_eq!(doctor(&right), (vec![], true));
}

#[test]
fn commands_the_acl_user_may_not_run_are_listed() {
    let redis = RedisServer::start().unwrap();
    let mut admin = redis.client().unwrap();
    admin
        .call(&[
            "ACL", "SETUSER", "mon", "on", ">pw", "+@all", "-config", "-slaveof", "~*", "&*",
        ])
        .unwrap();
    let conf = format!(
        "{}sentinel auth-user m mon\nsentinel auth-pass m pw\n",
        monitor(redis.port)
    );
    let found = doctor(&conf);
    one_finding(
        &found,
        "FAIL master m: user mon may not run",
        "CONFIG REWRITE",
    );
    assert!(found.0[0].contains("SLAVEOF NO ONE"), "{:?}", found.0);
    assert!(!found.0[0].contains("PING"), "{:?}", found.0);
    // A rename-command the instance does not know is caught the same way.
    let renamed = format!(
        "{}sentinel rename-command m CONFIG GUARDED\n",
        monitor(redis.port)
    );
    one_finding(&doctor(&renamed), "FAIL master m:", "CONFIG REWRITE");
}

#[test]
fn an_unanswering_peer_is_a_warning() {
    let redis = RedisServer::start().unwrap();
    let peer = warden_integration::ports::free_port();
    let conf = format!(
        "{}sentinel known-sentinel m 127.0.0.1 {peer} {}\n",
        monitor(redis.port),
        "a".repeat(40)
    );
    let found = doctor(&conf);
    one_finding(
        &found,
        "WARN master m: the known sentinel",
        &format!("127.0.0.1:{peer}"),
    );
    assert!(found.1, "a warning alone exits 0");
}

/// The findings about the VIP itself (not about the master's Redis).
fn vip_findings(found: (Vec<String>, bool)) -> (Vec<String>, bool) {
    let lines = found
        .0
        .into_iter()
        .filter(|l| l.contains(" vip "))
        .collect();
    (lines, found.1)
}

#[test]
fn vip_interface_prefix_bind_and_capabilities() {
    // The tests' Redis listens on 127.0.0.1 only, which a VIP cannot reach.
    let redis = RedisServer::start().unwrap();
    let conf = format!("{}sentinel vip m 10.99.0.1/32 lo\n", monitor(redis.port));
    let found = doctor(&conf);
    one_finding(
        &found,
        "FAIL master m: Redis listens on 127.0.0.1 only",
        "10.99.0.1",
    );
    // No such interface.
    let conf = format!(
        "{}sentinel vip m 10.99.0.1/32 nosuch0\n",
        monitor(redis.port)
    );
    let found = vip_findings(doctor(&conf));
    one_finding(
        &found,
        "FAIL vip 10.99.0.1 of m: no interface nosuch0",
        "lo",
    );
    // A subnet prefix: a warning.
    let conf = format!("{}sentinel vip m 10.99.0.1/24 lo\n", monitor(redis.port));
    one_finding(
        &vip_findings(doctor(&conf)),
        "WARN vip 10.99.0.1/24 of m: prefix /24",
        "/32",
    );
    // Without CAP_NET_ADMIN and CAP_NET_RAW (dropped from the bounding set, so even root
    // lacks them after exec).
    let conf = format!("{}sentinel vip m 10.99.0.1/32 lo\n", monitor(redis.port));
    let mut runner = Command::new("setpriv");
    runner.args(["--bounding-set", "-net_admin,-net_raw"]);
    runner.arg(binaries::warden().unwrap());
    let dir = TempDir::new("doctor").unwrap();
    let found = vip_findings(doctor_with(runner, &dir, &conf));
    one_finding(&found, "FAIL vip 10.99.0.1 of m:", "CAP_NET_ADMIN");
}

/// In a namespace: the VIP's interface down; several interfaces on its segment without the
/// ARP sysctls.
#[test]
fn vip_interface_down_and_arp_flux_in_a_namespace() {
    if let Some(why) = netns::unavailable() {
        eprintln!("skipping: {why}");
        return;
    }
    let bed = TestBed::new(1).unwrap();
    let dir = TempDir::new("doctor").unwrap();
    // Redis is not reachable from inside (nothing listens there): only the VIP's findings
    // matter here, so they are picked out.
    let conf = format!(
        "{}sentinel vip m {}/32 {NODE_IFACE}\n",
        monitor(6379),
        bed.spare_addr(0)
    );
    let vip_lines = |found: (Vec<String>, bool)| -> Vec<String> {
        found
            .0
            .into_iter()
            .filter(|l| l.contains(" vip "))
            .collect()
    };
    let run = || {
        doctor_with(
            bed.command(0, &binaries::warden().unwrap().display().to_string()),
            &dir,
            &conf,
        )
    };
    assert_eq!(vip_lines(run()), Vec::<String>::new(), "a clean node");

    // A second interface with an address on the same segment, and default ARP sysctls.
    let second = bed.spare_addr(1).to_string();
    bed.ip(
        0,
        &["link", "add", "wd0", "type", "veth", "peer", "name", "wd1"],
    )
    .unwrap();
    bed.ip(0, &["addr", "add", &format!("{second}/24"), "dev", "wd0"])
        .unwrap();
    bed.ip(0, &["link", "set", "wd0", "up"]).unwrap();
    let flux = vip_lines(run());
    assert_eq!(flux.len(), 1, "{flux:#?}");
    assert!(
        flux[0].starts_with("WARN vip") && flux[0].contains("wd0 share the segment"),
        "{flux:#?}"
    );
    bed.exec(
        0,
        "sysctl",
        &[
            "-qw",
            "net.ipv4.conf.all.arp_ignore=1",
            "net.ipv4.conf.all.arp_announce=2",
        ],
    )
    .unwrap();
    assert_eq!(
        vip_lines(run()),
        Vec::<String>::new(),
        "fixed by the sysctls"
    );

    bed.ip(0, &["link", "set", NODE_IFACE, "down"]).unwrap();
    let down = vip_lines(run());
    assert!(
        down.iter()
            .any(|l| l.starts_with("FAIL vip") && l.contains("is down")),
        "{down:#?}"
    );
}
