//! The real VIP backend (netlink + AF_PACKET) and VipManager inside network namespaces the
//! test creates. Skipped, with a message, when not root or `ip netns` is unavailable.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::mpsc as std_mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use warden_integration::netns::{self, TestBed, NODE_IFACE};
use warden_integration::wait::wait_until;
use warden_vip::frames::ArpForm;
use warden_vip::{
    Capability, Change, Lifetime, LinuxBackend, VipAddr, VipBackend, VipError, VipManager,
    VipReport, VipSettings, WARDEN_ADDR_PROTO,
};

/// A MAC no node has; neighbour entries are first pointed at it.
const BOGUS_MAC: &str = "02:de:ad:be:ef:01";
const DEADLINE: Duration = Duration::from_secs(5);

macro_rules! skip_without_netns {
    () => {
        if let Some(why) = netns::unavailable() {
            eprintln!("skipping: {why}");
            return;
        }
    };
}

/// A unique-enough IPv6 VIP inside the ULA range (the namespaces are private anyway).
fn vip6(n: u16) -> Ipv6Addr {
    Ipv6Addr::new(0xfd00, 0x57, 0, 0, 0, 0, 0, 0x100 + n)
}

/// Runs `f` with a fresh LinuxBackend opened inside node `i`, propagating panics.
fn with_backend<T, F>(bed: &TestBed, i: usize, f: F) -> T
where
    T: Send + 'static,
    F: FnOnce(LinuxBackend) -> T + Send + 'static,
{
    bed.spawn_in(i, move || f(LinuxBackend::new().expect("open the backend")))
        .join()
        .expect("backend thread panicked")
        .expect("enter the namespace")
}

/// `ip addr show dev eth0` of node `i`.
fn addr_show(bed: &TestBed, i: usize) -> String {
    bed.ip(i, &["addr", "show", "dev", NODE_IFACE])
        .expect("ip addr show")
}

/// Points node `i`'s neighbour entry for `ip` at [`BOGUS_MAC`].
fn poison_neighbour(bed: &TestBed, i: usize, ip: &str) {
    bed.ip(
        i,
        &[
            "neigh", "replace", ip, "lladdr", BOGUS_MAC, "dev", NODE_IFACE, "nud", "stale",
        ],
    )
    .expect("ip neigh replace");
    let n = bed.neighbour(i, ip).unwrap().expect("entry just added");
    assert_eq!(n.mac.as_deref(), Some(BOGUS_MAC));
}

/// Waits until node `i` maps `ip` to `mac`.
fn wait_neighbour(bed: &TestBed, i: usize, ip: &str, mac: &str) {
    wait_until(
        DEADLINE,
        &format!("node {i} to map {ip} to {mac}"),
        || match bed.neighbour(i, ip) {
            Ok(Some(n)) if n.mac.as_deref() == Some(mac) => Ok(()),
            other => Err(format!("{other:?}")),
        },
    )
    .unwrap();
}

