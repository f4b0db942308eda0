//! An in-memory [`VipBackend`] for tests: it keeps addresses per interface, notifies watchers
//! like the kernel would, records every call with the (tokio) time it was made, and can be
//! told to fail the next operation of a kind with a given errno.

use crate::backend::{
    AddrEntry, ArpWatch, Change, Lifetime, LinkInfo, NetEvent, NetWatch, RouteWatch, VipAddr,
    VipBackend,
};
use crate::error::{Capability, VipError};
use crate::frames::ArpForm;
use crate::frames::Mac;
use std::collections::{BTreeMap, VecDeque};
use std::io;
use std::net::IpAddr;
use std::sync::{Mutex, MutexGuard};
use tokio::sync::mpsc::{self, UnboundedSender};
use tokio::time::Instant;

/// A call made on the [`FakeBackend`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    /// `add` with this lifetime.
    Add(VipAddr, Lifetime),
    /// `renew` with this lifetime.
    Renew(VipAddr, Lifetime),
    /// `remove`.
    Remove(VipAddr),
    /// `list` of this interface.
    List(String),
    /// `announce` in this form.
    Announce(VipAddr, ArpForm),
    /// `watch`.
    Watch,
}

/// The kind of operation [`FakeBackend::fail_next`] applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `add`.
    Add,
    /// `renew`.
    Renew,
    /// `remove`.
    Remove,
    /// `list`.
    List,
    /// `announce`.
    Announce,
}

#[derive(Default)]
struct State {
    links: BTreeMap<String, LinkInfo>,
    addrs: BTreeMap<String, Vec<AddrEntry>>,
    calls: Vec<(Instant, Call)>,
    watchers: Vec<UnboundedSender<NetEvent>>,
    arp_watchers: Vec<(IpAddr, UnboundedSender<Mac>)>,
    /// Destinations with a route from another node (see [`FakeBackend::set_route`]).
    routes: Vec<IpAddr>,
    route_watchers: Vec<(IpAddr, UnboundedSender<()>)>,
    failures: VecDeque<(Op, i32)>,
}

/// See the module documentation.
#[derive(Default)]
pub struct FakeBackend {
    state: Mutex<State>,
}

impl FakeBackend {
    /// A backend with no interfaces.
    pub fn new() -> FakeBackend {
        FakeBackend::default()
    }

