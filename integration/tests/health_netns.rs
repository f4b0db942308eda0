//! Warden's health checks behind a real HAProxy, and its VIP metrics, in network namespaces
//! (issue 14): three Redis + Warden nodes sharing a VIP ([`VipBed`]), each Warden serving
//! its HTTP side on [`METRICS_PORT`]; in the client namespace an HAProxy (Debian's package)
//! that routes Redis connections to the node whose `GET /primary/mymaster` answers 200
//! (`option httpchk`). A client writes through HAProxy and another through the VIP across a
//! SIGKILL of the master's node; both must reach the new master. Needs root, `ip netns` and
//! `haproxy`; skipped with a message otherwise. Measured numbers are printed with the prefix
//! `measured:` (run with `--nocapture`).

use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use warden_integration::http::{self, Exposition};
use warden_integration::netns;
use warden_integration::process::Process;
use warden_integration::tempdir::TempDir;
use warden_integration::vipbed::{VipBed, CLIENT, NODES};
use warden_integration::wait::wait_until;
use warden_integration::writer::Writer;

/// Every Warden's `metrics-port`.
const METRICS_PORT: u16 = 8008;
/// HAProxy's Redis frontend inside the client namespace.
const FRONTEND: u16 = 7000;
/// HAProxy's health check interval.
const CHECK_INTERVAL_MS: u64 = 200;
const FAILOVER_TIMEOUT: Duration = Duration::from_secs(45);
const CALL_TIMEOUT: Duration = Duration::from_secs(3);
const WRITE_PERIOD: Duration = Duration::from_millis(10);
const WRITE_TIMEOUT: Duration = Duration::from_millis(200);

/// `GET path` of node `i`'s Warden, from inside that node.
fn get(bed: &VipBed, i: usize, path: &str) -> std::io::Result<http::Answer> {
    let to = SocketAddr::from(([127, 0, 0, 1], METRICS_PORT));
    let stream = bed
        .bed()
        .spawn_in(i, move || TcpStream::connect_timeout(&to, CALL_TIMEOUT))
        .join()
        .map_err(|_| std::io::Error::other("connect thread panicked"))???;
    http::get_on(stream, path, CALL_TIMEOUT)
}

fn scrape(bed: &VipBed, i: usize) -> Exposition {
    let answer = get(bed, i, "/metrics").unwrap_or_else(|e| panic!("scrape node {i}: {e}"));
    http::parse_exposition(&answer.body).unwrap_or_else(|e| panic!("node {i}: {e}"))
}

fn holder_metric(bed: &VipBed, i: usize) -> Option<f64> {
    scrape(bed, i).value("warden_vip_holder", &[("master", "mymaster")])
}

/// Nodes whose `/primary/mymaster` answers 200 now.
fn primaries(bed: &VipBed, nodes: &[usize]) -> Vec<usize> {
    nodes
        .iter()
        .copied()
        .filter(|&i| get(bed, i, "/primary/mymaster").is_ok_and(|a| a.status == 200))
        .collect()
}

/// HAProxy's configuration: a TCP frontend, one server per node checked over HTTP on the
/// Warden's metrics port; connections to a server marked down are cut.
fn haproxy_config(bed: &VipBed) -> String {
    let mut servers = String::new();
    for i in 0..NODES {
        servers.push_str(&format!(
            "    server n{i} {}:6379 check port {METRICS_PORT} inter {CHECK_INTERVAL_MS} fall 1 rise 1 on-marked-down shutdown-sessions\n",
            bed.addr(i)
        ));
    }
    format!(
        "global\n    maxconn 256\n\
         defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 60s\n    timeout server 60s\n\
         frontend redis\n    bind 127.0.0.1:{FRONTEND}\n    default_backend redis\n\
         backend redis\n    option httpchk GET /primary/mymaster\n    http-check expect status 200\n{servers}"
    )
}

fn start_haproxy(bed: &VipBed, dir: &Path) -> Process {
    let conf = dir.join("haproxy.cfg");
    std::fs::write(&conf, haproxy_config(bed)).unwrap();
    let conf = conf.display().to_string();
    bed.bed()
        .spawn(CLIENT, "haproxy", "haproxy", &["-db", "-f", &conf], dir)
        .unwrap_or_else(|e| panic!("cannot start haproxy: {e}"))
}