#[test]
fn add_list_remove_in_a_namespace() {
    skip_without_netns!();
    let bed = TestBed::new(1).unwrap();
    let v4 = bed.spare_addr(0);
    with_backend(&bed, 0, move |b| {
        let vip = VipAddr::new(v4.into(), 32, NODE_IFACE).unwrap();
        assert_eq!(b.add(&vip, Lifetime::Forever).unwrap(), Change::Applied);
        assert_eq!(b.add(&vip, Lifetime::Forever).unwrap(), Change::Unchanged);
        let entry = b
            .list(NODE_IFACE)
            .unwrap()
            .into_iter()
            .find(|e| e.addr == vip.addr)
            .expect("listed");
        assert_eq!(entry.prefix, 32);
        assert_eq!(entry.label.as_deref(), Some("eth0:warden"));
        assert_eq!(
            entry.protocol,
            Some(WARDEN_ADDR_PROTO),
            "kernel >= 5.18 keeps IFA_PROTO"
        );

        let six = VipAddr::new(vip6(1).into(), 128, NODE_IFACE).unwrap();
        assert_eq!(b.add(&six, Lifetime::Forever).unwrap(), Change::Applied);
        assert!(b
            .list(NODE_IFACE)
            .unwrap()
            .iter()
            .any(|e| e.addr == six.addr && e.prefix == 128));
    });
    let shown = addr_show(&bed, 0);
    assert!(
        shown.contains(&format!("inet {v4}/32 scope global eth0:warden")),
        "{shown}"
    );
    let v6_line = shown
        .lines()
        .find(|l| l.contains(&vip6(1).to_string()))
        .expect("IPv6 VIP shown");
    assert!(v6_line.contains("nodad"), "{v6_line}");
    assert!(
        v6_line.contains("deprecated"),
        "a /128 VIP is never a preferred source: {v6_line}"
    );
    assert!(!v6_line.contains("tentative"), "{v6_line}");

    with_backend(&bed, 0, move |b| {
        for (addr, prefix) in [(IpAddr::from(v4), 32), (vip6(1).into(), 128)] {
            let vip = VipAddr::new(addr, prefix, NODE_IFACE).unwrap();
            assert_eq!(b.remove(&vip).unwrap(), Change::Applied);
            assert_eq!(b.remove(&vip).unwrap(), Change::Unchanged);
        }
        assert!(matches!(
            b.list("nosuch0"),
            Err(VipError::NoSuchInterface(_))
        ));
        let gone = VipAddr::new(v4.into(), 32, "nosuch0").unwrap();
        assert_eq!(b.remove(&gone).unwrap(), Change::Unchanged);
        assert!(matches!(
            b.add(&gone, Lifetime::Forever),
            Err(VipError::NoSuchInterface(_))
        ));
    });
    let shown = addr_show(&bed, 0);
    assert!(
        !shown.contains(&v4.to_string()) && !shown.contains(&vip6(1).to_string()),
        "{shown}"
    );
}

#[test]
fn gratuitous_arp_overrides_a_neighbour_entry() {
    skip_without_netns!();
    let bed = TestBed::new(2).unwrap();
    let (request_vip, reply_vip) = (bed.spare_addr(1), bed.spare_addr(2));
    for vip in [request_vip, reply_vip] {
        poison_neighbour(&bed, 1, &vip.to_string());
    }
    with_backend(&bed, 0, move |b| {
        for (addr, form) in [(request_vip, ArpForm::Request), (reply_vip, ArpForm::Reply)] {
            let vip = VipAddr::new(addr.into(), 32, NODE_IFACE).unwrap();
            b.add(&vip, Lifetime::Forever).unwrap();
            b.announce(&vip, form).unwrap();
        }
    });
    let a_mac = bed.node(0).mac.clone();
    wait_neighbour(&bed, 1, &request_vip.to_string(), &a_mac);
    wait_neighbour(&bed, 1, &reply_vip.to_string(), &a_mac);
}

#[test]
fn unsolicited_na_overrides_an_ipv6_neighbour_entry() {
    skip_without_netns!();
    let bed = TestBed::new(2).unwrap();
    let vip = vip6(2);
    poison_neighbour(&bed, 1, &vip.to_string());
    with_backend(&bed, 0, move |b| {
        let v = VipAddr::new(vip.into(), 128, NODE_IFACE).unwrap();
        b.add(&v, Lifetime::Forever).unwrap();
        b.announce(&v, ArpForm::Request).unwrap();
    });
    wait_neighbour(&bed, 1, &vip.to_string(), &bed.node(0).mac.clone());
}

/// A VipManager running on a thread inside node `i`; reports arrive with their time.
struct ManagedVip {
    reports: std_mpsc::Receiver<(Instant, VipReport)>,
    control: tokio::sync::mpsc::UnboundedSender<bool>,
    thread: std::thread::JoinHandle<std::io::Result<()>>,
}