    /// Adds an up, ARP-capable interface.
    pub fn with_interface(self, name: &str, index: u32, mac: [u8; 6]) -> FakeBackend {
        self.lock().links.insert(
            name.to_string(),
            LinkInfo {
                index,
                mac: Some(mac),
                arp: true,
                up: true,
            },
        );
        self
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Every call so far, with the time it was made.
    pub fn calls(&self) -> Vec<(Instant, Call)> {
        self.lock().calls.clone()
    }

    /// The times of the announcements made so far, in order.
    pub fn announce_times(&self) -> Vec<Instant> {
        self.lock()
            .calls
            .iter()
            .filter(|(_, c)| matches!(c, Call::Announce(..)))
            .map(|(t, _)| *t)
            .collect()
    }

    /// Whether `addr` is on `interface`.
    pub fn has(&self, interface: &str, addr: IpAddr) -> bool {
        self.lock()
            .addrs
            .get(interface)
            .is_some_and(|v| v.iter().any(|e| e.addr == addr))
    }

    /// The valid lifetime `addr` on `interface` was last given (by `add` or `renew`), if it is
    /// there.
    pub fn lifetime(&self, interface: &str, addr: IpAddr) -> Option<Lifetime> {
        self.lock()
            .addrs
            .get(interface)?
            .iter()
            .find(|e| e.addr == addr)
            .map(|e| e.valid)
    }

    /// An ARP message from `mac` claiming `addr` is seen on the segment (delivered to the ARP
    /// watches of `addr`).
    pub fn arp_from(&self, mac: Mac, addr: IpAddr) {
        self.lock()
            .arp_watchers
            .retain(|(a, tx)| *a != addr || tx.send(mac).is_ok());
    }

    /// A routing daemon installs (`present`) or withdraws a route to `addr` learned from another
    /// node (signalled to the route watches of `addr`).
    pub fn set_route(&self, addr: IpAddr, present: bool) {
        let mut s = self.lock();
        s.routes.retain(|a| *a != addr);
        if present {
            s.routes.push(addr);
        }
        s.route_watchers
            .retain(|(a, tx)| *a != addr || tx.send(()).is_ok());
    }

    /// Makes the next operation of kind `op` fail with `errno`.
    pub fn fail_next(&self, op: Op, errno: i32) {
        self.lock().failures.push_back((op, errno));
    }

    /// Adds an address as someone else would (not recorded as a call; watchers notified).
    pub fn add_externally(&self, interface: &str, addr: IpAddr, prefix: u8) {
        self.add_externally_for(interface, addr, prefix, Lifetime::Forever);
    }

    /// Like [`FakeBackend::add_externally`], with a kernel lifetime (as a predecessor that
    /// held the address under a lease leaves it).
    pub fn add_externally_for(&self, interface: &str, addr: IpAddr, prefix: u8, valid: Lifetime) {
        let mut s = self.lock();
        insert(&mut s, interface, addr, prefix, valid);
    }

    /// Changes an interface's carrier (watchers get a [`NetEvent::Link`]).
    pub fn set_carrier(&self, interface: &str, up: bool) {
        let mut s = self.lock();
        let Some(link) = s.links.get_mut(interface) else {
            return;
        };
        link.up = up;
        let index = link.index;
        notify(&mut s, NetEvent::Link { index, carrier: up });
    }

    /// Removes an address as someone else would (`ip addr del`; watchers notified).
    pub fn remove_externally(&self, interface: &str, addr: IpAddr) {
        let mut s = self.lock();
        delete(&mut s, interface, addr);
    }

    fn begin(&self, call: Call, op: Option<Op>) -> Result<MutexGuard<'_, State>, io::Error> {
        let mut s = self.lock();
        s.calls.push((Instant::now(), call));
        if let Some(op) = op {
            if let Some(pos) = s.failures.iter().position(|(o, _)| *o == op) {
                let (_, errno) = s.failures.remove(pos).unwrap_or((op, libc::EIO));
                return Err(io::Error::from_raw_os_error(errno));
            }
        }
        Ok(s)
    }
}

fn index_of(s: &State, interface: &str) -> u32 {
    s.links.get(interface).map_or(0, |l| l.index)
}

fn notify(s: &mut State, event: NetEvent) {
    s.watchers.retain(|w| w.send(event.clone()).is_ok());
}

fn insert(s: &mut State, interface: &str, addr: IpAddr, prefix: u8, valid: Lifetime) -> Change {
    let index = index_of(s, interface);
    let list = s.addrs.entry(interface.to_string()).or_default();
    if list.iter().any(|e| e.addr == addr) {
        return Change::Unchanged;
    }
    list.push(AddrEntry {
        addr,
        prefix,
        label: None,
        protocol: None,
        valid,
    });
    notify(
        s,
        NetEvent::Added {
            index,
            addr,
            prefix,
        },
    );
    Change::Applied
}

fn delete(s: &mut State, interface: &str, addr: IpAddr) -> Change {
    let index = index_of(s, interface);
    let Some(list) = s.addrs.get_mut(interface) else {
        return Change::Unchanged;
    };
    let Some(pos) = list.iter().position(|e| e.addr == addr) else {
        return Change::Unchanged;
    };
    let prefix = list.remove(pos).prefix;
    notify(
        s,
        NetEvent::Removed {
            index,
            addr,
            prefix,
        },
    );
    Change::Applied
}

fn no_interface(s: &State, interface: &str) -> Result<(), VipError> {
    if s.links.contains_key(interface) {
        Ok(())
    } else {
        Err(VipError::NoSuchInterface(interface.to_string()))
    }
}

impl VipBackend for FakeBackend {
    fn link(&self, interface: &str) -> Result<LinkInfo, VipError> {
        let s = self.lock();
        s.links
            .get(interface)
            .cloned()
            .ok_or_else(|| VipError::NoSuchInterface(interface.to_string()))
    }

