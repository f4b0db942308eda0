//! Issue 19: one Warden, one redis-sentinel 7.0.15 and one valkey-sentinel 8.1 watch the same master
//! (quorum 2) and fail it over five times in a row, master killed each time: every sentinel
//! switches to the same replica whichever implementation leads, and the sentinels agree within
//! down-after + 300 ms of the first switch. Votes must be seen granted both ways (Warden for a
//! redis- or valkey-sentinel candidate, one of them for Warden); Warden, the fastest to start,
//! leads most failovers, so up to five more are run until it has voted for another.
//!
//! Needs `redis-server` and `redis-sentinel` on PATH, the release binary (`target/release/warden` or
//! `$WARDEN_BIN`) and valkey-sentinel (`scripts/install-valkey.sh`, or `$VALKEY_SENTINEL`); skipped,
//! saying so, when valkey-sentinel is not installed.

use std::collections::HashMap;
use std::time::Duration;

use warden_integration::bed::MASTER_NAME;
use warden_integration::binaries;
use warden_integration::events::{dump, from, sole_promoter, Event, EventLog};
use warden_integration::group::{wait_replica_of, Group, Settings};
use warden_integration::servers::{Flavor, RedisServer};
use warden_integration::wait::wait_until;

/// Longest wait from a kill to every sentinel switching (a split vote is retried after
/// 2 × failover-timeout).
const FAILOVER_TIMEOUT: Duration = Duration::from_secs(40);
/// down-after-milliseconds of the group. With 1000 ms, redis- and valkey-sentinel, a majority
/// here, sometimes see the fresh master SDOWN right after a switch and, counting the "down"
/// answers they keep from the failover before, fail it over again (Warden refuses its vote;
/// docs/compatibility.md, *Mixed groups*): seen in 2 of 4 runs of this test.
const DOWN_AFTER_MS: u64 = 1500;
/// How long after the first `+switch-master` the last sentinel may switch.
const AGREEMENT_MS: u64 = DOWN_AFTER_MS + 300;
/// Failovers in a row.
const ROUNDS: usize = 5;
/// Failovers at most, when Warden led the first ones and so has not voted for another yet.
const MAX_ROUNDS: usize = 10;

const FLAVORS: [Flavor; 3] = [Flavor::Warden, Flavor::Redis, Flavor::Valkey];

/// The new master's port of a `+switch-master` payload.
fn switched_to(e: &Event) -> u16 {
    e.payload
        .rsplit(' ')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("bad +switch-master {:?}", e.payload))
}

/// Waits until every sentinel lists every server but `master` as a replica with its link up.
fn wait_replicas_known(group: &Group, master: u16) {
    // Three servers: all but the master.
    let expected = group.replicas.len();
    for s in &group.sentinels {
        wait_until(
            FAILOVER_TIMEOUT,
            "every replica known with its link up",
            || {
                let reply = s
                    .client()
                    .and_then(|mut c| c.call(&["SENTINEL", "REPLICAS", MASTER_NAME]))
                    .map_err(|e| e.to_string())?;
                let items = reply.as_items().unwrap_or_default();
                let ok = items.len() == expected
                    && items.iter().all(|r| {
                        r.field_text("flags").as_deref() == Some("slave")
                            && r.field_text("master-link-status").as_deref() == Some("ok")
                            && r.field_text("port") != Some(master.to_string())
                    });
                if ok {
                    Ok(())
                } else {
                    Err(format!("{}: {reply}", s.flavor))
                }
            },
        )
        .unwrap_or_else(|e| panic!("{e}\n{}", group.logs(30)));
    }
}