impl ManagedVip {
    fn start(bed: &TestBed, i: usize, addr: Ipv4Addr) -> ManagedVip {
        let (report_tx, reports) = std_mpsc::channel();
        let (control, mut control_rx) = tokio::sync::mpsc::unbounded_channel::<bool>();
        let settings = VipSettings {
            vip: VipAddr::new(addr.into(), 32, NODE_IFACE).unwrap(),
            garp_count: 1,
            garp_interval: Duration::from_millis(20),
            garp_repeat_delay: Duration::ZERO,
            garp_refresh: Duration::ZERO,
            reply_form: false,
            routed: false,
        };
        let thread = bed.spawn_in(i, move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let backend = Arc::new(LinuxBackend::new().unwrap());
                let manager = VipManager::start(backend, settings, move |r| {
                    let _ = report_tx.send((Instant::now(), r));
                })
                .unwrap();
                // true = claim, false = release; the channel closing = shut down.
                while let Some(claim) = control_rx.recv().await {
                    if claim {
                        manager.claim(None)
                    } else {
                        manager.release()
                    }
                }
                manager.shutdown().await;
            })
        });
        ManagedVip {
            reports,
            control,
            thread,
        }
    }

    /// The next report other than an announcement (those only feed the metrics).
    fn next(&self) -> (Instant, VipReport) {
        loop {
            let (at, report) = self
                .reports
                .recv_timeout(DEADLINE)
                .expect("a report from the manager");
            if !matches!(report, VipReport::Announced { .. }) {
                return (at, report);
            }
        }
    }

    fn expect_observed(&self, present: bool) {
        match self.next().1 {
            VipReport::Observed { present: p } => assert_eq!(p, present),
            other => panic!("expected Observed {{ present: {present} }}, got {other:?}"),
        }
    }

    fn stop(self) {
        drop(self.control);
        self.thread
            .join()
            .expect("manager thread panicked")
            .expect("enter the namespace");
    }
}

#[test]
fn manager_repairs_a_deletion_and_reannounces() {
    skip_without_netns!();
    let bed = TestBed::new(2).unwrap();
    let vip = bed.spare_addr(3);
    let vip_s = vip.to_string();
    let a_mac = bed.node(0).mac.clone();
    poison_neighbour(&bed, 1, &vip_s);

    let m = ManagedVip::start(&bed, 0, vip);
    m.expect_observed(false);
    m.control.send(true).unwrap();
    m.expect_observed(true);
    wait_neighbour(&bed, 1, &vip_s, &a_mac);

    // The claim burst (one frame) is over; poison again, then delete behind the manager's back.
    poison_neighbour(&bed, 1, &vip_s);
    bed.ip(0, &["addr", "del", &format!("{vip}/32"), "dev", NODE_IFACE])
        .unwrap();
    let deleted = Instant::now();
    let (at, report) = m.next();
    assert!(matches!(report, VipReport::Reasserted), "{report:?}");
    let latency = at.saturating_duration_since(deleted);
    eprintln!("re-added {latency:?} after `ip addr del` returned");
    assert!(
        latency < Duration::from_millis(100),
        "repair took {latency:?}"
    );
    assert!(addr_show(&bed, 0).contains(&format!("inet {vip}/32")));
    wait_neighbour(&bed, 1, &vip_s, &a_mac);

    m.control.send(false).unwrap();
    m.expect_observed(false);
    assert!(!addr_show(&bed, 0).contains(&vip_s));
    m.stop();
}

#[test]
fn manager_reannounces_when_the_carrier_returns() {
    skip_without_netns!();
    let bed = TestBed::new(2).unwrap();
    let vip = bed.spare_addr(6);
    let vip_s = vip.to_string();
    let a_mac = bed.node(0).mac.clone();
    poison_neighbour(&bed, 1, &vip_s);
    let m = ManagedVip::start(&bed, 0, vip);
    m.expect_observed(false);
    m.control.send(true).unwrap();
    m.expect_observed(true);
    wait_neighbour(&bed, 1, &vip_s, &a_mac);

    // Cut node 0's cable, let B's entry go wrong meanwhile, plug it back in.
    bed.link_down(0).unwrap();
    poison_neighbour(&bed, 1, &vip_s);
    bed.link_up(0).unwrap();
    wait_neighbour(&bed, 1, &vip_s, &a_mac);
    assert!(addr_show(&bed, 0).contains(&format!("inet {vip}/32")));
    m.stop();
}

