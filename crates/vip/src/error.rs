//! Errors of VIP operations, with the missing-capability case spelled out for operators.

use std::fmt;
use std::io;

/// A Linux capability a VIP operation needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capability {
    /// `CAP_NET_ADMIN`: add and remove interface addresses over netlink.
    NetAdmin,
    /// `CAP_NET_RAW`: open the AF_PACKET socket that sends gratuitous ARP / unsolicited NA.
    NetRaw,
}

impl Capability {
    /// The bit of this capability in `/proc/<pid>/status` `CapEff` (from `linux/capability.h`).
    pub(crate) fn bit(self) -> u32 {
        match self {
            Capability::NetAdmin => 12,
            Capability::NetRaw => 13,
        }
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Capability::NetAdmin => "CAP_NET_ADMIN",
            Capability::NetRaw => "CAP_NET_RAW",
        })
    }
}

/// Why a VIP operation failed.
#[derive(Debug)]
pub enum VipError {
    /// The process lacks capabilities the operation needs (the kernel answered EPERM, or the
    /// pre-flight check found them missing from the effective set).
    MissingCapabilities {
        /// Every capability known to be missing.
        missing: Vec<Capability>,
        /// What was being attempted, e.g. `add 10.0.0.5/32 on eth0`.
        operation: String,
    },
    /// The configured interface does not exist (in this network namespace).
    NoSuchInterface(String),
    /// The VIP settings are unusable (prefix out of range, bad interface name...).
    InvalidConfig(String),
    /// The kernel refused or the socket failed.
    Kernel {
        /// What was being attempted.
        operation: String,
        /// The OS error.
        source: io::Error,
    },
    /// A netlink answer could not be decoded or did not match the request.
    Protocol(String),
}

impl VipError {
    /// Classifies an OS error from `operation`: EPERM/EACCES become
    /// [`VipError::MissingCapabilities`] naming `needs`, ENODEV names the interface.
    pub(crate) fn from_os(
        operation: String,
        needs: Capability,
        interface: &str,
        source: io::Error,
    ) -> VipError {
        match source.raw_os_error() {
            Some(libc::EPERM) | Some(libc::EACCES) => VipError::MissingCapabilities {
                missing: vec![needs],
                operation,
            },
            Some(libc::ENODEV) => VipError::NoSuchInterface(interface.to_string()),
            _ => VipError::Kernel { operation, source },
        }
    }

    /// True when the error means "the process is not allowed to do this".
    pub fn is_permission(&self) -> bool {
        matches!(self, VipError::MissingCapabilities { .. })
    }
}

impl fmt::Display for VipError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VipError::MissingCapabilities { missing, operation } => {
                let names: Vec<String> = missing.iter().map(|c| c.to_string()).collect();
                write!(
                    f,
                    "cannot {operation}: missing capability {} (run as root or grant \
                     AmbientCapabilities=CAP_NET_ADMIN CAP_NET_RAW; see docs/vip.md)",
                    names.join(" and ")
                )
            }
            VipError::NoSuchInterface(name) => write!(f, "no such interface: {name}"),
            VipError::InvalidConfig(why) => write!(f, "invalid VIP configuration: {why}"),
            VipError::Kernel { operation, source } => write!(f, "cannot {operation}: {source}"),
            VipError::Protocol(why) => write!(f, "netlink protocol error: {why}"),
        }
    }
}

impl std::error::Error for VipError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            VipError::Kernel { source, .. } => Some(source),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eperm_names_the_capability() {
        let e = VipError::from_os(
            "add 10.0.0.5/32 on eth0".into(),
            Capability::NetAdmin,
            "eth0",
            io::Error::from_raw_os_error(libc::EPERM),
        );
        assert!(e.is_permission());
        let text = e.to_string();
        assert!(
            text.starts_with("cannot add 10.0.0.5/32 on eth0: missing capability CAP_NET_ADMIN")
        );
    }

    #[test]
    fn enodev_names_the_interface() {
        let e = VipError::from_os(
            "add".into(),
            Capability::NetAdmin,
            "eth9",
            io::Error::from_raw_os_error(libc::ENODEV),
        );
        assert_eq!(e.to_string(), "no such interface: eth9");
    }

    #[test]
    fn other_errors_keep_the_os_text() {
        let e = VipError::from_os(
            "send ARP".into(),
            Capability::NetRaw,
            "eth0",
            io::Error::from_raw_os_error(libc::ENETDOWN),
        );
        assert!(!e.is_permission());
        assert!(e.to_string().starts_with("cannot send ARP: "));
    }
}
