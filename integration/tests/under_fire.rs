//! Issue 17, end to end: three Wardens fail over a killed master while several connections keep
//! sending each of them bounded random garbage — on the plain port (malformed RESP, oversized
//! headers, unfinished frames, connections left half-written or dropped mid-frame) and on the TLS
//! port (plain bytes, broken handshakes, and RESP garbage inside complete TLS sessions) — and while
//! they also monitor a fake instance that answers everything they send it with random RESP
//! (structure-aware INFO, hellos and pub/sub pushes among it). The failover completes, no Warden
//! exits or panics, each stays within a memory bound, and well-formed clients, plain and TLS, keep
//! getting answers throughout.
//!
//! Needs `redis-server` on PATH and the release binary (`target/release/warden` or `$WARDEN_BIN`).

use std::io::{BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use openssl::ssl::{SslConnector, SslFiletype, SslMethod, SslStream};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use warden_integration::bed::MASTER_NAME;
use warden_integration::certs::TestCerts;
use warden_integration::group::{Group, Settings};
use warden_integration::resp::{encode_command, read_value};
use warden_integration::servers::Flavor;

/// Longest wait from the kill to every Warden naming the new master.
const FAILOVER_TIMEOUT: Duration = Duration::from_secs(45);
/// Connections sending garbage at once.
const ATTACKERS: usize = 4;
/// Garbage connections per attacker at most (bounded load).
const MAX_CONNECTIONS: usize = 5_000;
/// Connections the fake instance serves at most (bounded load).
const FAKE_MAX_CONNECTIONS: usize = 3_000;
/// The resident memory a Warden may reach under fire (it uses ~10 MiB here).
const MAX_RSS_KIB: u64 = 256 * 1024;
/// How long the group is under fire before the master is killed (the fake instance's own down-after
/// runs out in it) and after every Warden named the new master.
const FIRE_BEFORE: Duration = Duration::from_secs(4);
const FIRE_AFTER: Duration = Duration::from_secs(2);
/// The master name of the fake instance in the Wardens' configuration.
const FAKE_NAME: &str = "fake";

/// One connection's worth of garbage.
fn garbage(rng: &mut SmallRng) -> Vec<u8> {
    const PIECES: &[&[u8]] = &[
        b"*",
        b"$",
        b"\r\n",
        b"*2147483648\r\n",
        b"*99999999\r\n",
        b"$1000000000\r\n",
        b"$-2\r\n",
        b"*-1\r\n",
        b"*3\r\n$8\r\nSENTINEL\r\n$7\r\nmasters\r\n",
        b"SENTINEL is-master-down-by-addr 127.0.0.1 1 99999999999 *\r\n",
        b"PUBLISH __sentinel__:hello 1,2,3\r\n",
        b"\"unbalanced\r\n",
        b"\x00\xff\xfe",
        b"HELLO 9\r\n",
        b"AUTH x y z\r\n",
    ];
    let mut out = Vec::new();
    for _ in 0..rng.gen_range(1..12) {
        if rng.gen_bool(0.5) {
            out.extend_from_slice(PIECES[rng.gen_range(0..PIECES.len())]);
        } else {
            out.extend((0..rng.gen_range(1..64)).map(|_| rng.gen::<u8>()));
        }
    }
    out
}

/// What the start of a TLS connection may look like to the server: a record header with a
/// handshake type and a random (often impossible) length, then random bytes.
fn broken_handshake(rng: &mut SmallRng) -> Vec<u8> {
    let mut out = vec![0x16, 0x03, rng.gen_range(0..5), rng.gen(), rng.gen()];
    out.push(1); // ClientHello
    out.extend((0..rng.gen_range(0..300)).map(|_| rng.gen::<u8>()));
    out
}

/// A TLS client with the group's CA and client certificate.
fn tls_connector(certs: &TestCerts) -> SslConnector {
    let mut builder = SslConnector::builder(SslMethod::tls_client()).expect("TLS context");
    builder.set_ca_file(certs.file("ca.crt")).expect("CA");
    builder
        .set_certificate_chain_file(certs.file("client.crt"))
        .expect("client certificate");
    builder
        .set_private_key_file(certs.file("client.key"), SslFiletype::PEM)
        .expect("client key");
    builder.build()
}

/// A TLS session with the sentinel on `port`.
fn tls_connect(tls: &SslConnector, port: u16) -> Option<SslStream<TcpStream>> {
    let tcp = TcpStream::connect(("127.0.0.1", port)).ok()?;
    tcp.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    tls.connect("127.0.0.1", tcp).ok()
}

/// After sending: read a little, linger, or drop the connection at once.
fn leave(rng: &mut SmallRng, conn: &mut impl Read) {
    match rng.gen_range(0..3) {
        0 => {
            let mut buf = [0u8; 4096];
            let _ = conn.read(&mut buf);
        }
        1 => thread::sleep(Duration::from_millis(rng.gen_range(1..50))),
        _ => {}
    }
}

/// Until `stop`: connect to one of the plain `ports` or the `tls_ports` and send garbage (on a
/// TLS port: plain garbage, a broken handshake, or garbage inside a complete TLS session), then
/// read a little, linger, or drop the connection mid-frame. Returns how many connections got
/// their garbage written.
fn attack(
    ports: Vec<u16>,
    tls_ports: Vec<u16>,
    tls: Arc<SslConnector>,
    seed: u64,
    stop: Arc<AtomicBool>,
) -> usize {
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut sent = 0;
    for _ in 0..MAX_CONNECTIONS {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let over_tls = rng.gen_bool(0.4);
        let port = if over_tls {
            tls_ports[rng.gen_range(0..tls_ports.len())]
        } else {
            ports[rng.gen_range(0..ports.len())]
        };
        if over_tls && rng.gen_bool(0.5) {
            if let Some(mut session) = tls_connect(&tls, port) {
                let _ = session
                    .get_ref()
                    .set_read_timeout(Some(Duration::from_millis(20)));
                if session.write_all(&garbage(&mut rng)).is_ok() {
                    sent += 1;
                }
                leave(&mut rng, &mut session);
            }
            continue;
        }
        let Ok(mut conn) = TcpStream::connect(("127.0.0.1", port)) else {
            thread::sleep(Duration::from_millis(10));
            continue;
        };
        let _ = conn.set_read_timeout(Some(Duration::from_millis(20)));
        let bytes = if over_tls && rng.gen_bool(0.5) {
            broken_handshake(&mut rng)
        } else {
            garbage(&mut rng)
        };
        if conn.write_all(&bytes).is_ok() {
            sent += 1;
        }
        leave(&mut rng, &mut conn);
    }
    sent
}

/// A random RESP2 or RESP3 value, nested up to `depth`.
fn random_value(rng: &mut SmallRng, depth: u32, out: &mut Vec<u8>) {
    let kinds = if depth == 0 { 9 } else { 14 };
    match rng.gen_range(0..kinds) {
        0 => out.extend_from_slice(b"+PONG\r\n"),
        1 => out.extend_from_slice(
            [
                &b"-ERR no\r\n"[..],
                b"-LOADING loading\r\n",
                b"-BUSY busy\r\n",
                b"-MASTERDOWN down\r\n",
                b"-NOAUTH auth\r\n",
            ][rng.gen_range(0..5)],
        ),
        2 => out.extend_from_slice(format!(":{}\r\n", rng.gen::<i64>()).as_bytes()),
        3 => {
            let len = rng.gen_range(0..80);
            out.extend_from_slice(format!("${len}\r\n").as_bytes());
            out.extend((0..len).map(|_| rng.gen::<u8>()));
            out.extend_from_slice(b"\r\n");
        }
        4 => out.extend_from_slice([&b"$-1\r\n"[..], b"*-1\r\n", b"_\r\n"][rng.gen_range(0..3)]),
        5 => out.extend_from_slice(
            format!(
                "{}\r\n",
                [
                    ",1.5",
                    ",inf",
                    ",nan",
                    "#t",
                    "#f",
                    "(123456789012345678901234567890"
                ][rng.gen_range(0..6)]
            )
            .as_bytes(),
        ),
        6 => out.extend_from_slice(b"=8\r\ntxt:info\r\n"),
        7 => out.extend_from_slice(b"!5\r\nERR x\r\n"),
        8 => out.extend((0..rng.gen_range(1..40)).map(|_| rng.gen::<u8>())),
        kind => {
            let n = rng.gen_range(0..4);
            let (prefix, per) = match kind {
                9 => ('*', 1),
                10 => ('%', 2),
                11 => ('~', 1),
                12 => ('>', 1),
                _ => ('|', 2),
            };
            out.extend_from_slice(format!("{prefix}{n}\r\n").as_bytes());
            for _ in 0..n * per {
                random_value(rng, depth - 1, out);
            }
            if prefix == '|' {
                random_value(rng, depth - 1, out); // an attribute precedes a value
            }
        }
    }
}

/// A bulk string of `text`.
fn bulk(text: &str) -> Vec<u8> {
    format!("${}\r\n{text}\r\n", text.len()).into_bytes()
}

/// Random hex of random length (a run id or garbage in its place).
fn hex(rng: &mut SmallRng) -> String {
    let len = if rng.gen_bool(0.7) {
        40
    } else {
        rng.gen_range(0..60)
    };
    (0..len)
        .map(|_| char::from(b"0123456789abcdef"[rng.gen_range(0..16)]))
        .collect()
}

/// An address field: the fake itself on loopback or text that is no address at all — never an
/// address the Wardens could connect to elsewhere.
fn address(rng: &mut SmallRng, port: u16) -> (String, String) {
    let ip = ["127.0.0.1", "", "not-an-ip", "127.0.0.1.1", "::zz"][rng.gen_range(0..5)];
    let port = [
        port.to_string(),
        "0".into(),
        "70000".into(),
        "-1".into(),
        "x".into(),
    ][rng.gen_range(0..5)]
    .clone();
    (ip.into(), port)
}

/// INFO text built from plausible fields with random values.
fn random_info(rng: &mut SmallRng, port: u16) -> String {
    let mut text = String::from("# Server\r\n");
    for _ in 0..rng.gen_range(0..10) {
        let (ip, p) = address(rng, port);
        let line = match rng.gen_range(0..10) {
            0 => format!("run_id:{}", hex(rng)),
            1 => format!(
                "role:{}",
                ["master", "slave", "sentinel", "", "primary"][rng.gen_range(0..5)]
            ),
            2 => format!("master_host:{ip}"),
            3 => format!("master_port:{p}"),
            4 => format!(
                "master_link_status:{}",
                ["up", "down", ""][rng.gen_range(0..3)]
            ),
            5 => format!(
                "slave{}:ip={ip},port={p},state={},offset={},lag={}",
                rng.gen_range(0..3),
                ["online", "wait_bgsave", ""][rng.gen_range(0..3)],
                rng.gen::<i64>(),
                rng.gen::<i32>()
            ),
            6 => format!("master_repl_offset:{}", rng.gen::<i64>()),
            7 => format!("slave_priority:{}", rng.gen::<i32>()),
            8 => format!("master_link_down_since_seconds:{}", rng.gen::<i64>()),
            _ => format!("slave_repl_offset:{}", rng.gen::<u64>()),
        };
        text.push_str(&line);
        text.push_str("\r\n");
    }
    text
}

/// A pub/sub push on the hello channel: a hello about the fake (never about the real master, which
/// a forged hello with a newer epoch could legitimately move) or random bytes.
fn random_hello(rng: &mut SmallRng, port: u16) -> Vec<u8> {
    let (ip, p) = address(rng, port);
    let (master_ip, master_port) = address(rng, port);
    let payload = if rng.gen_bool(0.8) {
        format!(
            "{ip},{p},{},{},{FAKE_NAME},{master_ip},{master_port},{}",
            hex(rng),
            rng.gen_range(-2i64..100),
            rng.gen_range(-2i64..100)
        )
    } else {
        (0..rng.gen_range(0..60))
            .map(|_| char::from(rng.gen_range(32u8..127)))
            .collect()
    };
    let mut out = b"*3\r\n".to_vec();
    out.extend(bulk("message"));
    out.extend(bulk("__sentinel__:hello"));
    out.extend(bulk(&payload));
    out
}

/// What the fake instance answers to one read of a sentinel's commands.
fn random_answer(rng: &mut SmallRng, port: u16) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..rng.gen_range(1..4) {
        match rng.gen_range(0..6) {
            0 => out.extend(bulk(&random_info(rng, port))),
            1 => out.extend(random_hello(rng, port)),
            2 => out.extend_from_slice(
                [
                    &b"$99999999999\r\n"[..],
                    b"*-5\r\n",
                    b"*3\r\n$1\r\n",
                    b"%1\r\n",
                ][rng.gen_range(0..4)],
            ),
            _ => random_value(rng, 3, &mut out),
        }
    }
    out
}

