//! The real backend: rtnetlink for addresses, AF_PACKET for announcements.

mod arpwatch;
mod netlink;
mod packet;
mod watch;

pub use watch::decode as decode_notices;

use crate::backend::{
    AddrEntry, ArpWatch, Change, Lifetime, LinkInfo, NetWatch, RouteWatch, VipAddr, VipBackend,
    WARDEN_ADDR_PROTO,
};
use crate::error::{Capability, VipError};
use crate::frames::{self, ArpForm};
use netlink::{RequestError, RouteSocket};
use netlink_packet_core::{NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_REPLACE};
use netlink_packet_route::address::{
    AddressAttribute, AddressFlags, AddressHeaderFlags, AddressMessage, AddressProtocol,
    AddressScope, CacheInfo,
};
use netlink_packet_route::link::{LinkAttribute, LinkFlags, LinkMessage};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteFlags, RouteHeader, RouteMessage, RouteProtocol, RouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use packet::PacketSender;
use std::io;
use std::net::IpAddr;
use std::sync::Mutex;

/// `valid_lft`/`preferred_lft` meaning "forever".
const INFINITY_LIFE_TIME: u32 = u32::MAX;

/// The Linux implementation of [`VipBackend`].
///
/// Its sockets belong to the network namespace of the thread that calls [`LinuxBackend::new`]
/// (and, for the watch, [`VipBackend::watch`]); tests use that to drive a namespace from a
/// thread that entered it with `setns`.
pub struct LinuxBackend {
    route: Mutex<RouteSocket>,
    packet: PacketSender,
}

impl LinuxBackend {
    /// Opens the netlink and AF_PACKET sockets. Fails with
    /// [`VipError::MissingCapabilities`] naming CAP_NET_RAW when the packet socket is refused
    /// (CAP_NET_ADMIN is only exercised by the first add/remove; use
    /// [`crate::check_capabilities`] for an up-front check of both).
    pub fn new() -> Result<LinuxBackend, VipError> {
        let route = RouteSocket::open().map_err(|e| VipError::Kernel {
            operation: "open a netlink route socket".into(),
            source: e,
        })?;
        let packet = PacketSender::open().map_err(|e| {
            VipError::from_os(
                "open an AF_PACKET socket for gratuitous ARP".into(),
                Capability::NetRaw,
                "",
                e,
            )
        })?;
        Ok(LinuxBackend {
            route: Mutex::new(route),
            packet,
        })
    }

    fn request(
        &self,
        message: RouteNetlinkMessage,
        flags: u16,
    ) -> Result<Vec<RouteNetlinkMessage>, RequestError> {
        // A poisoned lock only means another thread panicked mid-request; the socket is
        // still usable because every request reads until its own sequence number.
        let mut route = self.route.lock().unwrap_or_else(|p| p.into_inner());
        route.request(message, flags)
    }

    fn address_message(vip: &VipAddr, index: u32) -> AddressMessage {
        let mut msg = AddressMessage::default();
        msg.header.family = match vip.addr {
            IpAddr::V4(_) => AddressFamily::Inet,
            IpAddr::V6(_) => AddressFamily::Inet6,
        };
        msg.header.prefix_len = vip.prefix;
        msg.header.scope = AddressScope::Universe;
        msg.header.index = index;
        msg.attributes.push(AddressAttribute::Local(vip.addr));
        msg.attributes.push(AddressAttribute::Address(vip.addr));
        msg
    }

    fn add_message(
        vip: &VipAddr,
        index: u32,
        with_proto: bool,
        lifetime: Lifetime,
    ) -> AddressMessage {
        let mut msg = Self::address_message(vip, index);
        if let Some(label) = vip.label() {
            msg.attributes.push(AddressAttribute::Label(label));
        }
        let valid = match lifetime {
            Lifetime::Forever => INFINITY_LIFE_TIME,
            Lifetime::Seconds(s) => s.max(1),
        };
        let mut lifetimes = CacheInfo::default();
        lifetimes.ifa_valid = valid;
        lifetimes.ifa_preferred = valid;
        if vip.addr.is_ipv6() {
            // No duplicate address detection: usable at once, and a transient L2 split cannot
            // leave the VIP "dadfailed".
            msg.header.flags = AddressHeaderFlags::Nodad;
            msg.attributes
                .push(AddressAttribute::Flags(AddressFlags::Nodad));
            if vip.prefix == 128 {
                // Preferred lifetime 0 = deprecated: never picked as a source address for the
                // host's own outgoing connections (keepalived's default for /128).
                lifetimes.ifa_preferred = 0;
            }
        }
        msg.attributes.push(AddressAttribute::CacheInfo(lifetimes));
        if with_proto {
            msg.attributes
                .push(AddressAttribute::Protocol(AddressProtocol::Other(
                    WARDEN_ADDR_PROTO,
                )));
        }
        msg
    }

