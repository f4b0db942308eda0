//! TLS (the `tls-*` directives, with Redis's meaning): a master and a replica that speak only TLS
//! to each other and to sentinels, watched by two Wardens and one reference `redis-sentinel`, all
//! with `tls-replication yes` (every link is TLS, hellos announce the TLS port) and serving
//! clients on `tls-port`. The group monitors the servers and discovers itself over TLS, a Warden
//! answers `redis-cli --tls` and turns away a client without a certificate
//! (`tls-auth-clients yes`) or one that speaks plain text, and the group fails over when the
//! master dies.
//!
//! Needs `redis-server`, `redis-sentinel`, `redis-cli` on PATH and the release binary.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use warden_integration::certs::TestCerts;
use warden_integration::ports::free_port;
use warden_integration::resp::Value;
use warden_integration::servers::{Flavor, RedisServer, SentinelConf, SentinelServer};
use warden_integration::wait::wait_until;

const MASTER: &str = "mymaster";
/// Discovery takes a few hello periods (2 s); a failover down-after (1 s) plus an election.
const TIMEOUT: Duration = Duration::from_secs(45);

/// A redis-server serving TLS on a free port (and plain TCP on `server.port`, for the test).
fn tls_redis(certs: &TestCerts, extra: &[&str]) -> (RedisServer, u16) {
    let tls_port = free_port();
    let mut args: Vec<String> = certs
        .directives(tls_port)
        .into_iter()
        .flat_map(|(name, value)| [format!("--{name}"), value])
        .collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = RedisServer::start_with(&args).unwrap_or_else(|e| panic!("redis-server: {e}"));
    (server, tls_port)
}

/// A sentinel monitoring the master at `master_tls` over TLS, serving TLS on its returned port.
fn tls_sentinel(flavor: Flavor, certs: &TestCerts, master_tls: u16) -> (SentinelServer, u16) {
    let tls_port = free_port();
    let mut conf = SentinelConf::monitoring(MASTER, master_tls, 2)
        .line(format!("sentinel down-after-milliseconds {MASTER} 1000"))
        .line(format!("sentinel failover-timeout {MASTER} 10000"));
    for (name, value) in certs.directives(tls_port) {
        conf = conf.line(format!("{name} {value}"));
    }
    let sentinel = SentinelServer::start(flavor, &conf).unwrap_or_else(|e| panic!("{flavor}: {e}"));
    (sentinel, tls_port)
}

