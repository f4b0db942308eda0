//! Issue 17, end to end: three Wardens fail over a killed master while several connections keep
//! sending each of them bounded random garbage (malformed RESP, oversized headers, unfinished
//! frames, connections left half-written or dropped mid-frame). The failover completes, no Warden
//! exits, each stays within a memory bound, and a well-formed client keeps getting answers
//! throughout.
//!
//! Needs `redis-server` on PATH and the release binary (`target/release/warden` or `$WARDEN_BIN`).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use warden_integration::bed::MASTER_NAME;
use warden_integration::group::{Group, Settings};
use warden_integration::servers::Flavor;

/// Longest wait from the kill to every Warden naming the new master.
const FAILOVER_TIMEOUT: Duration = Duration::from_secs(45);
/// Connections sending garbage at once.
const ATTACKERS: usize = 4;
/// Garbage connections per attacker at most (bounded load).
const MAX_CONNECTIONS: usize = 5_000;
/// The resident memory a Warden may reach under fire (it uses ~10 MiB here).
const MAX_RSS_KIB: u64 = 256 * 1024;

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

/// Until `stop`: connect to one of `ports`, send garbage, then read a little, linger, or drop the
/// connection mid-frame. Returns how many connections got their garbage written.
fn attack(ports: Vec<u16>, seed: u64, stop: Arc<AtomicBool>) -> usize {
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut sent = 0;
    for _ in 0..MAX_CONNECTIONS {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let port = ports[rng.gen_range(0..ports.len())];
        let Ok(mut conn) = TcpStream::connect(("127.0.0.1", port)) else {
            thread::sleep(Duration::from_millis(10));
            continue;
        };
        let _ = conn.set_read_timeout(Some(Duration::from_millis(20)));
        if conn.write_all(&garbage(&mut rng)).is_ok() {
            sent += 1;
        }
        match rng.gen_range(0..3) {
            0 => {
                let mut buf = [0u8; 4096];
                let _ = conn.read(&mut buf);
            }
            1 => thread::sleep(Duration::from_millis(rng.gen_range(1..50))),
            _ => {}
        }
    }
    sent
}

/// VmRSS of `pid` in KiB.
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn a_group_under_garbage_fails_over_and_keeps_answering() {
    let mut group = Group::start(&[Flavor::Warden; 3], &Settings::default())
        .unwrap_or_else(|e| panic!("cannot start the group: {e}"));
    group
        .wait_discovered()
        .unwrap_or_else(|e| panic!("the Wardens did not discover the group: {e}"));
    let stop = Arc::new(AtomicBool::new(false));
    let attackers: Vec<_> = (0..ATTACKERS)
        .map(|i| {
            let (ports, stop) = (group.sentinel_ports(), stop.clone());
            thread::spawn(move || attack(ports, 17 + i as u64, stop))
        })
        .collect();
    // A well-formed client asks every Warden for the master all along.
    let (answered, refused) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let asker = {
        let (sentinels, stop) = (group.sentinel_ports(), stop.clone());
        let (answered, refused) = (answered.clone(), refused.clone());
        thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                for &port in &sentinels {
                    let reply =
                        warden_integration::client::Client::connect(port).and_then(|mut c| {
                            c.call(&["SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER_NAME])
                        });
                    match reply.ok().and_then(|r| r.as_items().map(<[_]>::len)) {
                        Some(2) => answered.fetch_add(1, Ordering::Relaxed),
                        _ => refused.fetch_add(1, Ordering::Relaxed),
                    };
                }
                thread::sleep(Duration::from_millis(20));
            }
        })
    };
    thread::sleep(Duration::from_millis(500));
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
    stop.store(true, Ordering::Relaxed);
    let sent: usize = attackers
        .into_iter()
        .map(|a| a.join().expect("an attacker panicked"))
        .sum();
    assert!(sent >= 100, "only {sent} garbage connections were written");
    asker.join().expect("the asking client panicked");
    assert_ne!(new, old);
    for sentinel in &mut group.sentinels {
        let pid = sentinel.process.pid();
        assert!(
            sentinel.process.try_exit_status().unwrap().is_none(),
            "Warden {pid} exited under fire\n{}",
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
        "under fire: {sent} garbage connections, {answered} answers, failover in {:?}",
        started.elapsed()
    );
    assert!(answered > 0, "the well-formed client got no answer");
    assert_eq!(
        refused, 0,
        "{refused} of the well-formed client's requests failed ({answered} answered)"
    );
}
