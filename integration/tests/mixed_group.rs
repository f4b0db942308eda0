//! Mixed groups (issues 4 and 5): Wardens and the reference `redis-sentinel` watching the same
//! master discover each other through hellos, agree on `+odown` by counting each other's answers,
//! and complete a failover whichever side wins the election.
//!
//! Needs `redis-server` and `redis-sentinel` on PATH and the release binary
//! (`target/release/warden` or `$WARDEN_BIN`).

use std::time::Duration;

use warden_integration::bed::MASTER_NAME;
use warden_integration::events::{dump, from, sole_promoter, EventLog};
use warden_integration::group::{Group, Settings};
use warden_integration::servers::Flavor;

/// Longest wait for the master's down state to be published everywhere.
const DOWN_TIMEOUT: Duration = Duration::from_secs(20);
/// Longest wait from the kill to every sentinel switching: down-after, an election, and retries
/// after split votes (2 × failover-timeout each).
const FAILOVER_TIMEOUT: Duration = Duration::from_secs(60);

fn discovered(flavors: &[Flavor], settings: &Settings) -> Group {
    let group =
        Group::start(flavors, settings).unwrap_or_else(|e| panic!("cannot start the group: {e}"));
    // Each sentinel lists the two others (connected) and both replicas.
    group
        .wait_discovered()
        .unwrap_or_else(|e| panic!("the sentinels did not discover each other: {e}"));
    group
}

/// Quorum 3 of 3 over a master whose replicas can never be promoted: `+odown` at a sentinel
/// proves it counted the answers of both others, Warden and redis-sentinel alike; the master stays
/// (no good replica), so the way back is observed too.
fn odown_needs_every_vote(flavors: &[Flavor]) {
    let settings = Settings {
        quorum: 3,
        replica_args: vec!["--replica-priority".into(), "0".into()],
        ..Settings::default()
    };
    let mut group = discovered(flavors, &settings);
    let mut log = EventLog::subscribe(&group.sentinel_ports()).unwrap();
    let id = format!("master {MASTER_NAME} 127.0.0.1 {}", group.master.port);
    group.master.process.signal(libc::SIGSTOP).unwrap();
    let all = group.all();
    log.wait_all(DOWN_TIMEOUT, &all, "+odown", &format!("{id} #quorum 3/3"))
        .unwrap_or_else(|e| panic!("{e}\n{}", group.logs(20)));
    group.master.process.signal(libc::SIGCONT).unwrap();
    log.wait_all(DOWN_TIMEOUT, &all, "-odown", &id)
        .unwrap_or_else(|e| panic!("{e}\n{}", group.logs(20)));
    log.wait_all(DOWN_TIMEOUT, &all, "-sdown", &id)
        .unwrap_or_else(|e| panic!("{e}\n{}", group.logs(20)));
}

/// How a failover is set off.
#[derive(Clone, Copy, Debug)]
enum Trigger {
    /// SIGKILL the master: the sentinels elect a leader.
    KillMaster,
    /// `SENTINEL FAILOVER mymaster` at this sentinel: it leads, the others follow its hellos.
    Forced(usize),
}

/// Sets off a failover; every sentinel switches to the same replica, which is promoted, the other
/// replica follows it, and all report it. Prints which implementation led.
fn failover_completes(flavors: &[Flavor], trigger: Trigger) {
    let mut group = discovered(flavors, &Settings::default());
    let mut log = EventLog::subscribe(&group.sentinel_ports()).unwrap();
    let old = group.master.port;
    match trigger {
        Trigger::KillMaster => group.master.process.signal(libc::SIGKILL).unwrap(),
        Trigger::Forced(s) => {
            let reply = group.sentinels[s]
                .client()
                .and_then(|mut c| c.call(&["SENTINEL", "FAILOVER", MASTER_NAME]))
                .unwrap();
            assert_eq!(reply.as_text().as_deref(), Some("OK"), "{reply}");
        }
    }
    let all = group.all();
    log.wait_all(FAILOVER_TIMEOUT, &all, "+switch-master", MASTER_NAME)
        .unwrap_or_else(|e| panic!("{e}\n{}", group.logs(30)));
    let events = log.events();
    let switches: Vec<&str> = all
        .iter()
        .map(|&s| {
            from(events, s)
                .find(|e| e.channel == "+switch-master")
                .map_or("", |e| e.payload.as_str())
        })
        .collect();
    assert!(
        switches.iter().all(|s| *s == switches[0]),
        "the sentinels switched differently: {switches:?}\n{}",
        dump(events)
    );
    let new: u16 = switches[0]
        .rsplit(' ')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("bad +switch-master {:?}", switches[0]));
    assert_ne!(new, old);
    let leader = sole_promoter(events);
    if let Trigger::Forced(s) = trigger {
        assert_eq!(leader, s, "{}", dump(events));
    }
    eprintln!("{flavors:?}: the failover was led by {}", flavors[leader]);

    group.assert_promoted(new, FAILOVER_TIMEOUT);
}

const TWO_WARDENS: [Flavor; 3] = [Flavor::Warden, Flavor::Warden, Flavor::Redis];
const ONE_WARDEN: [Flavor; 3] = [Flavor::Warden, Flavor::Redis, Flavor::Redis];

#[test]
fn two_wardens_and_a_redis_sentinel_agree_on_odown() {
    odown_needs_every_vote(&TWO_WARDENS);
}

#[test]
fn one_warden_and_two_redis_sentinels_agree_on_odown() {
    odown_needs_every_vote(&ONE_WARDEN);
}

#[test]
fn two_wardens_and_a_redis_sentinel_fail_over() {
    failover_completes(&TWO_WARDENS, Trigger::KillMaster);
}

#[test]
fn one_warden_and_two_redis_sentinels_fail_over() {
    failover_completes(&ONE_WARDEN, Trigger::KillMaster);
}

/// Each side leads once for sure: the other implementation follows its config through hellos.
#[test]
fn wardens_follow_a_failover_led_by_redis_sentinel() {
    failover_completes(&TWO_WARDENS, Trigger::Forced(2));
}

#[test]
fn redis_sentinels_follow_a_failover_led_by_warden() {
    failover_completes(&ONE_WARDEN, Trigger::Forced(0));
}