fn master_addr(sentinel: &SentinelServer) -> Result<Value, String> {
    sentinel
        .client()
        .and_then(|mut c| c.call(&["SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER]))
        .map_err(|e| e.to_string())
}

/// `redis-cli --tls` against `port` with the CA and, when `with_certificate`, the client's
/// certificate; its standard output, or its error text.
fn redis_cli_tls(certs: &TestCerts, port: u16, with_certificate: bool, args: &[&str]) -> String {
    let mut cmd = Command::new("redis-cli");
    cmd.args(["--tls", "-h", "127.0.0.1", "-p", &port.to_string()])
        .arg("--cacert")
        .arg(certs.file("ca.crt"));
    if with_certificate {
        cmd.arg("--cert")
            .arg(certs.file("client.crt"))
            .arg("--key")
            .arg(certs.file("client.key"));
    }
    let output = cmd.args(args).output().expect("redis-cli");
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn a_tls_group_monitors_discovers_serves_and_fails_over() {
    let certs = TestCerts::create().expect("test certificates");
    let (master, master_tls) = tls_redis(&certs, &[]);
    let (replica, replica_tls) = tls_redis(
        &certs,
        &["--replicaof", "127.0.0.1", &master_tls.to_string()],
    );
    wait_until(TIMEOUT, "the replica to sync over TLS", || {
        match replica.replication_field("master_link_status") {
            Ok(Some(status)) if status == "up" => Ok(()),
            other => Err(format!("{other:?}")),
        }
    })
    .unwrap();

    let sentinels: Vec<(SentinelServer, u16)> = [Flavor::Warden, Flavor::Warden, Flavor::Redis]
        .into_iter()
        .map(|flavor| tls_sentinel(flavor, &certs, master_tls))
        .collect();
    for (sentinel, _) in &sentinels {
        let what = format!("{} to find the replica and both peers", sentinel.flavor);
        wait_until(TIMEOUT, &what, || {
            let master = sentinel.master(MASTER).map_err(|e| e.to_string())?;
            let field = |key: &str| master.field_text(key).unwrap_or_default();
            match (
                field("flags").as_str(),
                field("num-slaves").as_str(),
                field("num-other-sentinels").as_str(),
            ) {
                ("master", "1", "2") => Ok(()),
                other => Err(format!("flags, num-slaves, num-other-sentinels: {other:?}")),
            }
        })
        .unwrap();
    }

    // Clients on the TLS port: answered with a certificate, turned away without one.
    let (_, warden_tls) = &sentinels[0];
    let answer = redis_cli_tls(
        &certs,
        *warden_tls,
        true,
        &["SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER],
    );
    assert_eq!(
        answer.split_whitespace().collect::<Vec<_>>(),
        ["127.0.0.1", &master_tls.to_string()]
    );
    let refused = redis_cli_tls(&certs, *warden_tls, false, &["PING"]);
    assert!(
        !refused.contains("PONG"),
        "answered a client without a certificate: {refused}"
    );
    // Plain text on the TLS port: the connection is closed, the server keeps serving.
    let mut plain = TcpStream::connect(("127.0.0.1", *warden_tls)).unwrap();
    plain.set_read_timeout(Some(TIMEOUT)).unwrap();
    plain.write_all(b"PING\r\n").unwrap();
    let mut rest = Vec::new();
    let _ = plain.read_to_end(&mut rest);
    assert!(!String::from_utf8_lossy(&rest).contains("PONG"), "{rest:?}");
    let again = redis_cli_tls(&certs, *warden_tls, true, &["PING"]);
    assert_eq!(again.trim(), "PONG");

    drop(master);
    for (sentinel, _) in &sentinels {
        let what = format!("{} to switch to the replica", sentinel.flavor);
        let want = Value::Array(vec![
            Value::Bulk(b"127.0.0.1".to_vec()),
            Value::Bulk(replica_tls.to_string().into_bytes()),
        ]);
        wait_until(TIMEOUT, &what, || match master_addr(sentinel)? {
            addr if addr == want => Ok(()),
            other => Err(other.to_string()),
        })
        .unwrap();
    }
    assert_eq!(
        replica.replication_field("role").unwrap().as_deref(),
        Some("master")
    );
}

/// `tls-port` without `tls-replication` (Redis's meaning): clients are served over TLS while the
/// links to the instances stay plain. Warden used TLS on every link as soon as TLS was configured,
/// so it judged a healthy plain master down (found by the under-fire test).
#[test]
fn tls_clients_without_tls_replication_keep_plain_links() {
    let certs = TestCerts::create().expect("test certificates");
    let master = RedisServer::start().expect("redis-server");
    let tls_port = free_port();
    let mut conf = SentinelConf::monitoring(MASTER, master.port, 1)
        .line(format!("sentinel down-after-milliseconds {MASTER} 1000"));
    for (name, value) in certs.directives(tls_port) {
        if name != "tls-replication" {
            conf = conf.line(format!("{name} {value}"));
        }
    }
    let sentinel = SentinelServer::start(Flavor::Warden, &conf).expect("warden");
    wait_until(TIMEOUT, "the plain master's INFO over a plain link", || {
        let master = sentinel.master(MASTER).map_err(|e| e.to_string())?;
        let field = |key: &str| master.field_text(key).unwrap_or_default();
        match (field("flags").as_str(), field("runid").len()) {
            ("master", 40) => Ok(()),
            other => Err(format!("flags, runid length: {other:?}")),
        }
    })
    .unwrap();
    assert_eq!(
        redis_cli_tls(&certs, tls_port, true, &["PING"]).trim(),
        "PONG"
    );
    let master_info = sentinel.master(MASTER).unwrap();
    assert_eq!(master_info.field_text("flags").as_deref(), Some("master"));
}