    fn add(&self, vip: &VipAddr, lifetime: Lifetime) -> Result<Change, VipError> {
        let mut s = self
            .begin(Call::Add(vip.clone(), lifetime), Some(Op::Add))
            .map_err(|e| {
                VipError::from_os(
                    format!("add {vip}"),
                    Capability::NetAdmin,
                    &vip.interface,
                    e,
                )
            })?;
        no_interface(&s, &vip.interface)?;
        Ok(insert(
            &mut s,
            &vip.interface,
            vip.addr,
            vip.prefix,
            lifetime,
        ))
    }

    fn renew(&self, vip: &VipAddr, lifetime: Lifetime) -> Result<(), VipError> {
        let mut s = self
            .begin(Call::Renew(vip.clone(), lifetime), Some(Op::Renew))
            .map_err(|e| {
                VipError::from_os(
                    format!("renew {vip}"),
                    Capability::NetAdmin,
                    &vip.interface,
                    e,
                )
            })?;
        no_interface(&s, &vip.interface)?;
        let index = index_of(&s, &vip.interface);
        let existing = s
            .addrs
            .get_mut(&vip.interface)
            .and_then(|list| list.iter_mut().find(|e| e.addr == vip.addr));
        match existing {
            Some(entry) => entry.valid = lifetime,
            None => {
                insert(&mut s, &vip.interface, vip.addr, vip.prefix, lifetime);
                return Ok(());
            }
        }
        // The kernel reports a changed address as RTM_NEWADDR.
        notify(
            &mut s,
            NetEvent::Added {
                index,
                addr: vip.addr,
                prefix: vip.prefix,
            },
        );
        Ok(())
    }

    fn remove(&self, vip: &VipAddr) -> Result<Change, VipError> {
        let mut s = self
            .begin(Call::Remove(vip.clone()), Some(Op::Remove))
            .map_err(|e| {
                VipError::from_os(
                    format!("remove {vip}"),
                    Capability::NetAdmin,
                    &vip.interface,
                    e,
                )
            })?;
        Ok(delete(&mut s, &vip.interface, vip.addr))
    }

    fn list(&self, interface: &str) -> Result<Vec<AddrEntry>, VipError> {
        let s = self
            .begin(Call::List(interface.to_string()), Some(Op::List))
            .map_err(|e| {
                VipError::from_os(
                    format!("list addresses of {interface}"),
                    Capability::NetAdmin,
                    interface,
                    e,
                )
            })?;
        no_interface(&s, interface)?;
        Ok(s.addrs.get(interface).cloned().unwrap_or_default())
    }

    fn announce(&self, vip: &VipAddr, form: ArpForm) -> Result<(), VipError> {
        let s = self
            .begin(Call::Announce(vip.clone(), form), Some(Op::Announce))
            .map_err(|e| {
                VipError::from_os(
                    format!("announce {vip}"),
                    Capability::NetRaw,
                    &vip.interface,
                    e,
                )
            })?;
        no_interface(&s, &vip.interface)
    }

    fn watch_arp(&self, vip: &VipAddr) -> Result<Option<ArpWatch>, VipError> {
        if !vip.addr.is_ipv4() {
            return Ok(None);
        }
        let (tx, rx) = mpsc::unbounded_channel();
        self.lock().arp_watchers.push((vip.addr, tx));
        Ok(Some(rx))
    }

    fn announced_elsewhere(&self, vip: &VipAddr) -> Result<bool, VipError> {
        Ok(self.lock().routes.contains(&vip.addr))
    }

    fn watch_route(&self, vip: &VipAddr) -> Result<RouteWatch, VipError> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.lock().route_watchers.push((vip.addr, tx));
        Ok(rx)
    }

    fn watch(&self) -> Result<NetWatch, VipError> {
        let mut s = self.lock();
        s.calls.push((Instant::now(), Call::Watch));
        let (tx, rx) = mpsc::unbounded_channel();
        s.watchers.push(tx);
        Ok(rx)
    }
}
