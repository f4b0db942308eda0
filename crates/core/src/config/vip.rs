//! Warden's VIP directives: defaults, the option names shared by the config file and
//! `SENTINEL SET`, and their validation.
//!
//! File syntax (per master, after its `monitor` line in the loading order):
//! `sentinel vip <master> <addr>[/<prefix>] <interface> [arp|routed]` then optional
//! `sentinel vip-garp-count|vip-garp-interval|vip-garp-repeat|vip-garp-refresh|vip-lease <master> <n>`
//! and `sentinel vip-mode <master> arp|routed` (the `SENTINEL SET` form of the mode word).
//!
//! The mode says how clients find the address: `arp` (the default) announces it on the
//! interface's segment by gratuitous ARP / unsolicited NA; `routed` only puts it on the
//! interface (a dummy or loopback one) for a routing daemon to announce by BGP, so it must be
//! a host address (/32 or /128).
//!
//! The lease default is [`LEASE_DOWN_AFTER_FACTOR`] × the master's `down-after-milliseconds`
//! *as finally configured by the whole file* (resolved after all lines are loaded, so the
//! result does not depend on the order of the `vip` and `down-after-milliseconds` lines). The
//! rewrite omits `vip-lease` exactly when it equals that product.

use super::tokenize::string2ll;
use super::VipConfig;
use std::net::IpAddr;

/// Default `vip-garp-count`: frames per burst.
pub const GARP_COUNT: u32 = 5;
/// Default `vip-garp-interval`: ms between frames in a burst.
pub const GARP_INTERVAL_MS: u64 = 200;
/// Default `vip-garp-repeat`: ms before the second burst.
pub const GARP_REPEAT_MS: u64 = 2_000;
/// Default `vip-garp-refresh`: ms between refresh bursts while held (0 = off).
pub const GARP_REFRESH_MS: u64 = 60_000;
/// Default `vip-lease` = this factor × the master's `down-after-milliseconds`.
pub const LEASE_DOWN_AFTER_FACTOR: u64 = 1;
/// Largest accepted `vip-garp-count`.
pub const GARP_COUNT_MAX: u32 = 100;

/// Error: an option line for a master without a `vip` line before it.
pub const ERR_NO_VIP: &str = "No VIP configured for this master.";
/// Error: a second `vip` line for the same master.
pub const ERR_DUPLICATE_VIP: &str = "Duplicate VIP for this master.";
/// Error: the address is not an IPv4/IPv6 literal.
pub const ERR_ADDR: &str = "Invalid VIP address.";
/// Error: the prefix length is not a number within the address family's range.
pub const ERR_PREFIX: &str = "Invalid VIP prefix length.";
/// Error: not a valid Linux interface name.
pub const ERR_INTERFACE: &str = "Invalid VIP interface name.";
/// Error: the option value is not a decimal integer.
pub const ERR_VALUE: &str = "Invalid VIP option value.";
/// Error: `vip-garp-count` out of 1..=[`GARP_COUNT_MAX`].
pub const ERR_COUNT: &str = "vip-garp-count must be between 1 and 100.";
/// Error: the mode word is neither `arp` nor `routed`.
pub const ERR_MODE: &str = "Invalid VIP mode (use arp or routed).";
/// Error: a routed VIP with a prefix shorter than a host route.
pub const ERR_ROUTED_PREFIX: &str = "A routed VIP must be a host address (/32 or /128).";
/// Error: a time that must be positive is not (Redis's wording).
pub const ERR_NOT_POSITIVE: &str = "negative or zero time parameter.";

/// How clients reach a VIP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VipMode {
    /// On the interface's layer-2 segment, announced by gratuitous ARP / unsolicited NA, and
    /// watched for conflicting claims.
    #[default]
    Arp,
    /// On a local (dummy or loopback) interface as a host route, which a routing daemon on the
    /// node (FRR, BIRD) redistributes by BGP; nothing is sent on any segment.
    Routed,
}

impl VipMode {
    /// The word in the config file, `SENTINEL SET`, `SENTINEL VIP` and INFO.
    pub fn as_str(self) -> &'static str {
        match self {
            VipMode::Arp => "arp",
            VipMode::Routed => "routed",
        }
    }

    /// Parses a mode word (case-insensitive).
    pub fn parse(word: &str) -> Result<VipMode, &'static str> {
        [VipMode::Arp, VipMode::Routed]
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(word))
            .ok_or(ERR_MODE)
    }
}

