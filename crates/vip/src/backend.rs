//! The kernel-facing interface ([`VipBackend`]) and the values it exchanges.

use crate::error::VipError;
use crate::frames::{ArpForm, Mac};
use std::fmt;
use std::net::IpAddr;

/// Longest interface name or IPv4 address label the kernel accepts (IFNAMSIZ - 1).
pub const MAX_NAME_LEN: usize = 15;

/// Suffix of the IPv4 address label Warden puts on its VIPs (`<iface>:warden`).
pub const LABEL_SUFFIX: &str = ":warden";

/// The `IFA_PROTO` value Warden tags its addresses with (kernel ≥ 5.18; older kernels ignore
/// it). 0x57 is ASCII `W`; name it for `ip` with `echo "87 warden" >> /etc/iproute2/rt_addrprotos`.
pub const WARDEN_ADDR_PROTO: u8 = 0x57;

/// A virtual address on one interface.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VipAddr {
    /// The address.
    pub addr: IpAddr,
    /// Prefix length: /32 or /128 is the recommended form (no subnet route, never a
    /// "secondary" address).
    pub prefix: u8,
    /// Interface name.
    pub interface: String,
}

impl VipAddr {
    /// Validates and builds a VIP: prefix within the family's range, a plausible interface
    /// name, and a unicast address.
    pub fn new(addr: IpAddr, prefix: u8, interface: &str) -> Result<VipAddr, VipError> {
        let max = if addr.is_ipv4() { 32 } else { 128 };
        if prefix == 0 || prefix > max {
            return Err(VipError::InvalidConfig(format!(
                "prefix /{prefix} is out of range for {addr} (1..={max})"
            )));
        }
        if interface.is_empty()
            || interface.len() > MAX_NAME_LEN
            || interface.contains(['/', ' ', ':'])
        {
            return Err(VipError::InvalidConfig(format!(
                "bad interface name {interface:?}"
            )));
        }
        if addr.is_multicast() || addr.is_unspecified() || addr.is_loopback() {
            return Err(VipError::InvalidConfig(format!(
                "{addr} cannot be a virtual IP"
            )));
        }
        Ok(VipAddr {
            addr,
            prefix,
            interface: interface.to_string(),
        })
    }

    /// The IPv4 label to set: `<iface>:warden` when it fits in 15 characters, the plain
    /// interface name otherwise (an IPv4 label must start with the interface name). IPv6
    /// addresses carry no label.
    pub fn label(&self) -> Option<String> {
        if !self.addr.is_ipv4() {
            return None;
        }
        let label = format!("{}{}", self.interface, LABEL_SUFFIX);
        Some(if label.len() <= MAX_NAME_LEN {
            label
        } else {
            self.interface.clone()
        })
    }
}

impl fmt::Display for VipAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{} on {}", self.addr, self.prefix, self.interface)
    }
}

/// What the kernel says about an interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkInfo {
    /// Interface index.
    pub index: u32,
    /// Hardware address, if the link has a 6-byte one.
    pub mac: Option<Mac>,
    /// False for `IFF_NOARP` links (nothing is announced on them).
    pub arp: bool,
    /// `IFF_UP` is set.
    pub up: bool,
}

/// How long the kernel keeps an address by itself (its `IFA_CACHEINFO` valid lifetime): the
/// kernel counts in whole seconds and removes the address when they run out, whether or not any
/// process is left to do it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifetime {
    /// No end (a permanent address).
    Forever,
    /// This many seconds from now (at least 1: the kernel refuses 0).
    Seconds(u32),
}

/// One address assigned to an interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddrEntry {
    /// The address.
    pub addr: IpAddr,
    /// Its prefix length.
    pub prefix: u8,
    /// IPv4 label, if any.
    pub label: Option<String>,
    /// `IFA_PROTO`, if reported.
    pub protocol: Option<u8>,
    /// What is left of its valid lifetime.
    pub valid: Lifetime,
}

/// Whether a mutating operation changed anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// The kernel state changed.
    Applied,
    /// It already was that way (address present on add, absent on remove).
    Unchanged,
}

/// An address or carrier change seen on the netlink multicast groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetEvent {
    /// `RTM_NEWADDR`: an address appeared (or its attributes changed).
    Added {
        /// Interface index.
        index: u32,
        /// The address.
        addr: IpAddr,
        /// Its prefix length.
        prefix: u8,
    },
    /// `RTM_DELADDR`: an address disappeared.
    Removed {
        /// Interface index.
        index: u32,
        /// The address.
        addr: IpAddr,
        /// Its prefix length.
        prefix: u8,
    },
    /// `RTM_NEWLINK`/`RTM_DELLINK`: the link's state as of this notice (sent on every link
    /// change, not only carrier transitions).
    Link {
        /// Interface index.
        index: u32,
        /// Administratively up and carrier present (`IFF_UP` and `IFF_LOWER_UP`).
        carrier: bool,
    },
    /// The socket overran (ENOBUFS): events were lost; re-read the state with `list`.
    Lost,
}

impl NetEvent {
    /// The address concerned, or `None` for link events and [`NetEvent::Lost`].
    pub fn addr(&self) -> Option<IpAddr> {
        match self {
            NetEvent::Added { addr, .. } | NetEvent::Removed { addr, .. } => Some(*addr),
            NetEvent::Link { .. } | NetEvent::Lost => None,
        }
    }
}