    /// `RTM_NEWADDR` for `vip` with `flags`, tagged with [`WARDEN_ADDR_PROTO`] where the
    /// kernel knows `IFA_PROTO`.
    fn new_address(
        &self,
        vip: &VipAddr,
        lifetime: Lifetime,
        flags: u16,
    ) -> Result<Vec<RouteNetlinkMessage>, RequestError> {
        let link = self.link(&vip.interface).map_err(|e| match e {
            VipError::NoSuchInterface(_) => {
                RequestError::Kernel(io::Error::from_raw_os_error(libc::ENODEV))
            }
            other => RequestError::Protocol(other.to_string()),
        })?;
        let message = |with_proto| {
            RouteNetlinkMessage::NewAddress(Self::add_message(
                vip, link.index, with_proto, lifetime,
            ))
        };
        match self.request(message(true), flags) {
            // Kernels that validate attributes strictly and predate IFA_PROTO: retry untagged.
            Err(e) if matches!(errno(&e), Some(libc::EINVAL) | Some(libc::EOPNOTSUPP)) => {
                self.request(message(false), flags)
            }
            other => other,
        }
    }
}

/// The address an address message is about: `IFA_LOCAL` when present (IPv4), else
/// `IFA_ADDRESS` (IPv6).
pub(crate) fn address_of(msg: &AddressMessage) -> Option<IpAddr> {
    let mut address = None;
    for attr in &msg.attributes {
        match attr {
            AddressAttribute::Local(a) => return Some(*a),
            AddressAttribute::Address(a) => address = Some(*a),
            _ => {}
        }
    }
    address
}

/// The destination prefix of a route notice or answer (`None` without a destination: a
/// default route).
pub(crate) fn route_destination(msg: &RouteMessage) -> Option<(IpAddr, u8)> {
    msg.attributes.iter().find_map(|attr| match attr {
        RouteAttribute::Destination(RouteAddress::Inet(a)) => {
            Some((IpAddr::V4(*a), msg.header.destination_prefix_length))
        }
        RouteAttribute::Destination(RouteAddress::Inet6(a)) => {
            Some((IpAddr::V6(*a), msg.header.destination_prefix_length))
        }
        _ => None,
    })
}

/// Whether the FIB entry `answer` (of a `RTM_F_FIB_MATCH` lookup of `vip`) is a route to exactly
/// the VIP's prefix in the main table that the kernel did not make itself: one a routing daemon
/// (or an administrator) installed.
fn is_foreign_route(answer: &RouteMessage, vip: &VipAddr) -> bool {
    let table = answer
        .attributes
        .iter()
        .find_map(|attr| match attr {
            RouteAttribute::Table(t) => Some(*t),
            _ => None,
        })
        .unwrap_or(u32::from(answer.header.table));
    table == u32::from(RouteHeader::RT_TABLE_MAIN)
        && answer.header.kind == RouteType::Unicast
        && answer.header.protocol != RouteProtocol::Kernel
        && route_destination(answer) == Some((vip.addr, vip.prefix))
}

fn kernel(operation: String, needs: Capability, interface: &str, error: RequestError) -> VipError {
    match error {
        RequestError::Kernel(e) => VipError::from_os(operation, needs, interface, e),
        RequestError::Protocol(why) => VipError::Protocol(format!("{operation}: {why}")),
    }
}

fn errno(error: &RequestError) -> Option<i32> {
    match error {
        RequestError::Kernel(e) => e.raw_os_error(),
        RequestError::Protocol(_) => None,
    }
}

