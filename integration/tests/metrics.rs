//! Warden's HTTP side (issue 14) on loopback: the Prometheus endpoint read by a real
//! exposition parser (`prometheus_client`'s, installed by `scripts/install-pytools.sh`) before
//! and after a failover, the health checks, and hostile or slow HTTP clients. The VIP metrics
//! and HAProxy following a failover are in `health_netns.rs` (they need namespaces).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use warden_integration::group::{Group, Settings};
use warden_integration::http::{self, Exposition};
use warden_integration::servers::Flavor;
use warden_integration::wait::wait_until;

/// Every sentinel metric redis_exporter publishes for a sentinel (its `exporter.go` and
/// `sentinels.go`), under the `redis` namespace.
const EXPORTER_GAUGES: [&str; 21] = [
    "redis_up",
    "redis_sentinel_masters",
    "redis_sentinel_tilt",
    "redis_sentinel_running_scripts",
    "redis_sentinel_scripts_queue_length",
    "redis_sentinel_simulate_failure_flags",
    "redis_sentinel_master_status",
    "redis_sentinel_master_slaves",
    "redis_sentinel_master_sentinels",
    "redis_sentinel_master_ok_slaves",
    "redis_sentinel_master_ok_sentinels",
    "redis_sentinel_master_ckquorum_status",
    "redis_sentinel_master_setting_ckquorum",
    "redis_sentinel_master_setting_failover_timeout",
    "redis_sentinel_master_setting_parallel_syncs",
    "redis_sentinel_master_setting_down_after_milliseconds",
    "redis_sentinel_master_config_epoch",
    "redis_sentinel_master_last_ok_ping_reply_seconds",
    "redis_sentinel_peer_info",
    "redis_sentinel_config_key_value",
    "redis_sentinel_config_value",
];
/// Warden's own families and their types.
const WARDEN_FAMILIES: [(&str, &str); 8] = [
    ("warden_failover_phase_seconds", "histogram"),
    ("warden_elections", "counter"),
    ("warden_votes", "counter"),
    ("warden_events", "counter"),
    ("warden_config_flush_seconds", "histogram"),
    ("warden_script_runs", "counter"),
    ("warden_tilt_seconds", "counter"),
    ("warden_vip_announcements", "counter"),
];
const TIMEOUT: Duration = Duration::from_secs(5);
const FAILOVER_TIMEOUT: Duration = Duration::from_secs(30);

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

fn scrape(port: u16) -> Exposition {
    let answer = http::get(addr(port), "/metrics", TIMEOUT).expect("scrape");
    assert_eq!(answer.status, 200, "{}", answer.body);
    http::parse_exposition(&answer.body).expect("a valid exposition")
}

fn status(port: u16, path: &str) -> u16 {
    http::get(addr(port), path, TIMEOUT)
        .unwrap_or_else(|e| panic!("GET {path}: {e}"))
        .status
}

/// Sum of one sample over every sentinel's scrape.
fn total(scrapes: &[Exposition], sample: &str, labels: &[(&str, &str)]) -> f64 {
    scrapes
        .iter()
        .flat_map(|e| e.samples(sample, labels))
        .map(|s| s.value)
        .sum()
}

