//! VipManager against the fake backend, on tokio's paused clock (virtual time: every instant
//! below is exact and deterministic, nothing waits on the wall clock).

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::{self, UnboundedReceiver};
use tokio::time::{timeout, Instant};
use warden_vip::fake::{Call, Op};
use warden_vip::frames::ArpForm;
use warden_vip::{FakeBackend, VipAddr, VipError, VipManager, VipReport, VipSettings};

const IFACE: &str = "eth0";
const MS: Duration = Duration::from_millis(1);

fn vip4() -> IpAddr {
    "10.0.0.100".parse().unwrap()
}

fn settings(addr: IpAddr, prefix: u8) -> VipSettings {
    VipSettings {
        vip: VipAddr::new(addr, prefix, IFACE).unwrap(),
        garp_count: 3,
        garp_interval: 100 * MS,
        garp_repeat_delay: 5000 * MS,
        garp_refresh: 60_000 * MS,
        reply_form: false,
        routed: false,
    }
}

fn backend() -> Arc<FakeBackend> {
    Arc::new(FakeBackend::new().with_interface(IFACE, 2, [2, 0, 0, 0, 0, 1]))
}

fn start(
    fake: &Arc<FakeBackend>,
    settings: VipSettings,
) -> (VipManager, UnboundedReceiver<VipReport>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let manager = VipManager::start(fake.clone(), settings, move |r| {
        let _ = tx.send(r);
    })
    .unwrap();
    (manager, rx)
}

/// The next report other than [`VipReport::Announced`] (counted by
/// `announcements_are_reported_frame_by_frame`).
async fn next(rx: &mut UnboundedReceiver<VipReport>) -> VipReport {
    loop {
        let report = timeout(Duration::from_secs(3600), rx.recv())
            .await
            .expect("no report within the deadline")
            .expect("manager ended");
        if !matches!(report, VipReport::Announced { .. }) {
            return report;
        }
    }
}

/// Nothing but announcements reported since the last look.
fn assert_no_report(rx: &mut UnboundedReceiver<VipReport>) {
    while let Ok(report) = rx.try_recv() {
        assert!(
            matches!(report, VipReport::Announced { .. }),
            "unexpected {report:?}"
        );
    }
}

async fn expect_observed(rx: &mut UnboundedReceiver<VipReport>, want: bool) {
    match next(rx).await {
        VipReport::Observed { present } => assert_eq!(present, want),
        other => panic!("expected Observed {{ present: {want} }}, got {other:?}"),
    }
}

/// Offsets (in ms) from `t0` of the announcements made so far.
fn offsets(fake: &FakeBackend, t0: Instant) -> Vec<u64> {
    fake.announce_times()
        .into_iter()
        .map(|t| (t - t0).as_millis() as u64)
        .collect()
}

/// Lets the virtual clock run to `t0 + ms` with every task scheduled before then executed.
async fn run_until(t0: Instant, ms: u64) {
    tokio::time::sleep_until(t0 + Duration::from_millis(ms)).await;
}

#[tokio::test(start_paused = true)]
async fn startup_removes_a_stale_vip() {
    let fake = backend();
    fake.add_externally(IFACE, vip4(), 32);
    let (_m, mut rx) = start(&fake, settings(vip4(), 32));
    assert!(matches!(next(&mut rx).await, VipReport::RemovedStray));
    expect_observed(&mut rx, false).await;
    assert!(!fake.has(IFACE, vip4()));
}

#[tokio::test(start_paused = true)]
async fn startup_with_nothing_to_do_reports_absent() {
    let fake = backend();
    let (_m, mut rx) = start(&fake, settings(vip4(), 32));
    expect_observed(&mut rx, false).await;
    assert!(fake
        .calls()
        .iter()
        .all(|(_, c)| !matches!(c, Call::Remove(_))));
}