impl VipBackend for LinuxBackend {
    fn link(&self, interface: &str) -> Result<LinkInfo, VipError> {
        let mut msg = LinkMessage::default();
        msg.attributes
            .push(LinkAttribute::IfName(interface.to_string()));
        let answers = self
            .request(RouteNetlinkMessage::GetLink(msg), 0)
            .map_err(|e| {
                kernel(
                    format!("look up interface {interface}"),
                    Capability::NetAdmin,
                    interface,
                    e,
                )
            })?;
        let link = answers
            .into_iter()
            .find_map(|m| match m {
                RouteNetlinkMessage::NewLink(l) => Some(l),
                _ => None,
            })
            .ok_or_else(|| VipError::NoSuchInterface(interface.to_string()))?;
        let mac = link.attributes.iter().find_map(|a| match a {
            LinkAttribute::Address(bytes) => <[u8; 6]>::try_from(bytes.as_slice()).ok(),
            _ => None,
        });
        Ok(LinkInfo {
            index: link.header.index,
            mac,
            arp: !link.header.flags.contains(LinkFlags::Noarp),
            up: link.header.flags.contains(LinkFlags::Up),
        })
    }

    fn add(&self, vip: &VipAddr, lifetime: Lifetime) -> Result<Change, VipError> {
        self.link(&vip.interface)?;
        match self.new_address(vip, lifetime, NLM_F_CREATE | NLM_F_EXCL) {
            Ok(_) => Ok(Change::Applied),
            Err(e) if errno(&e) == Some(libc::EEXIST) => Ok(Change::Unchanged),
            Err(e) => Err(kernel(
                format!("add {vip}"),
                Capability::NetAdmin,
                &vip.interface,
                e,
            )),
        }
    }

    fn renew(&self, vip: &VipAddr, lifetime: Lifetime) -> Result<(), VipError> {
        self.link(&vip.interface)?;
        self.new_address(vip, lifetime, NLM_F_CREATE | NLM_F_REPLACE)
            .map(drop)
            .map_err(|e| {
                kernel(
                    format!("renew {vip}"),
                    Capability::NetAdmin,
                    &vip.interface,
                    e,
                )
            })
    }

    fn remove(&self, vip: &VipAddr) -> Result<Change, VipError> {
        let link = match self.link(&vip.interface) {
            Ok(link) => link,
            Err(VipError::NoSuchInterface(_)) => return Ok(Change::Unchanged),
            Err(e) => return Err(e),
        };
        let msg = Self::address_message(vip, link.index);
        match self.request(RouteNetlinkMessage::DelAddress(msg), 0) {
            Ok(_) => Ok(Change::Applied),
            Err(e) if matches!(errno(&e), Some(libc::EADDRNOTAVAIL) | Some(libc::ENODEV)) => {
                Ok(Change::Unchanged)
            }
            Err(e) => Err(kernel(
                format!("remove {vip}"),
                Capability::NetAdmin,
                &vip.interface,
                e,
            )),
        }
    }