#[test]
fn haproxy_and_the_vip_follow_a_failover_through_the_health_checks() {
    if let Some(why) = netns::unavailable() {
        eprintln!("skipping: {why}");
        return;
    }
    if std::process::Command::new("haproxy")
        .arg("-v")
        .output()
        .is_err()
    {
        eprintln!("skipping: haproxy is not installed (scripts/install-deps.sh installs it)");
        return;
    }
    let metrics_line = format!("metrics-port {METRICS_PORT}");
    let mut bed = VipBed::start(&[&metrics_line]).unwrap_or_else(|e| panic!("bed: {e}"));
    let dir = TempDir::new("haproxy").unwrap();
    let _haproxy = start_haproxy(&bed, dir.path());

    // Before: node 0 is the only primary, holds the VIP, and says so in its metrics.
    let all: Vec<usize> = (0..NODES).collect();
    wait_until(
        FAILOVER_TIMEOUT,
        "node 0 alone to pass /primary",
        || match primaries(&bed, &all)[..] {
            [0] => Ok(()),
            ref other => Err(format!("{other:?}")),
        },
    )
    .unwrap();
    assert_eq!(holder_metric(&bed, 0), Some(1.0));
    for i in 1..NODES {
        assert_eq!(holder_metric(&bed, i), Some(0.0));
        assert_eq!(get(&bed, i, "/replica/mymaster").unwrap().status, 200);
    }
    let before = scrape(&bed, 0);
    let lease = before
        .value(
            "warden_vip_lease_remaining_seconds",
            &[("master", "mymaster")],
        )
        .unwrap();
    assert!(lease > 0.0, "{lease}");

    let frontend = SocketAddr::from(([127, 0, 0, 1], FRONTEND));
    let via_haproxy = Writer::start(bed.bed(), CLIENT, frontend, WRITE_PERIOD, WRITE_TIMEOUT);
    let via_vip = Writer::start(
        bed.bed(),
        CLIENT,
        bed.vip_redis(),
        WRITE_PERIOD,
        WRITE_TIMEOUT,
    );
    wait_until(
        FAILOVER_TIMEOUT,
        "writes through HAProxy and the VIP",
        || {
            if via_haproxy.acked() > 10 && via_vip.acked() > 10 {
                Ok(())
            } else {
                Err(format!("{} / {}", via_haproxy.acked(), via_vip.acked()))
            }
        },
    )
    .unwrap();

    bed.kill(0);
    // After the kill returned (both processes reaped): a write acknowledged from now on was
    // acknowledged by the new master.
    let killed = Instant::now();
    let survivors = [1, 2];
    let new = wait_until(
        FAILOVER_TIMEOUT,
        "one survivor to pass /primary",
        || match primaries(&bed, &survivors)[..] {
            [p] => Ok(p),
            ref other => Err(format!("{other:?}")),
        },
    )
    .unwrap_or_else(|e| panic!("{e}\n{}", bed.diagnostics()));
    let acked = (via_haproxy.acked(), via_vip.acked());
    wait_until(FAILOVER_TIMEOUT, "writes to resume through both", || {
        if via_haproxy.acked() > acked.0 + 10 && via_vip.acked() > acked.1 + 10 {
            Ok(())
        } else {
            Err(format!("{:?}", (via_haproxy.acked(), via_vip.acked())))
        }
    })
    .unwrap_or_else(|e| panic!("{e}\n{}", bed.diagnostics()));
    let haproxy_log = via_haproxy.stop().unwrap();
    let vip_log = via_vip.stop().unwrap();

    // The writes after the switch landed on the new master, through either path.
    let role = bed.replication(new, "role").unwrap();
    assert_eq!(role.as_deref(), Some("master"));
    let other = if new == 1 { 2 } else { 1 };
    assert_eq!(
        bed.replication(other, "role").unwrap().as_deref(),
        Some("slave")
    );
    assert_eq!(get(&bed, other, "/primary/mymaster").unwrap().status, 503);
    wait_until(FAILOVER_TIMEOUT, "the holder metric to move", || {
        match (holder_metric(&bed, new), holder_metric(&bed, other)) {
            (Some(h), Some(o)) if h == 1.0 && o == 0.0 => Ok(()),
            other => Err(format!("{other:?}")),
        }
    })
    .unwrap();
    let after = scrape(&bed, new);
    let claimed = after.value(
        "warden_failover_phase_seconds_count",
        &[("phase", "vip_claimed")],
    );
    assert!(claimed >= Some(1.0), "{claimed:?}");
    let announced = after.value("warden_vip_announcements_total", &[("master", "mymaster")]);
    assert!(announced > Some(0.0), "{announced:?}");

    let first = |log: &warden_integration::writer::WriteLog| {
        log.first_ok_after(killed)
            .map(|t| t.duration_since(killed).as_millis())
    };
    println!(
        "measured: kill to first write through HAProxy {:?} ms, through the VIP {:?} ms; \
         longest write gap {} / {} ms (HAProxy checks every {CHECK_INTERVAL_MS} ms, \
         down-after 1000)",
        first(&haproxy_log),
        first(&vip_log),
        haproxy_log.longest_gap().as_millis(),
        vip_log.longest_gap().as_millis(),
    );
}