/// A per-master VIP option (everything but the `vip` line itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VipOption {
    /// `vip-garp-count`.
    GarpCount,
    /// `vip-garp-interval`.
    GarpInterval,
    /// `vip-garp-repeat`.
    GarpRepeat,
    /// `vip-garp-refresh`.
    GarpRefresh,
    /// `vip-lease`.
    Lease,
}

impl VipOption {
    /// All options, in the order the rewrite writes them.
    pub const ALL: [VipOption; 5] = [
        VipOption::GarpCount,
        VipOption::GarpInterval,
        VipOption::GarpRepeat,
        VipOption::GarpRefresh,
        VipOption::Lease,
    ];

    /// The directive / `SENTINEL SET` name.
    pub fn name(self) -> &'static str {
        match self {
            VipOption::GarpCount => "vip-garp-count",
            VipOption::GarpInterval => "vip-garp-interval",
            VipOption::GarpRepeat => "vip-garp-repeat",
            VipOption::GarpRefresh => "vip-garp-refresh",
            VipOption::Lease => "vip-lease",
        }
    }

    /// Looks an option up by name (case-insensitive).
    pub fn from_name(name: &str) -> Option<VipOption> {
        VipOption::ALL
            .into_iter()
            .find(|o| o.name().eq_ignore_ascii_case(name))
    }
}

/// Parses `<addr>[/<prefix>]`; a bare address means a host route (/32 or /128).
pub fn parse_vip_addr(s: &str) -> Result<(IpAddr, u8), &'static str> {
    let (addr, prefix) = match s.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (s, None),
    };
    let addr: IpAddr = addr.parse().map_err(|_| ERR_ADDR)?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let prefix = match prefix {
        None => max,
        Some(p) => match string2ll(p) {
            Some(n) if (1..=i64::from(max)).contains(&n) => n as u8,
            _ => return Err(ERR_PREFIX),
        },
    };
    Ok((addr, prefix))
}

/// Checks a Linux interface name (1–15 bytes, no `/`, no blanks, not `.` or `..`).
pub fn check_interface(name: &str) -> Result<(), &'static str> {
    let ok = (1..=15).contains(&name.len())
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|b| b > b' ' && b != b'/' && b != b':' && b < 0x7f);
    if ok {
        Ok(())
    } else {
        Err(ERR_INTERFACE)
    }
}

impl VipConfig {
    /// A VIP with every option at its default; the lease from `down_after_ms`.
    pub fn new(addr: IpAddr, prefix: u8, interface: &str, down_after_ms: u64) -> Self {
        VipConfig {
            addr,
            prefix,
            interface: interface.to_string(),
            garp_count: GARP_COUNT,
            garp_interval_ms: GARP_INTERVAL_MS,
            garp_repeat_delay_ms: GARP_REPEAT_MS,
            garp_refresh_ms: GARP_REFRESH_MS,
            lease_ms: Self::default_lease(down_after_ms),
            mode: VipMode::Arp,
        }
    }

    /// Whether the prefix covers only the address (/32 or /128).
    pub fn is_host_route(&self) -> bool {
        self.prefix == if self.addr.is_ipv4() { 32 } else { 128 }
    }