    fn list(&self, interface: &str) -> Result<Vec<AddrEntry>, VipError> {
        let link = self.link(interface)?;
        let answers = self
            .request(
                RouteNetlinkMessage::GetAddress(AddressMessage::default()),
                NLM_F_DUMP,
            )
            .map_err(|e| {
                kernel(
                    format!("list addresses of {interface}"),
                    Capability::NetAdmin,
                    interface,
                    e,
                )
            })?;
        Ok(answers
            .into_iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewAddress(a) if a.header.index == link.index => Some(a),
                _ => None,
            })
            .filter_map(|a| {
                let addr = address_of(&a)?;
                let mut label = None;
                let mut protocol = None;
                let mut valid = Lifetime::Forever;
                for attr in &a.attributes {
                    match attr {
                        AddressAttribute::Label(l) => label = Some(l.clone()),
                        AddressAttribute::Protocol(p) => protocol = Some(u8::from(*p)),
                        AddressAttribute::CacheInfo(c) if c.ifa_valid != INFINITY_LIFE_TIME => {
                            valid = Lifetime::Seconds(c.ifa_valid)
                        }
                        _ => {}
                    }
                }
                Some(AddrEntry {
                    addr,
                    prefix: a.header.prefix_len,
                    label,
                    protocol,
                    valid,
                })
            })
            .collect())
    }

    fn announce(&self, vip: &VipAddr, form: ArpForm) -> Result<(), VipError> {
        let link = self.link(&vip.interface)?;
        let Some(mac) = link.mac.filter(|_| link.arp) else {
            return Ok(()); // IFF_NOARP or no Ethernet address: nothing to announce
        };
        let sent = match vip.addr {
            IpAddr::V4(v4) => self.packet.send(
                link.index,
                frames::ETHERTYPE_ARP,
                &frames::gratuitous_arp(mac, v4, form),
            ),
            IpAddr::V6(v6) => self.packet.send(
                link.index,
                frames::ETHERTYPE_IPV6,
                &frames::unsolicited_na(mac, v6),
            ),
        };
        sent.map_err(|e| {
            VipError::from_os(
                format!("announce {vip}"),
                Capability::NetRaw,
                &vip.interface,
                e,
            )
        })
    }

    fn watch(&self) -> Result<NetWatch, VipError> {
        watch::spawn().map_err(|e: io::Error| VipError::Kernel {
            operation: "subscribe to address changes".into(),
            source: e,
        })
    }

    fn announced_elsewhere(&self, vip: &VipAddr) -> Result<bool, VipError> {
        let mut msg = RouteMessage::default();
        msg.header.address_family = match vip.addr {
            IpAddr::V4(_) => AddressFamily::Inet,
            IpAddr::V6(_) => AddressFamily::Inet6,
        };
        msg.header.destination_prefix_length = if vip.addr.is_ipv4() { 32 } else { 128 };
        // The FIB entry the lookup matches, not the resolved next hop (`ip route get fibmatch`).
        msg.header.flags = RouteFlags::FibMatch;
        msg.attributes
            .push(RouteAttribute::Destination(vip.addr.into()));
        match self.request(RouteNetlinkMessage::GetRoute(msg), 0) {
            Ok(answers) => Ok(answers.iter().any(|answer| match answer {
                RouteNetlinkMessage::NewRoute(r) => is_foreign_route(r, vip),
                _ => false,
            })),
            // No route at all.
            Err(RequestError::Kernel(e))
                if matches!(
                    e.raw_os_error(),
                    Some(libc::ENETUNREACH | libc::EHOSTUNREACH | libc::ESRCH)
                ) =>
            {
                Ok(false)
            }
            Err(e) => Err(kernel(
                format!("look up the route to {}", vip.addr),
                Capability::NetAdmin,
                &vip.interface,
                e,
            )),
        }
    }

    fn watch_route(&self, vip: &VipAddr) -> Result<RouteWatch, VipError> {
        watch::spawn_route(vip.addr, vip.prefix).map_err(|e: io::Error| VipError::Kernel {
            operation: format!("subscribe to route changes for {}", vip.addr),
            source: e,
        })
    }

    fn watch_arp(&self, vip: &VipAddr) -> Result<Option<ArpWatch>, VipError> {
        let IpAddr::V4(v4) = vip.addr else {
            return Ok(None);
        };
        let link = self.link(&vip.interface)?;
        arpwatch::spawn(link.index, v4).map(Some).map_err(|e| {
            VipError::from_os(
                format!("watch ARP on {}", vip.interface),
                Capability::NetRaw,
                &vip.interface,
                e,
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vip(addr: &str, prefix: u8, iface: &str) -> VipAddr {
        VipAddr::new(addr.parse().unwrap(), prefix, iface).unwrap()
    }

    fn has(msg: &AddressMessage, pred: impl Fn(&AddressAttribute) -> bool) -> bool {
        msg.attributes.iter().any(pred)
    }

    #[test]
    fn ipv4_add_is_labelled_and_tagged() {
        let msg =
            LinuxBackend::add_message(&vip("10.0.0.5", 32, "eth0"), 3, true, Lifetime::Forever);
        assert_eq!(msg.header.family, AddressFamily::Inet);
        assert_eq!((msg.header.prefix_len, msg.header.index), (32, 3));
        assert_eq!(msg.header.scope, AddressScope::Universe);
        assert!(has(&msg, |a| *a
            == AddressAttribute::Local("10.0.0.5".parse().unwrap())));
        assert!(has(&msg, |a| *a
            == AddressAttribute::Label("eth0:warden".into())));
        assert!(has(&msg, |a| *a
            == AddressAttribute::Protocol(AddressProtocol::Other(
                WARDEN_ADDR_PROTO
            ))));
        assert!(!has(&msg, |a| matches!(a, AddressAttribute::Flags(_))));
        let untagged =
            LinuxBackend::add_message(&vip("10.0.0.5", 32, "eth0"), 3, false, Lifetime::Forever);
        assert!(!has(&untagged, |a| matches!(
            a,
            AddressAttribute::Protocol(_)
        )));
    }

    #[test]
    fn ipv6_add_skips_dad_and_is_deprecated_only_for_host_routes() {
        let msg =
            LinuxBackend::add_message(&vip("fd00::5", 128, "eth0"), 3, true, Lifetime::Forever);
        assert_eq!(msg.header.family, AddressFamily::Inet6);
        assert!(msg.header.flags.contains(AddressHeaderFlags::Nodad));
        assert!(has(&msg, |a| *a == AddressAttribute::Flags(AddressFlags::Nodad)));
        assert!(!has(&msg, |a| matches!(a, AddressAttribute::Label(_))));
        assert!(has(&msg, |a| matches!(a, AddressAttribute::CacheInfo(c)
            if c.ifa_preferred == 0 && c.ifa_valid == INFINITY_LIFE_TIME)));
        let subnet =
            LinuxBackend::add_message(&vip("fd00::5", 64, "eth0"), 3, true, Lifetime::Seconds(7));
        assert!(has(&subnet, |a| matches!(a, AddressAttribute::CacheInfo(c)
            if c.ifa_preferred == 7 && c.ifa_valid == 7)));
    }

    #[test]
    fn a_lease_is_the_valid_and_preferred_lifetime() {
        let lifetimes = |lifetime| {
            let msg = LinuxBackend::add_message(&vip("10.0.0.5", 32, "eth0"), 3, true, lifetime);
            msg.attributes.iter().find_map(|a| match a {
                AddressAttribute::CacheInfo(c) => Some((c.ifa_valid, c.ifa_preferred)),
                _ => None,
            })
        };
        assert_eq!(lifetimes(Lifetime::Seconds(3)), Some((3, 3)));
        // The kernel refuses a valid lifetime of 0.
        assert_eq!(lifetimes(Lifetime::Seconds(0)), Some((1, 1)));
        assert_eq!(
            lifetimes(Lifetime::Forever),
            Some((INFINITY_LIFE_TIME, INFINITY_LIFE_TIME))
        );
    }

    #[test]
    fn only_a_daemons_main_table_route_to_the_exact_prefix_counts() {
        let v = vip("10.77.200.10", 32, "lo");
        let route = |dst: &str, len: u8, table: u8, protocol, kind| {
            let mut r = RouteMessage::default();
            r.header.destination_prefix_length = len;
            r.header.table = table;
            r.header.protocol = protocol;
            r.header.kind = kind;
            let dst: IpAddr = dst.parse().unwrap();
            r.attributes.push(RouteAttribute::Destination(dst.into()));
            r
        };
        let main = RouteHeader::RT_TABLE_MAIN;
        let bgp = route(
            "10.77.200.10",
            32,
            main,
            RouteProtocol::Bgp,
            RouteType::Unicast,
        );
        assert!(is_foreign_route(&bgp, &v));
        let bird = route(
            "10.77.200.10",
            32,
            main,
            RouteProtocol::Bird,
            RouteType::Unicast,
        );
        assert!(is_foreign_route(&bird, &v));
        // Our own address (the local table), a covering prefix, the kernel's own route.
        let local = route(
            "10.77.200.10",
            32,
            255,
            RouteProtocol::Kernel,
            RouteType::Local,
        );
        assert!(!is_foreign_route(&local, &v));
        let covering = route(
            "10.77.200.0",
            24,
            main,
            RouteProtocol::Bgp,
            RouteType::Unicast,
        );
        assert!(!is_foreign_route(&covering, &v));
        let kernel = route(
            "10.77.200.10",
            32,
            main,
            RouteProtocol::Kernel,
            RouteType::Unicast,
        );
        assert!(!is_foreign_route(&kernel, &v));
        let mut in_vrf = bgp.clone();
        in_vrf.attributes.push(RouteAttribute::Table(1000));
        assert!(!is_foreign_route(&in_vrf, &v));
    }

    #[test]
    fn address_of_prefers_local() {
        let mut msg = AddressMessage::default();
        assert_eq!(address_of(&msg), None);
        msg.attributes
            .push(AddressAttribute::Address("10.0.0.9".parse().unwrap()));
        assert_eq!(address_of(&msg), Some("10.0.0.9".parse().unwrap()));
        msg.attributes
            .push(AddressAttribute::Local("10.0.0.5".parse().unwrap()));
        assert_eq!(address_of(&msg), Some("10.0.0.5".parse().unwrap()));
    }
}