/// The stream of changes returned by [`VipBackend::watch`]; it ends when the watch
/// fails, and the watch stops when the receiver is dropped.
pub type NetWatch = tokio::sync::mpsc::UnboundedReceiver<NetEvent>;

/// The hardware addresses of the ARP messages (requests, replies, gratuitous ones) whose sender
/// claims a VIP, from [`VipBackend::watch_arp`]; the watch stops when the receiver is dropped.
pub type ArpWatch = tokio::sync::mpsc::UnboundedReceiver<Mac>;

/// A signal each time the routing table's entry for a routed VIP's prefix may have changed,
/// from [`VipBackend::watch_route`]; the watch stops when the receiver is dropped.
pub type RouteWatch = tokio::sync::mpsc::UnboundedReceiver<()>;

/// Kernel operations on virtual addresses.
///
/// Every call is synchronous and quick (one netlink round trip or one `sendto`), so the async
/// [`crate::VipManager`] calls them inline. Timing (bursts, repeats, refresh) belongs to the
/// manager, not to the backend. Killing Redis clients connected through the VIP is done by the
/// driver over RESP (`CLIENT KILL LADDR`), not here.
pub trait VipBackend: Send + Sync {
    /// Looks up an interface by name.
    fn link(&self, interface: &str) -> Result<LinkInfo, VipError>;

    /// Adds the address (`RTM_NEWADDR`; IPv4 labelled `<iface>:warden`, tagged with
    /// [`WARDEN_ADDR_PROTO`], IPv6 with `IFA_F_NODAD`) with the valid `lifetime`. Present
    /// already → `Unchanged` (its lifetime untouched).
    fn add(&self, vip: &VipAddr, lifetime: Lifetime) -> Result<Change, VipError>;

    /// Sets the valid lifetime of the address, counted from now (`RTM_NEWADDR` with
    /// `NLM_F_REPLACE`; the kernel adds the address if it is gone).
    fn renew(&self, vip: &VipAddr, lifetime: Lifetime) -> Result<(), VipError>;

    /// Removes the address (`RTM_DELADDR`) with the given prefix. Absent, or the interface
    /// gone → `Unchanged`.
    fn remove(&self, vip: &VipAddr) -> Result<Change, VipError>;

    /// Lists the addresses on an interface.
    fn list(&self, interface: &str) -> Result<Vec<AddrEntry>, VipError>;

    /// Sends one announcement: a gratuitous ARP of the given form for IPv4, an unsolicited
    /// neighbour advertisement for IPv6 (`form` is ignored). Nothing is sent on `IFF_NOARP`
    /// links.
    fn announce(&self, vip: &VipAddr, form: ArpForm) -> Result<(), VipError>;

    /// Subscribes to address changes (IPv4 and IPv6) and link changes. Must be called inside
    /// a tokio runtime.
    fn watch(&self) -> Result<NetWatch, VipError>;

    /// Watches the ARP messages on the VIP's interface whose sender address is the VIP (an IPv4
    /// VIP only: `None` for IPv6). Must be called inside a tokio runtime.
    fn watch_arp(&self, vip: &VipAddr) -> Result<Option<ArpWatch>, VipError>;

    /// Whether the main routing table routes exactly the VIP's prefix by a route that is not
    /// the kernel's own (a routing daemon installed it: another node announces a routed VIP;
    /// while this node holds the VIP its local address takes precedence and this is false).
    fn announced_elsewhere(&self, vip: &VipAddr) -> Result<bool, VipError>;

    /// Signals every route change for exactly the VIP's prefix (and a lost notice, when the
    /// subscription overran), for [`VipBackend::announced_elsewhere`] to be asked again. Must
    /// be called inside a tokio runtime.
    fn watch_route(&self, vip: &VipAddr) -> Result<RouteWatch, VipError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(iface: &str) -> VipAddr {
        VipAddr::new("10.1.2.3".parse().unwrap(), 32, iface).unwrap()
    }

    #[test]
    fn label_is_iface_colon_warden() {
        assert_eq!(v4("eth0").label().as_deref(), Some("eth0:warden"));
        assert_eq!(v4("enp0s31f6").label().as_deref(), Some("enp0s31f6"));
        assert_eq!(v4("wdn1n1a").label().as_deref(), Some("wdn1n1a:warden"));
        assert_eq!(v4("12345678").label().as_deref(), Some("12345678:warden"));
        assert_eq!(v4("123456789").label().as_deref(), Some("123456789"));
    }

    #[test]
    fn ipv6_has_no_label() {
        let v = VipAddr::new("fd00::1".parse().unwrap(), 128, "eth0").unwrap();
        assert_eq!(v.label(), None);
    }

    #[test]
    fn validation() {
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        assert!(VipAddr::new(a, 33, "eth0").is_err());
        assert!(VipAddr::new(a, 0, "eth0").is_err());
        assert!(VipAddr::new(a, 24, "").is_err());
        assert!(VipAddr::new(a, 24, "eth0:1").is_err());
        assert!(VipAddr::new(a, 24, "averyveryverylongname").is_err());
        assert!(VipAddr::new("224.0.0.1".parse().unwrap(), 32, "eth0").is_err());
        assert!(VipAddr::new("::1".parse().unwrap(), 128, "eth0").is_err());
        assert!(VipAddr::new("fd00::1".parse().unwrap(), 128, "eth0").is_ok());
        assert_eq!(
            VipAddr::new(a, 24, "eth0").unwrap().to_string(),
            "10.0.0.1/24 on eth0"
        );
    }
}
