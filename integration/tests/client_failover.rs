//! A Sentinel-aware client (redis-rs, `sentinel` feature) keeps writing across a failover run by
//! three Wardens: after the master is SIGKILLed its writes fail only until the Wardens have
//! promoted a replica, then they go to the new master. The interruption is printed, not asserted.
//!
//! Needs `redis-server` on PATH and the release binary (`target/release/warden` or `$WARDEN_BIN`).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use redis::sentinel::{SentinelClient, SentinelServerType};
use warden_integration::bed::MASTER_NAME;
use warden_integration::events::{dump, EventLog};
use warden_integration::group::{Group, Settings};
use warden_integration::servers::Flavor;
use warden_integration::wait::wait_for;

/// The longest the writer runs (the loop is bounded even if the failover never happens).
const WRITER_BOUND: Duration = Duration::from_secs(90);
/// Longest wait from the kill to every Warden switching.
const FAILOVER_TIMEOUT: Duration = Duration::from_secs(45);

/// One write attempt.
#[derive(Debug)]
struct Attempt {
    /// When it ended.
    at: Instant,
    /// Why it failed; `None` if the server acknowledged it.
    error: Option<String>,
}

/// Writes `INCR counter` every few ms through whatever master the sentinels name, reconnecting
/// (asking the sentinels again) after every error, until `stop` or [`WRITER_BOUND`].
fn write_continuously(
    sentinels: Vec<String>,
    acked: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
) -> Vec<Attempt> {
    let mut client = SentinelClient::build(
        sentinels,
        MASTER_NAME.to_string(),
        None,
        SentinelServerType::Master,
    )
    .expect("sentinel client");
    let mut conn: Option<redis::Connection> = None;
    let mut attempts = Vec::new();
    let bound = Instant::now() + WRITER_BOUND;
    while !stop.load(Ordering::Relaxed) && Instant::now() < bound {
        thread::sleep(Duration::from_millis(5));
        if conn.is_none() {
            match client.get_connection() {
                Ok(c) => {
                    // A stopped server must not stall the loop.
                    let _ = c.set_read_timeout(Some(Duration::from_secs(1)));
                    conn = Some(c);
                }
                Err(e) => {
                    attempts.push(Attempt {
                        at: Instant::now(),
                        error: Some(format!("asking the sentinels: {e}")),
                    });
                    continue;
                }
            }
        }
        let Some(c) = conn.as_mut() else { continue };
        let result: redis::RedisResult<i64> = redis::cmd("INCR").arg("counter").query(c);
        let error = match result {
            Ok(_) => {
                acked.fetch_add(1, Ordering::Relaxed);
                None
            }
            Err(e) => {
                conn = None;
                Some(format!("INCR: {e}"))
            }
        };
        attempts.push(Attempt {
            at: Instant::now(),
            error,
        });
    }
    attempts
}

/// Prints the failures after `killed` by message, with the first and last time (from the kill).
fn print_errors(attempts: &[Attempt], killed: Instant) {
    let mut kinds: Vec<(&str, usize, Duration, Duration)> = Vec::new();
    for a in attempts.iter().filter(|a| a.at >= killed) {
        let Some(error) = a.error.as_deref() else {
            continue;
        };
        let at = a.at - killed;
        match kinds.iter_mut().find(|k| k.0 == error) {
            Some(kind) => {
                kind.1 += 1;
                kind.3 = at;
            }
            None => kinds.push((error, 1, at, at)),
        }
    }
    for (error, n, first, last) in kinds {
        eprintln!("  {n} x `{error}` from {first:?} to {last:?} after the kill");
    }
}

#[test]
fn redis_rs_sentinel_client_writes_across_a_failover() {
    let mut group = Group::start(&[Flavor::Warden; 3], &Settings::default())
        .unwrap_or_else(|e| panic!("cannot start the group: {e}"));
    group
        .wait_discovered()
        .unwrap_or_else(|e| panic!("the Wardens did not discover the group: {e}"));
    let urls: Vec<String> = group
        .sentinel_ports()
        .iter()
        .map(|p| format!("redis://127.0.0.1:{p}/"))
        .collect();
    let mut log = EventLog::subscribe(&group.sentinel_ports()).unwrap();
    let acked = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (acked, stop) = (Arc::clone(&acked), Arc::clone(&stop));
        thread::spawn(move || write_continuously(urls, acked, stop))
    };
    wait_for(Duration::from_secs(10), "the client to write", || {
        acked.load(Ordering::Relaxed) >= 50
    })
    .unwrap();

    let killed = Instant::now();
    group.master.process.signal(libc::SIGKILL).unwrap();
    log.wait_all(
        FAILOVER_TIMEOUT,
        &group.all(),
        "+switch-master",
        MASTER_NAME,
    )
    .unwrap_or_else(|e| panic!("{e}\n{}", group.logs(30)));
    let switched = killed.elapsed();
    let at_switch = acked.load(Ordering::Relaxed);
    let resumed = wait_for(
        Duration::from_secs(20),
        "the client to write after the failover",
        || acked.load(Ordering::Relaxed) >= at_switch + 100,
    );
    stop.store(true, Ordering::Relaxed);
    let attempts = writer.join().unwrap();
    resumed.unwrap_or_else(|e| panic!("{e}\n{}", group.logs(30)));

    let errors = attempts
        .iter()
        .filter(|a| a.at >= killed && a.error.is_some())
        .count();
    // The interruption: the longest gap between two acknowledged writes around the kill.
    let oks: Vec<Instant> = attempts
        .iter()
        .filter(|a| a.error.is_none() && a.at + Duration::from_secs(1) >= killed)
        .map(|a| a.at)
        .collect();
    let interruption = oks
        .windows(2)
        .map(|w| w[1] - w[0])
        .max()
        .unwrap_or_default();
    eprintln!(
        "redis-rs sentinel client: {} writes acknowledged, {errors} failed after the kill; \
         interruption {interruption:?} (down-after {} ms, every Warden switched {switched:?} \
         after the kill)",
        acked.load(Ordering::Relaxed),
        Settings::default().down_after_ms
    );
    print_errors(&attempts, killed);
    log.collect();
    eprintln!("events:\n{}", dump(log.events()));
    // The writes after the interruption went to the promoted replica.
    let new = group.reported_master(0).unwrap();
    let counter: i64 = redis::Client::open(format!("redis://127.0.0.1:{new}/"))
        .and_then(|c| c.get_connection())
        .and_then(|mut c| redis::cmd("GET").arg("counter").query(&mut c))
        .unwrap();
    assert!(counter > 0);
    assert_ne!(new, group.master.port);
}