/// One sentinel's connection to the fake: every read is answered with random RESP; while the
/// sentinel is quiet (e.g. subscribed) random hellos are pushed; sometimes the fake hangs up.
fn serve_fake_connection(mut conn: TcpStream, port: u16, seed: u64, stop: Arc<AtomicBool>) {
    let mut rng = SmallRng::seed_from_u64(seed);
    let _ = conn.set_read_timeout(Some(Duration::from_millis(100)));
    let mut buf = [0u8; 4096];
    while !stop.load(Ordering::Relaxed) {
        let answer = match conn.read(&mut buf) {
            Ok(0) => return,
            Ok(_) => random_answer(&mut rng, port),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if !rng.gen_bool(0.3) {
                    continue;
                }
                random_hello(&mut rng, port)
            }
            Err(_) => return,
        };
        if conn.write_all(&answer).is_err() || rng.gen_bool(0.02) {
            return;
        }
    }
}

/// The fake instance: accepts up to [`FAKE_MAX_CONNECTIONS`] until `stop`; returns how many it
/// served.
fn serve_fake(listener: TcpListener, stop: Arc<AtomicBool>) -> usize {
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let mut served = Vec::new();
    while !stop.load(Ordering::Relaxed) && served.len() < FAKE_MAX_CONNECTIONS {
        match listener.accept() {
            Ok((conn, _)) => {
                let _ = conn.set_nonblocking(false);
                let (seed, stop) = (served.len() as u64, stop.clone());
                served.push(thread::spawn(move || {
                    serve_fake_connection(conn, port, seed, stop)
                }));
            }
            Err(_) => thread::sleep(Duration::from_millis(5)),
        }
    }
    let count = served.len();
    for connection in served {
        connection.join().expect("a fake connection panicked");
    }
    count
}