    /// Sets the mode: a routed VIP must be a host route.
    pub fn set_mode(&mut self, mode: VipMode) -> Result<(), &'static str> {
        if mode == VipMode::Routed && !self.is_host_route() {
            return Err(ERR_ROUTED_PREFIX);
        }
        self.mode = mode;
        Ok(())
    }

    /// The default lease for a master with this `down-after-milliseconds`.
    pub fn default_lease(down_after_ms: u64) -> u64 {
        down_after_ms.saturating_mul(LEASE_DOWN_AFTER_FACTOR)
    }

    /// `<addr>` for a host route, `<addr>/<prefix>` otherwise (as written in the file).
    pub fn addr_spec(&self) -> String {
        if self.is_host_route() {
            self.addr.to_string()
        } else {
            format!("{}/{}", self.addr, self.prefix)
        }
    }

    /// Current value of an option.
    pub fn option(&self, opt: VipOption) -> u64 {
        match opt {
            VipOption::GarpCount => u64::from(self.garp_count),
            VipOption::GarpInterval => self.garp_interval_ms,
            VipOption::GarpRepeat => self.garp_repeat_delay_ms,
            VipOption::GarpRefresh => self.garp_refresh_ms,
            VipOption::Lease => self.lease_ms,
        }
    }

    /// The value the option has when not configured, for a master with `down_after_ms`.
    pub fn option_default(opt: VipOption, down_after_ms: u64) -> u64 {
        match opt {
            VipOption::GarpCount => u64::from(GARP_COUNT),
            VipOption::GarpInterval => GARP_INTERVAL_MS,
            VipOption::GarpRepeat => GARP_REPEAT_MS,
            VipOption::GarpRefresh => GARP_REFRESH_MS,
            VipOption::Lease => Self::default_lease(down_after_ms),
        }
    }

    /// Validates and applies an option value given as text (file or `SENTINEL SET`).
    /// Count: 1..=100; interval and lease: > 0 ms; repeat and refresh: ≥ 0 ms (0 = off).
    pub fn set_option(&mut self, opt: VipOption, value: &str) -> Result<(), &'static str> {
        let n = string2ll(value).ok_or(ERR_VALUE)?;
        match opt {
            VipOption::GarpCount => {
                if !(1..=i64::from(GARP_COUNT_MAX)).contains(&n) {
                    return Err(ERR_COUNT);
                }
                self.garp_count = n as u32;
            }
            VipOption::GarpInterval | VipOption::Lease => {
                if n <= 0 {
                    return Err(ERR_NOT_POSITIVE);
                }
                if opt == VipOption::Lease {
                    self.lease_ms = n as u64;
                } else {
                    self.garp_interval_ms = n as u64;
                }
            }
            VipOption::GarpRepeat | VipOption::GarpRefresh => {
                if n < 0 {
                    return Err("negative time parameter.");
                }
                if opt == VipOption::GarpRepeat {
                    self.garp_repeat_delay_ms = n as u64;
                } else {
                    self.garp_refresh_ms = n as u64;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        assert_eq!(
            parse_vip_addr("10.0.0.5"),
            Ok(("10.0.0.5".parse().unwrap(), 32))
        );
        assert_eq!(
            parse_vip_addr("10.0.0.5/24"),
            Ok(("10.0.0.5".parse().unwrap(), 24))
        );
        assert_eq!(
            parse_vip_addr("fd00::5"),
            Ok(("fd00::5".parse().unwrap(), 128))
        );
        assert_eq!(
            parse_vip_addr("fd00::5/64"),
            Ok(("fd00::5".parse().unwrap(), 64))
        );
        assert_eq!(parse_vip_addr("10.0.0.5/33"), Err(ERR_PREFIX));
        assert_eq!(parse_vip_addr("10.0.0.5/0"), Err(ERR_PREFIX));
        assert_eq!(parse_vip_addr("10.0.0.5/"), Err(ERR_PREFIX));
        assert_eq!(parse_vip_addr("vip.example"), Err(ERR_ADDR));
        assert_eq!(check_interface("eth0"), Ok(()));
        assert_eq!(check_interface("a-very-long-interface"), Err(ERR_INTERFACE));
        assert_eq!(check_interface("a/b"), Err(ERR_INTERFACE));
    }

    #[test]
    fn options() {
        let mut v = VipConfig::new("10.0.0.5".parse().unwrap(), 32, "eth0", 5000);
        assert_eq!(v.lease_ms, 5_000);
        assert_eq!(v.addr_spec(), "10.0.0.5");
        assert_eq!(v.set_option(VipOption::GarpCount, "0"), Err(ERR_COUNT));
        assert_eq!(v.set_option(VipOption::GarpCount, "x"), Err(ERR_VALUE));
        assert_eq!(
            v.set_option(VipOption::GarpInterval, "0"),
            Err(ERR_NOT_POSITIVE)
        );
        assert_eq!(
            v.set_option(VipOption::GarpRefresh, "-1"),
            Err("negative time parameter.")
        );
        v.set_option(VipOption::GarpRefresh, "0").unwrap();
        v.set_option(VipOption::Lease, "9000").unwrap();
        assert_eq!((v.garp_refresh_ms, v.lease_ms), (0, 9000));
        assert_eq!(VipOption::from_name("VIP-LEASE"), Some(VipOption::Lease));
    }

    #[test]
    fn modes() {
        assert_eq!(VipMode::parse("ROUTED"), Ok(VipMode::Routed));
        assert_eq!(VipMode::parse("arp"), Ok(VipMode::Arp));
        assert_eq!(VipMode::parse("bgp"), Err(ERR_MODE));
        let mut v = VipConfig::new("10.0.0.5".parse().unwrap(), 24, "eth0", 5000);
        assert_eq!(v.mode, VipMode::Arp);
        assert_eq!(v.set_mode(VipMode::Routed), Err(ERR_ROUTED_PREFIX));
        let mut v = VipConfig::new("fd00::5".parse().unwrap(), 128, "vip0", 5000);
        assert_eq!(v.set_mode(VipMode::Routed), Ok(()));
        assert_eq!(v.mode, VipMode::Routed);
    }
}