#[test]
fn metrics_and_health_checks_follow_a_failover() {
    let settings = Settings {
        replicas: 1,
        metrics: true,
        ..Settings::default()
    };
    let mut group = Group::start(&[Flavor::Warden; 3], &settings).unwrap();
    group.wait_discovered().unwrap();
    let ports = group.metrics_ports.clone();
    let (old, new) = (group.master.port, group.replicas[0].port);
    let master = [("master_name", "mymaster")];

    let before = scrape(ports[0]);
    for name in EXPORTER_GAUGES {
        assert_eq!(
            before.kind(name),
            Some("gauge"),
            "{name} missing or mistyped"
        );
    }
    for (name, kind) in WARDEN_FAMILIES {
        // Families without a series yet (no VIP here) are listed by none of the three.
        if name != "warden_vip_announcements" {
            assert_eq!(before.kind(name), Some(kind), "{name} missing or mistyped");
        }
    }
    let old_address = format!("127.0.0.1:{old}");
    let at_old = [
        ("master_name", "mymaster"),
        ("master_address", &old_address),
    ];
    for (sample, labels, value) in [
        ("redis_up", &[][..], 1.0),
        ("redis_sentinel_masters", &[], 1.0),
        ("redis_sentinel_tilt", &[], 0.0),
        (
            "redis_sentinel_master_status",
            &[("master_status", "ok")],
            1.0,
        ),
        ("redis_sentinel_master_slaves", &at_old, 1.0),
        ("redis_sentinel_master_sentinels", &at_old, 3.0),
        ("redis_sentinel_master_ok_sentinels", &at_old, 3.0),
        ("redis_sentinel_master_ok_slaves", &at_old, 1.0),
        ("redis_sentinel_master_ckquorum_status", &master, 1.0),
        ("redis_sentinel_master_setting_ckquorum", &at_old, 2.0),
        (
            "redis_sentinel_master_setting_down_after_milliseconds",
            &at_old,
            1000.0,
        ),
        (
            "redis_sentinel_master_setting_failover_timeout",
            &at_old,
            6000.0,
        ),
        ("redis_sentinel_master_setting_parallel_syncs", &at_old, 1.0),
        ("redis_sentinel_master_config_epoch", &at_old, 0.0),
        ("warden_elections_total", &[("result", "won")], 0.0),
        (
            "warden_failover_phase_seconds_count",
            &[("phase", "switch")],
            0.0,
        ),
    ] {
        assert_eq!(
            before.value(sample, labels),
            Some(value),
            "{sample} {labels:?}"
        );
    }
    assert_eq!(before.samples("redis_sentinel_peer_info", &master).len(), 2);
    assert!(
        before
            .value("warden_config_flush_seconds_count", &[])
            .unwrap()
            >= 1.0
    );

    // Loopback: every Redis is on this host, so each node passes the checks of both roles.
    for &port in &ports {
        assert_eq!(status(port, "/health"), 200);
        assert_eq!(status(port, "/primary/mymaster"), 200);
        assert_eq!(status(port, "/master/mymaster"), 200);
        assert_eq!(status(port, "/replica/mymaster"), 200);
        assert_eq!(status(port, "/primary/nosuch"), 404);
        assert_eq!(status(port, "/replica/mymaster?lag=lots"), 400);
        assert_eq!(status(port, "/elsewhere"), 404);
    }

    group.master.process.signal(libc::SIGKILL).unwrap();
    group
        .wait_master_everywhere(new, FAILOVER_TIMEOUT)
        .unwrap_or_else(|e| panic!("{e}\n{}", group.logs(40)));
    // Once every sentinel published its switch (the metrics count what was published).
    let switched = [("event", "+switch-master")];
    let after = wait_until(
        TIMEOUT,
        "every sentinel to count its +switch-master",
        || {
            let scrapes: Vec<Exposition> = ports.iter().map(|&p| scrape(p)).collect();
            if scrapes
                .iter()
                .all(|e| e.value("warden_events_total", &switched) >= Some(1.0))
            {
                Ok(scrapes)
            } else {
                Err("not yet".to_string())
            }
        },
    )
    .unwrap();
    let new_address = format!("127.0.0.1:{new}");
    let at_new = [
        ("master_name", "mymaster"),
        ("master_address", &new_address),
    ];
    for e in &after {
        assert!(e.value("redis_sentinel_master_config_epoch", &at_new) >= Some(1.0));
        assert_eq!(e.value("redis_sentinel_master_slaves", &at_new), Some(1.0));
    }
    // The leader won its election and timed every phase; a sentinel that saw the master go
    // down before the switch timed the phases it saw (one whose own SDOWN came after the
    // switch has no failover to time).
    assert!(total(&after, "warden_elections_total", &[("result", "won")]) >= 1.0);
    assert!(total(&after, "warden_votes_total", &[]) >= 1.0);
    for phase in ["odown", "elected", "promoted", "switch", "total"] {
        let count = total(
            &after,
            "warden_failover_phase_seconds_count",
            &[("phase", phase)],
        );
        assert!(count >= 1.0, "phase {phase}: {count}");
    }
    let sum = total(
        &after,
        "warden_failover_phase_seconds_sum",
        &[("phase", "total")],
    );
    assert!(
        sum > 0.0 && sum < FAILOVER_TIMEOUT.as_secs_f64() * 3.0,
        "{sum}"
    );
    // The failover history, as JSON, from every sentinel; the leader's names itself.
    for &port in &ports {
        let answer = http::get(addr(port), "/history", TIMEOUT).unwrap();
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert!(
            answer.body.starts_with("{\"mymaster\":[{"),
            "{}",
            answer.body
        );
        assert!(
            answer.body.contains("\"result\":\"switched\""),
            "{}",
            answer.body
        );
        assert!(
            answer.body.contains(&format!("\"to\":\"{new_address}\"")),
            "{}",
            answer.body
        );
        assert_eq!(status(port, "/history/nosuch"), 404);
    }
    for &port in &ports {
        assert_eq!(status(port, "/primary/mymaster"), 200);
        // The promoted replica is the master now; the old master is down: no replica here.
        assert_eq!(status(port, "/replica/mymaster"), 503);
    }
}