#[test]
fn warden_redis_and_valkey_sentinels_fail_over_five_times_in_a_row() {
    if let Err(e) = binaries::valkey_sentinel() {
        eprintln!("SKIPPED: valkey-sentinel is not installed ({e})");
        return;
    }
    let settings = Settings {
        down_after_ms: DOWN_AFTER_MS,
        // Voters may start an attempt of their own 2 × failover-timeout after voting: short, so
        // any implementation can lead the next round.
        failover_timeout_ms: 2000,
        ..Settings::default()
    };
    let mut group =
        Group::start(&FLAVORS, &settings).unwrap_or_else(|e| panic!("cannot start the group: {e}"));
    group
        .wait_discovered()
        .unwrap_or_else(|e| panic!("the sentinels did not discover each other: {e}"));
    let ids = group.myids().unwrap();
    let flavor_of: HashMap<String, Flavor> = ids
        .iter()
        .cloned()
        .zip(FLAVORS)
        .map(|(id, f)| (id.to_ascii_lowercase(), f))
        .collect();
    let all = group.all();
    let mut master = group.master.port;
    let mut leaders = Vec::new();
    // (voter, candidate) pairs of the votes seen.
    let mut votes: Vec<(Flavor, Flavor)> = Vec::new();
    let both_ways = |votes: &[(Flavor, Flavor)]| {
        let warden = |f: Flavor| f == Flavor::Warden;
        votes.iter().any(|&(v, c)| warden(v) && !warden(c))
            && votes.iter().any(|&(v, c)| !warden(v) && warden(c))
    };
    for round in 0..MAX_ROUNDS {
        if round >= ROUNDS && both_ways(&votes) {
            break;
        }
        let mut log = EventLog::subscribe(&group.sentinel_ports()).unwrap();
        let server = std::iter::once(&mut group.master)
            .chain(group.replicas.iter_mut())
            .find(|s| s.port == master)
            .unwrap();
        server.process.signal(libc::SIGKILL).unwrap();
        log.wait_all(FAILOVER_TIMEOUT, &all, "+switch-master", MASTER_NAME)
            .unwrap_or_else(|e| panic!("round {round}: {e}\n{}", group.logs(30)));
        let events = log.events();
        let switches: Vec<&Event> = all
            .iter()
            .map(|&s| {
                from(events, s)
                    .find(|e| e.channel == "+switch-master")
                    .unwrap()
            })
            .collect();
        let new = switched_to(switches[0]);
        assert!(
            switches.iter().all(|e| switched_to(e) == new) && new != master,
            "round {round}: the sentinels switched differently\n{}",
            dump(events)
        );
        let first = switches.iter().map(|e| e.at).min().unwrap();
        let last = switches.iter().map(|e| e.at).max().unwrap();
        let spread = last - first;
        let leader = FLAVORS[sole_promoter(events)];
        eprintln!(
            "round {round}: {master} -> {new}, led by {leader}, every sentinel switched within {spread:?} of the first"
        );
        assert!(
            spread <= Duration::from_millis(AGREEMENT_MS),
            "round {round}: the last sentinel switched {spread:?} after the first\n{}",
            dump(events)
        );
        for e in events.iter().filter(|e| e.channel == "+vote-for-leader") {
            let candidate = e.payload.split(' ').next().unwrap_or_default();
            if let Some(&c) = flavor_of.get(&candidate.to_ascii_lowercase()) {
                votes.push((FLAVORS[e.source], c));
            }
        }
        leaders.push(leader);
        // The killed master comes back as a replica of the new one (its data went with it).
        let old = master;
        let server = std::iter::once(&mut group.master)
            .chain(group.replicas.iter_mut())
            .find(|s| s.port == old)
            .unwrap();
        *server = RedisServer::start_on(old, &["--replicaof", "127.0.0.1", &new.to_string()])
            .unwrap_or_else(|e| panic!("cannot restart {old}: {e}"));
        wait_replica_of(server, new, FAILOVER_TIMEOUT, "the old master to follow")
            .unwrap_or_else(|e| panic!("{e}\n{}", group.logs(30)));
        group
            .wait_master_everywhere(new, FAILOVER_TIMEOUT)
            .unwrap_or_else(|e| panic!("{e}\n{}", group.logs(30)));
        wait_replicas_known(&group, new);
        master = new;
    }
    eprintln!("leaders: {leaders:?}; votes (voter, candidate): {votes:?}");
    assert!(
        both_ways(&votes),
        "in {} failovers Warden and the others did not vote for each other: {votes:?}\n{}",
        leaders.len(),
        group.logs(200)
    );
}