#[tokio::test(start_paused = true)]
async fn claim_adds_and_announces_on_schedule() {
    let fake = backend();
    let (_m, mut rx) = start(&fake, settings(vip4(), 32));
    expect_observed(&mut rx, false).await;
    let t0 = Instant::now();
    _m.claim(None);
    expect_observed(&mut rx, true).await;
    assert!(fake.has(IFACE, vip4()));

    run_until(t0, 5500).await;
    assert_eq!(offsets(&fake, t0), vec![0, 100, 200, 5000, 5100, 5200]);

    run_until(t0, 60_500).await;
    assert_eq!(
        offsets(&fake, t0),
        vec![0, 100, 200, 5000, 5100, 5200, 60_000, 60_100, 60_200]
    );
    // The refresh re-checked the interface first.
    let list_at_refresh = fake
        .calls()
        .iter()
        .any(|(t, c)| *t == t0 + 60_000 * MS && matches!(c, Call::List(_)));
    assert!(list_at_refresh);

    run_until(t0, 120_500).await;
    assert_eq!(
        offsets(&fake, t0).len(),
        12,
        "second refresh one period later"
    );
}

/// Every announcement sent is reported with its number of messages (the metrics count them).
#[tokio::test(start_paused = true)]
async fn announcements_are_reported_frame_by_frame() {
    let fake = backend();
    let mut s = settings(vip4(), 32);
    s.reply_form = true;
    let (m, mut rx) = start(&fake, s);
    expect_observed(&mut rx, false).await;
    let t0 = Instant::now();
    m.claim(None);
    run_until(t0, 5500).await;
    let mut reported = 0;
    while let Ok(report) = rx.try_recv() {
        match report {
            VipReport::Announced { frames } => {
                assert_eq!(frames, 2, "a request and its reply form");
                reported += frames;
            }
            VipReport::Observed { present } => assert!(present),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(reported as usize, fake.announce_times().len());
    assert_eq!(reported, 12, "two bursts of three, each in two forms");
}

#[tokio::test(start_paused = true)]
async fn claim_is_idempotent() {
    let fake = backend();
    let (m, mut rx) = start(&fake, settings(vip4(), 32));
    expect_observed(&mut rx, false).await;
    let t0 = Instant::now();
    m.claim(None);
    m.claim(None);
    expect_observed(&mut rx, true).await;
    run_until(t0, 1000).await;
    assert_eq!(offsets(&fake, t0), vec![0, 100, 200]);
    let adds = fake
        .calls()
        .iter()
        .filter(|(_, c)| matches!(c, Call::Add(..)))
        .count();
    assert_eq!(adds, 1);
}

#[tokio::test(start_paused = true)]
async fn reply_form_follows_each_request_for_ipv4_only() {
    let fake = backend();
    let mut s = settings(vip4(), 32);
    s.reply_form = true;
    s.garp_count = 2;
    let (m, mut rx) = start(&fake, s);
    expect_observed(&mut rx, false).await;
    let t0 = Instant::now();
    m.claim(None);
    expect_observed(&mut rx, true).await;
    run_until(t0, 1000).await;
    let forms: Vec<ArpForm> = fake
        .calls()
        .into_iter()
        .filter_map(|(_, c)| match c {
            Call::Announce(_, f) => Some(f),
            _ => None,
        })
        .collect();
    assert_eq!(
        forms,
        vec![
            ArpForm::Request,
            ArpForm::Reply,
            ArpForm::Request,
            ArpForm::Reply
        ]
    );

    let fake6 = backend();
    let mut s6 = settings("fd00::64".parse().unwrap(), 128);
    s6.reply_form = true;
    s6.garp_count = 2;
    let (m6, mut rx6) = start(&fake6, s6);
    expect_observed(&mut rx6, false).await;
    let t1 = Instant::now();
    m6.claim(None);
    expect_observed(&mut rx6, true).await;
    run_until(t1, 1000).await;
    assert_eq!(offsets(&fake6, t1), vec![0, 100], "one NA per frame slot");
}

#[tokio::test(start_paused = true)]
async fn deletion_while_held_is_repaired_at_once() {
    let fake = backend();
    let (m, mut rx) = start(&fake, settings(vip4(), 32));
    expect_observed(&mut rx, false).await;
    let t0 = Instant::now();
    m.claim(None);
    expect_observed(&mut rx, true).await;
    run_until(t0, 2000).await;

    let t1 = Instant::now();
    fake.remove_externally(IFACE, vip4());
    assert!(matches!(next(&mut rx).await, VipReport::Reasserted));
    assert!(fake.has(IFACE, vip4()));
    let re_add = fake
        .calls()
        .into_iter()
        .rfind(|(_, c)| matches!(c, Call::Add(..)))
        .map(|(t, _)| t)
        .unwrap();
    assert!(re_add - t1 < 100 * MS, "re-added within 100 ms");
    run_until(t1, 300).await;
    let after: Vec<u64> = fake
        .announce_times()
        .into_iter()
        .filter(|t| *t >= t1)
        .map(|t| (t - t1).as_millis() as u64)
        .collect();
    assert_eq!(
        after,
        vec![0, 100, 200],
        "a fresh burst right after the repair"
    );
    // The presence never flipped from the manager's point of view after the repair.
    assert_no_report(&mut rx);
}

#[tokio::test(start_paused = true)]
async fn appearance_while_not_held_is_removed() {
    let fake = backend();
    let (_m, mut rx) = start(&fake, settings(vip4(), 32));
    expect_observed(&mut rx, false).await;
    fake.add_externally(IFACE, vip4(), 24);
    assert!(matches!(next(&mut rx).await, VipReport::RemovedStray));
    assert!(!fake.has(IFACE, vip4()));
    // Removed with the prefix it actually had.
    assert!(fake
        .calls()
        .iter()
        .any(|(_, c)| matches!(c, Call::Remove(v) if v.prefix == 24)));
}

#[tokio::test(start_paused = true)]
async fn unrelated_addresses_are_left_alone() {
    let fake = backend();
    let (_m, mut rx) = start(&fake, settings(vip4(), 32));
    expect_observed(&mut rx, false).await;
    fake.add_externally(IFACE, "10.0.0.7".parse().unwrap(), 24);
    run_until(Instant::now(), 10).await;
    assert!(fake.has(IFACE, "10.0.0.7".parse().unwrap()));
    assert_no_report(&mut rx);
}

#[tokio::test(start_paused = true)]
async fn carrier_coming_back_reannounces_a_held_vip() {
    let fake = backend();
    let (m, mut rx) = start(&fake, settings(vip4(), 32));
    expect_observed(&mut rx, false).await;
    let t0 = Instant::now();
    fake.set_carrier(IFACE, true); // first notice: no transition known, nothing sent
    m.claim(None);
    expect_observed(&mut rx, true).await;
    run_until(t0, 1000).await;
    fake.set_carrier(IFACE, false);
    run_until(t0, 2000).await;
    fake.set_carrier(IFACE, true);
    run_until(t0, 3000).await;
    assert_eq!(offsets(&fake, t0), vec![0, 100, 200, 2000, 2100, 2200]);
    m.release();
    expect_observed(&mut rx, false).await;
    fake.set_carrier(IFACE, false);
    fake.set_carrier(IFACE, true);
    run_until(t0, 4000).await;
    assert_eq!(
        offsets(&fake, t0).len(),
        6,
        "nothing announced while not held"
    );
}

#[tokio::test(start_paused = true)]
async fn release_removes_and_stops_announcing() {
    let fake = backend();
    let (m, mut rx) = start(&fake, settings(vip4(), 32));
    expect_observed(&mut rx, false).await;
    let t0 = Instant::now();
    m.claim(None);
    expect_observed(&mut rx, true).await;
    run_until(t0, 150).await;
    m.release();
    expect_observed(&mut rx, false).await;
    assert!(!fake.has(IFACE, vip4()));
    run_until(t0, 120_000).await;
    assert_eq!(
        offsets(&fake, t0),
        vec![0, 100],
        "nothing after the release"
    );
}

#[tokio::test(start_paused = true)]
async fn shutdown_and_drop_release() {
    let fake = backend();
    let (m, mut rx) = start(&fake, settings(vip4(), 32));
    expect_observed(&mut rx, false).await;
    m.claim(None);
    expect_observed(&mut rx, true).await;
    m.shutdown().await;
    assert!(!fake.has(IFACE, vip4()));

    let fake2 = backend();
    let (m2, mut rx2) = start(&fake2, settings(vip4(), 32));
    expect_observed(&mut rx2, false).await;
    m2.claim(None);
    expect_observed(&mut rx2, true).await;
    drop(m2);
    expect_observed(&mut rx2, false).await;
    assert!(!fake2.has(IFACE, vip4()));
}

#[tokio::test(start_paused = true)]
async fn permission_failure_is_reported_and_retried() {
    let fake = backend();
    let (m, mut rx) = start(&fake, settings(vip4(), 32));
    expect_observed(&mut rx, false).await;
    fake.fail_next(Op::Add, libc_eperm());
    let t0 = Instant::now();
    m.claim(None);
    match next(&mut rx).await {
        VipReport::Failed(e @ VipError::MissingCapabilities { .. }) => {
            assert!(e.to_string().contains("CAP_NET_ADMIN"), "{e}")
        }
        other => panic!("expected a capability failure, got {other:?}"),
    }
    expect_observed(&mut rx, true).await;
    assert_eq!(Instant::now() - t0, warden_vip::RETRY_DELAY);
    run_until(t0, 2000).await;
    assert_eq!(offsets(&fake, t0), vec![1000, 1100, 1200]);
}

#[tokio::test(start_paused = true)]
async fn missing_interface_is_reported_and_retried() {
    let fake = Arc::new(FakeBackend::new());
    let (_m, mut rx) = start(&fake, settings(vip4(), 32));
    match next(&mut rx).await {
        VipReport::Failed(VipError::NoSuchInterface(name)) => assert_eq!(name, IFACE),
        other => panic!("expected NoSuchInterface, got {other:?}"),
    }
    // Retried after RETRY_DELAY, failing the same way.
    assert!(matches!(next(&mut rx).await, VipReport::Failed(_)));
}

fn libc_eperm() -> i32 {
    1 // EPERM on Linux
}

#[tokio::test(start_paused = true)]
async fn a_lease_sets_and_renews_the_kernel_lifetime() {
    use warden_vip::Lifetime;
    let fake = backend();
    let (m, mut rx) = start(&fake, settings(vip4(), 32));
    expect_observed(&mut rx, false).await;
    let t0 = Instant::now();
    m.claim(Some(t0 + 2500 * MS));
    expect_observed(&mut rx, true).await;
    assert_eq!(fake.lifetime(IFACE, vip4()), Some(Lifetime::Seconds(2)));
    // Renewed from the time the new end arrives; less than a second left is one second.
    run_until(t0, 400).await;
    m.lease(Some(t0 + 4000 * MS));
    run_until(t0, 401).await;
    assert_eq!(fake.lifetime(IFACE, vip4()), Some(Lifetime::Seconds(3)));
    m.lease(Some(t0 + 900 * MS));
    run_until(t0, 402).await;
    assert_eq!(fake.lifetime(IFACE, vip4()), Some(Lifetime::Seconds(1)));
    // No end (no peers to be heard from): a permanent address.
    m.lease(None);
    run_until(t0, 403).await;
    assert_eq!(fake.lifetime(IFACE, vip4()), Some(Lifetime::Forever));
    let renewals = fake
        .calls()
        .iter()
        .filter(|(_, c)| matches!(c, Call::Renew(..)))
        .count();
    assert_eq!(renewals, 3);
}

#[tokio::test(start_paused = true)]
async fn a_run_out_lease_is_not_added_back() {
    let fake = backend();
    let (m, mut rx) = start(&fake, settings(vip4(), 32));
    expect_observed(&mut rx, false).await;
    let t0 = Instant::now();
    m.claim(Some(t0 + 1500 * MS));
    expect_observed(&mut rx, true).await;
    // The kernel removes it when the lifetime ends; the lease is over, so it stays gone.
    run_until(t0, 1600).await;
    fake.remove_externally(IFACE, vip4());
    expect_observed(&mut rx, false).await;
    run_until(t0, 5000).await;
    assert!(!fake.has(IFACE, vip4()));
    // A renewed lease brings it back.
    m.lease(Some(Instant::now() + 3000 * MS));
    assert!(matches!(next(&mut rx).await, VipReport::Reasserted));
    expect_observed(&mut rx, true).await;
    assert!(fake.has(IFACE, vip4()));
}

#[test]
fn kernel_lifetimes_never_outlast_the_lease_by_rounding() {
    use warden_vip::{kernel_lifetime as lifetime, Lifetime};
    let now = Instant::now();
    assert_eq!(lifetime(None, now), Some(Lifetime::Forever));
    assert_eq!(lifetime(Some(now), now), None);
    assert_eq!(lifetime(Some(now + MS), now), Some(Lifetime::Seconds(1)));
    assert_eq!(
        lifetime(Some(now + 1999 * MS), now),
        Some(Lifetime::Seconds(1))
    );
    assert_eq!(
        lifetime(Some(now + 2000 * MS), now),
        Some(Lifetime::Seconds(2))
    );
    assert_eq!(
        lifetime(Some(now + 30_500 * MS), now),
        Some(Lifetime::Seconds(30))
    );
}

#[tokio::test(start_paused = true)]
async fn a_conflicting_arp_is_reported_and_answered_with_a_burst() {
    let other = [2, 0, 0, 0, 0, 0x66];
    let fake = backend();
    let (m, mut rx) = start(&fake, settings(vip4(), 32));
    expect_observed(&mut rx, false).await;
    // Not held: nothing to defend (the manager reads it before the claim arrives).
    fake.arp_from(other, vip4());
    tokio::time::sleep(MS).await;
    let t0 = Instant::now();
    m.claim(None);
    expect_observed(&mut rx, true).await;
    run_until(t0, 1000).await;
    let before = fake.announce_times().len();
    // Our own announcements, and other addresses, are no conflict.
    fake.arp_from([2, 0, 0, 0, 0, 1], vip4());
    fake.arp_from(other, "10.0.0.7".parse().unwrap());
    fake.arp_from(other, vip4());
    match next(&mut rx).await {
        VipReport::Conflict { mac } => assert_eq!(mac, other),
        report => panic!("expected a conflict, got {report:?}"),
    }
    run_until(t0, 1500).await;
    assert_eq!(fake.announce_times().len(), before + 3, "one burst");
    // Another claim within the period: neither reported nor answered again.
    fake.arp_from([2, 0, 0, 0, 0, 0x77], vip4());
    run_until(t0, 1900).await;
    assert_eq!(fake.announce_times().len(), before + 3);
    assert_no_report(&mut rx);
    // A period later it is.
    run_until(t0, 2100).await;
    fake.arp_from([2, 0, 0, 0, 0, 0x77], vip4());
    assert!(matches!(next(&mut rx).await, VipReport::Conflict { .. }));
}

/// Calls that change the address (add, renew, remove) made so far.
fn changes(fake: &FakeBackend) -> Vec<Call> {
    fake.calls()
        .into_iter()
        .map(|(_, c)| c)
        .filter(|c| matches!(c, Call::Add(..) | Call::Renew(..) | Call::Remove(..)))
        .collect()
}

/// A predecessor's copy with a lifetime (left for a restart) is adopted: kept untouched until
/// the claim, which renews it in place — no remove, no add, so no gap.
#[tokio::test(start_paused = true)]
async fn a_predecessors_leased_copy_is_adopted_and_claimed_in_place() {
    use warden_vip::Lifetime;
    let fake = backend();
    fake.add_externally_for(IFACE, vip4(), 32, Lifetime::Seconds(2));
    let (m, mut rx) = start(&fake, settings(vip4(), 32));
    match next(&mut rx).await {
        VipReport::Found { lifetime } => assert_eq!(lifetime, Duration::from_secs(2)),
        other => panic!("expected Found, got {other:?}"),
    }
    expect_observed(&mut rx, true).await;
    // A kernel event about it (someone re-reads, a renewal elsewhere) does not remove it.
    fake.add_externally_for(IFACE, vip4(), 32, Lifetime::Seconds(2));
    let t0 = Instant::now();
    run_until(t0, 50).await;
    assert!(fake.has(IFACE, vip4()));
    assert!(changes(&fake).is_empty(), "untouched while adopted");
    assert!(
        fake.announce_times().is_empty(),
        "not announced while adopted"
    );
    m.claim(Some(t0 + 3500 * MS));
    run_until(t0, 60).await;
    assert_eq!(
        changes(&fake),
        [Call::Renew(
            VipAddr::new(vip4(), 32, IFACE).unwrap(),
            Lifetime::Seconds(3)
        )]
    );
    assert!(!fake.announce_times().is_empty(), "announced once claimed");
    assert_no_report(&mut rx);
}

#[tokio::test(start_paused = true)]
async fn an_adopted_copy_is_removed_on_release_and_left_on_detach() {
    use warden_vip::Lifetime;
    let fake = backend();
    fake.add_externally_for(IFACE, vip4(), 32, Lifetime::Seconds(1));
    let (m, mut rx) = start(&fake, settings(vip4(), 32));
    assert!(matches!(next(&mut rx).await, VipReport::Found { .. }));
    expect_observed(&mut rx, true).await;
    m.release();
    expect_observed(&mut rx, false).await;
    assert!(!fake.has(IFACE, vip4()));
    m.shutdown().await;

    // Detach: a held, leased VIP stays for the next process.
    let fake = backend();
    let (m, mut rx) = start(&fake, settings(vip4(), 32));
    expect_observed(&mut rx, false).await;
    m.claim(Some(Instant::now() + 2000 * MS));
    expect_observed(&mut rx, true).await;
    m.detach().await;
    assert!(fake.has(IFACE, vip4()));
    assert_eq!(fake.lifetime(IFACE, vip4()), Some(Lifetime::Seconds(2)));
}

/// A copy the kernel drops while adopted is reported gone.
#[tokio::test(start_paused = true)]
async fn an_adopted_copy_that_vanishes_is_reported_absent() {
    use warden_vip::Lifetime;
    let fake = backend();
    fake.add_externally_for(IFACE, vip4(), 32, Lifetime::Seconds(1));
    let (_m, mut rx) = start(&fake, settings(vip4(), 32));
    assert!(matches!(next(&mut rx).await, VipReport::Found { .. }));
    expect_observed(&mut rx, true).await;
    fake.remove_externally(IFACE, vip4());
    expect_observed(&mut rx, false).await;
    // Not re-added: it was never held.
    assert!(!fake.has(IFACE, vip4()));
}

/// A routed VIP is kept on its interface with the lease's lifetime, repaired like any other,
/// but nothing is sent on the segment and ARP from others is no conflict: a routing daemon
/// announces it.
#[tokio::test(start_paused = true)]
async fn a_routed_vip_is_held_without_frames_or_conflict_watch() {
    let fake = backend();
    let routed = VipSettings {
        routed: true,
        ..settings(vip4(), 32)
    };
    let (m, mut rx) = start(&fake, routed);
    expect_observed(&mut rx, false).await;
    assert!(matches!(
        next(&mut rx).await,
        VipReport::Route { present: false }
    ));
    let t0 = Instant::now();
    m.claim(None);
    expect_observed(&mut rx, true).await;
    fake.arp_from([2, 0, 0, 0, 0, 0x66], vip4());
    fake.remove_externally(IFACE, vip4());
    assert!(matches!(next(&mut rx).await, VipReport::Reasserted));
    run_until(t0, 120_500).await;
    assert!(fake.has(IFACE, vip4()));
    assert_eq!(fake.announce_times(), vec![], "no frame in two minutes");
    while let Ok(report) = rx.try_recv() {
        assert!(
            !matches!(
                report,
                VipReport::Conflict { .. } | VipReport::Announced { .. }
            ),
            "{report:?}"
        );
    }
}

/// A routed VIP's manager reports whether another node's route to it is installed: at start,
/// then at each change the route watch signals (and only at changes).
#[tokio::test(start_paused = true)]
async fn a_routed_vip_reports_routes_from_other_nodes() {
    let fake = backend();
    fake.set_route(vip4(), true);
    let routed = VipSettings {
        routed: true,
        ..settings(vip4(), 32)
    };
    let (_m, mut rx) = start(&fake, routed);
    let mut seen = Vec::new();
    for _ in 0..2 {
        seen.push(format!("{:?}", next(&mut rx).await));
    }
    assert!(
        seen.contains(&"Route { present: true }".to_string()),
        "{seen:?}"
    );
    fake.set_route(vip4(), false);
    assert!(matches!(
        next(&mut rx).await,
        VipReport::Route { present: false }
    ));
    // A notice that changes nothing is not reported; another address's route is not watched.
    fake.set_route(vip4(), false);
    fake.set_route("10.0.0.7".parse().unwrap(), true);
    tokio::time::sleep(MS).await;
    assert_no_report(&mut rx);
    fake.set_route(vip4(), true);
    assert!(matches!(
        next(&mut rx).await,
        VipReport::Route { present: true }
    ));
}