/// Reads one whole answer from `stream` and returns its status.
fn answer_status(mut stream: TcpStream) -> u16 {
    stream
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    http::parse_answer(&raw).expect("an HTTP answer").status
}

#[test]
fn slow_and_malformed_http_clients_get_errors_and_the_sentinel_keeps_serving() {
    let settings = Settings {
        replicas: 0,
        quorum: 1,
        metrics: true,
        ..Settings::default()
    };
    let group = Group::start(&[Flavor::Warden], &settings).unwrap();
    let port = group.metrics_ports[0];
    let send = |bytes: &[u8]| {
        let mut stream = TcpStream::connect(addr(port)).unwrap();
        stream.write_all(bytes).unwrap();
        answer_status(stream)
    };
    assert_eq!(
        send(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n"),
        400
    );
    assert_eq!(send(b"GET /health HTTP/1.1\r\nHost \r\n\r\n"), 400);
    assert_eq!(send(b"POST /metrics HTTP/1.1\r\nHost: x\r\n\r\n"), 405);
    let huge = format!("GET /health HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(9000));
    assert_eq!(send(huge.as_bytes()), 431);
    // A client that never finishes its request is answered 408 and dropped.
    let slow = TcpStream::connect(addr(port)).unwrap();
    (&slow).write_all(b"GET /hea").unwrap();
    assert_eq!(answer_status(slow), 408);

    // More idle connections than the server serves at once: the next one is turned away
    // with 503, while the sentinel keeps answering its clients.
    let idle: Vec<TcpStream> = (0..70)
        .map(|_| TcpStream::connect(addr(port)).unwrap())
        .collect();
    wait_until(
        TIMEOUT,
        "a connection beyond the limit to get 503",
        || match http::get(addr(port), "/health", TIMEOUT) {
            Ok(a) if a.status == 503 && a.body.contains("too many") => Ok(()),
            other => Err(format!("{other:?}")),
        },
    )
    .unwrap();
    let mut client = group.sentinels[0].client().unwrap();
    assert_eq!(
        client.call(&["PING"]).unwrap().as_text().as_deref(),
        Some("PONG")
    );
    drop(idle);
    wait_until(
        TIMEOUT,
        "the health check to answer again",
        || match http::get(addr(port), "/health", TIMEOUT) {
            Ok(a) if a.status == 200 => Ok(()),
            other => Err(format!("{other:?}")),
        },
    )
    .unwrap();
}