/// VmRSS of `pid` in KiB.
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// `SENTINEL GET-MASTER-ADDR-BY-NAME` over a TLS session: whether it named an address.
fn tls_ask(tls: &SslConnector, port: u16) -> bool {
    let Some(mut session) = tls_connect(tls, port) else {
        return false;
    };
    let request = encode_command(&["SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER_NAME]);
    if session.write_all(&request).is_err() {
        return false;
    }
    let reply = read_value(&mut BufReader::new(session));
    matches!(
        reply.ok().and_then(|r| r.as_items().map(<[_]>::len)),
        Some(2)
    )
}

#[test]
fn a_group_under_garbage_fails_over_and_keeps_answering() {
    let certs = Arc::new(TestCerts::create().expect("test certificates"));
    let tls = Arc::new(tls_connector(&certs));
    let fake = TcpListener::bind("127.0.0.1:0").expect("the fake instance's listener");
    let fake_port = fake.local_addr().unwrap().port();
    let settings = Settings {
        tls: Some(certs.clone()),
        sentinel_lines: vec![
            format!("sentinel monitor {FAKE_NAME} 127.0.0.1 {fake_port} 2"),
            format!("sentinel down-after-milliseconds {FAKE_NAME} 2000"),
        ],
        ..Settings::default()
    };
    let stop = Arc::new(AtomicBool::new(false));
    let fake = {
        let stop = stop.clone();
        thread::spawn(move || serve_fake(fake, stop))
    };
    let mut group = Group::start(&[Flavor::Warden; 3], &settings)
        .unwrap_or_else(|e| panic!("cannot start the group: {e}"));
    group
        .wait_discovered()
        .unwrap_or_else(|e| panic!("the Wardens did not discover the group: {e}"));
    let attackers: Vec<_> = (0..ATTACKERS)
        .map(|i| {
            let (ports, tls_ports) = (group.sentinel_ports(), group.tls_ports.clone());
            let (tls, stop) = (tls.clone(), stop.clone());
            thread::spawn(move || attack(ports, tls_ports, tls, 17 + i as u64, stop))
        })
        .collect();
    // Well-formed clients ask every Warden for the master all along, plain and over TLS.
    let (answered, refused) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let asker = {
        let (sentinels, tls_ports) = (group.sentinel_ports(), group.tls_ports.clone());
        let (tls, stop) = (tls.clone(), stop.clone());
        let (answered, refused) = (answered.clone(), refused.clone());
        thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                for (&port, &tls_port) in sentinels.iter().zip(&tls_ports) {
                    let reply =
                        warden_integration::client::Client::connect(port).and_then(|mut c| {
                            c.call(&["SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER_NAME])
                        });
                    let plain = matches!(
                        reply.ok().and_then(|r| r.as_items().map(<[_]>::len)),
                        Some(2)
                    );
                    for ok in [plain, tls_ask(&tls, tls_port)] {
                        if ok {
                            answered.fetch_add(1, Ordering::Relaxed);
                        } else {
                            refused.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                thread::sleep(Duration::from_millis(20));
            }
        })
    };
    thread::sleep(FIRE_BEFORE);
    let old = group.master.port;
    group.master.process.signal(libc::SIGKILL).unwrap();
    let started = Instant::now();
    let new = loop {
        let named: Vec<_> = group
            .all()
            .iter()
            .map(|&i| group.reported_master(i))
            .collect();
        match named.first() {
            Some(Ok(p)) if *p != old && named.iter().all(|n| n.as_ref() == Ok(p)) => break *p,
            _ if started.elapsed() > FAILOVER_TIMEOUT => {
                panic!("no failover under fire: {named:?}\n{}", group.logs(40))
            }
            _ => thread::sleep(Duration::from_millis(50)),
        }
    };
    let failover = started.elapsed();
    thread::sleep(FIRE_AFTER);
    for i in group.all() {
        assert_eq!(
            group.reported_master(i),
            Ok(new),
            "Warden #{i} after the failover"
        );
    }
    stop.store(true, Ordering::Relaxed);
    let sent: usize = attackers
        .into_iter()
        .map(|a| a.join().expect("an attacker panicked"))
        .sum();
    assert!(sent >= 100, "only {sent} garbage connections were written");
    asker.join().expect("the asking client panicked");
    let fake_connections = fake.join().expect("the fake instance panicked");
    assert!(
        fake_connections >= 3,
        "the Wardens opened only {fake_connections} connections to the fake instance"
    );
    assert_ne!(new, old);
    for sentinel in &mut group.sentinels {
        let pid = sentinel.process.pid();
        assert!(
            sentinel.process.try_exit_status().unwrap().is_none(),
            "Warden {pid} exited under fire\n{}",
            sentinel.process.output_tail(30)
        );
        let output = format!("{}{}", sentinel.process.stdout(), sentinel.process.stderr());
        assert!(
            !output.contains("panicked at") && !output.contains("Panic in"),
            "Warden {pid} panicked under fire\n{}",
            sentinel.process.output_tail(30)
        );
        let rss = rss_kib(pid).expect("VmRSS");
        assert!(rss < MAX_RSS_KIB, "Warden {pid} at {rss} KiB under fire");
    }
    let (answered, refused) = (
        answered.load(Ordering::Relaxed),
        refused.load(Ordering::Relaxed),
    );
    eprintln!(
        "under fire: {sent} garbage connections, {fake_connections} connections to the fake \
         instance, {answered} answers (plain and TLS), failover in {failover:?}"
    );
    assert!(answered > 0, "the well-formed clients got no answer");
    assert_eq!(
        refused, 0,
        "{refused} of the well-formed clients' requests failed ({answered} answered)"
    );
}