#[test]
fn manager_removes_stale_and_stray_copies_and_releases_on_shutdown() {
    skip_without_netns!();
    let bed = TestBed::new(1).unwrap();
    let vip = bed.spare_addr(4);
    let with_prefix = format!("{vip}/24");
    // A copy left by a crash, with the subnet prefix of a hand-made VIP.
    bed.ip(0, &["addr", "add", &with_prefix, "dev", NODE_IFACE])
        .unwrap();

    let m = ManagedVip::start(&bed, 0, vip);
    assert!(matches!(m.next().1, VipReport::RemovedStray));
    m.expect_observed(false);
    assert!(!addr_show(&bed, 0).contains(&with_prefix));

    // Someone adds it while this node must not hold it.
    bed.ip(0, &["addr", "add", &with_prefix, "dev", NODE_IFACE])
        .unwrap();
    assert!(matches!(m.next().1, VipReport::RemovedStray));
    assert!(!addr_show(&bed, 0).contains(&with_prefix));

    m.control.send(true).unwrap();
    m.expect_observed(true);
    assert!(addr_show(&bed, 0).contains(&format!("inet {vip}/32")));
    m.stop();
    assert!(
        !addr_show(&bed, 0).contains(&vip.to_string()),
        "shutdown removes the VIP"
    );
}

/// Removes `capability` from the calling thread's effective set (capabilities are per thread).
fn drop_effective(capability: Capability) {
    #[repr(C)]
    struct Header {
        version: u32,
        pid: i32,
    }
    #[repr(C)]
    #[derive(Clone, Copy, Default)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    const VERSION_3: u32 = 0x2008_0522;
    let bit = match capability {
        Capability::NetAdmin => 12,
        Capability::NetRaw => 13,
    };
    let mut header = Header {
        version: VERSION_3,
        pid: 0,
    };
    let mut data = [Data::default(); 2];
    // SAFETY: capget/capset with a v3 header and two data slots, as capabilities(7) specifies;
    // pid 0 = the calling thread.
    unsafe {
        assert_eq!(
            libc::syscall(
                libc::SYS_capget,
                &mut header as *mut Header,
                data.as_mut_ptr()
            ),
            0
        );
        data[0].effective &= !(1u32 << bit);
        assert_eq!(
            libc::syscall(libc::SYS_capset, &mut header as *mut Header, data.as_ptr()),
            0
        );
    }
}

#[test]
fn missing_capabilities_are_named() {
    skip_without_netns!();
    let bed = TestBed::new(1).unwrap();
    let no_raw = bed.spawn_in(0, || {
        drop_effective(Capability::NetRaw);
        let preflight = warden_vip::check_capabilities().unwrap_err().to_string();
        let open = LinuxBackend::new()
            .err()
            .expect("AF_PACKET must be refused");
        (preflight, open)
    });
    let (preflight, open) = no_raw.join().unwrap().unwrap();
    assert!(
        preflight.contains("missing capability CAP_NET_RAW ("),
        "{preflight}"
    );
    match open {
        VipError::MissingCapabilities { missing, .. } => {
            assert_eq!(missing, vec![Capability::NetRaw])
        }
        other => panic!("{other}"),
    }

    let vip = bed.spare_addr(5);
    let no_admin = bed.spawn_in(0, move || {
        drop_effective(Capability::NetAdmin);
        let backend = LinuxBackend::new().expect("CAP_NET_RAW is still there");
        backend
            .add(
                &VipAddr::new(vip.into(), 32, NODE_IFACE).unwrap(),
                Lifetime::Forever,
            )
            .unwrap_err()
    });
    let err = no_admin.join().unwrap().unwrap();
    assert!(err.is_permission(), "{err}");
    assert!(
        err.to_string().contains("missing capability CAP_NET_ADMIN"),
        "{err}"
    );
    assert!(!addr_show(&bed, 0).contains(&vip.to_string()));
}

#[test]
fn bed_partitions_and_cleans_up() {
    skip_without_netns!();
    let names: Vec<String>;
    {
        let bed = TestBed::new(2).unwrap();
        names = (0..2).map(|i| bed.node(i).namespace.clone()).collect();
        let b = bed.node(1).addr.to_string();
        // iputils arping (ping is not among the bed's tools): exit 0 on a reply.
        let ping = |bed: &TestBed| {
            bed.exec(0, "arping", &["-c", "1", "-w", "1", "-I", NODE_IFACE, &b])
                .is_ok()
        };
        wait_until(DEADLINE, "node 0 to reach node 1", || {
            if ping(&bed) {
                Ok(())
            } else {
                Err("no reply".into())
            }
        })
        .unwrap();
        bed.link_down(1).unwrap();
        assert!(!ping(&bed), "a cut link must not answer");
        bed.link_up(1).unwrap();
        wait_until(DEADLINE, "node 1 to be reachable again", || {
            if ping(&bed) {
                Ok(())
            } else {
                Err("no reply".into())
            }
        })
        .unwrap();
    }
    let list = std::process::Command::new("ip")
        .args(["netns", "list"])
        .output()
        .unwrap();
    let list = String::from_utf8_lossy(&list.stdout);
    for name in names {
        assert!(!list.contains(&name), "{name} left behind");
    }
}

/// Issue 13: an address added with a lifetime shows it (`valid_lft`), a renewal replaces it, and
/// the kernel removes the address by itself when it runs out, with no process involved.
#[test]
fn the_kernel_enforces_an_address_lifetime() {
    skip_without_netns!();
    let bed = TestBed::new(1).unwrap();
    let v4 = bed.spare_addr(0);
    let lifetime_of = move |b: &LinuxBackend| {
        b.list(NODE_IFACE)
            .unwrap()
            .into_iter()
            .find(|e| e.addr == IpAddr::from(v4))
            .map(|e| e.valid)
    };
    with_backend(&bed, 0, move |b| {
        let vip = VipAddr::new(v4.into(), 32, NODE_IFACE).unwrap();
        assert_eq!(b.add(&vip, Lifetime::Seconds(30)).unwrap(), Change::Applied);
        assert!(
            matches!(lifetime_of(&b), Some(Lifetime::Seconds(29..=30))),
            "{:?}",
            lifetime_of(&b)
        );
        b.renew(&vip, Lifetime::Forever).unwrap();
        assert_eq!(lifetime_of(&b), Some(Lifetime::Forever));
        b.renew(&vip, Lifetime::Seconds(60)).unwrap();
        assert!(matches!(lifetime_of(&b), Some(Lifetime::Seconds(59..=60))));
    });
    let shown = addr_show(&bed, 0);
    assert!(
        shown.contains("valid_lft 60sec") || shown.contains("valid_lft 59sec"),
        "{shown}"
    );
    let renewed = Instant::now();
    with_backend(&bed, 0, move |b| {
        let vip = VipAddr::new(v4.into(), 32, NODE_IFACE).unwrap();
        b.renew(&vip, Lifetime::Seconds(1)).unwrap();
    });
    // One second, plus the kernel's expiry check (at most 1 s), plus room for this machine.
    wait_until(
        Duration::from_secs(3),
        "the kernel to drop the address",
        || match addr_show(&bed, 0).contains(&v4.to_string()) {
            false => Ok(()),
            true => Err("still there".to_string()),
        },
    )
    .unwrap();
    let gone = renewed.elapsed();
    println!(
        "measured: a 1 s lifetime ran out after {} ms",
        gone.as_millis()
    );
    assert!(gone >= Duration::from_millis(900), "gone after {gone:?}");
}
